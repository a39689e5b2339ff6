import { PreflineError, type ErrorCode } from '../core/errors';

export type ReleaseErrorCode = (typeof ErrorCode)['ReleaseInvalid' | 'ReleaseConflict' | 'ReleaseCorrupt'];

/** Why a release could not be published: bad input, an id taken by another cutoff, or a corrupt existing release. Retrying cannot help. */
export class ReleaseError extends PreflineError {
  declare readonly code: ReleaseErrorCode;
  constructor(code: ReleaseErrorCode, message: string) {
    super(code, message);
  }
}
