/** Why a release could not be published: bad input, an id taken by another cutoff, or a corrupt existing release. Retrying cannot help. */

export type ReleaseErrorCode = 'release_invalid' | 'release_conflict' | 'release_corrupt';

export class ReleaseError extends Error {
  constructor(readonly code: ReleaseErrorCode, message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}
