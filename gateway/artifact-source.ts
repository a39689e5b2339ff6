/** Read access to content-addressed artifacts (candidate images/texts) for the gateway; backed by the artifact store. */
export interface ArtifactSource {
  /** undefined if no artifact has this digest. `sha256` is already validated as 64 lowercase hex characters. */
  open(sha256: string): Promise<{ mime: string; size: number; bytes: Buffer } | undefined>;
}
