/** Which folder a release goes to (or which whole one it reuses), and when `latest` moves to it. */
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '../core/errors';
import { ReleaseError } from './errors';
import { assertReleaseId, isReleaseId, pointLatest, readLatest, readManifest, type ReleaseInfo } from './layout';

/** Picks the folder: an existing whole release of the same cutoff is reused; otherwise the first free name. */
export async function chooseRelease(releasesDir: string, existing: ReleaseInfo[], cutoff: string, requested?: string): Promise<{ id: string; reuse?: ReleaseInfo }> {
  if (requested !== undefined) {
    assertReleaseId(requested);
    const manifest = await readManifest(join(releasesDir, requested)).catch(() => undefined);
    const taken = manifest !== undefined || (await fs.stat(join(releasesDir, requested)).then(() => true, () => false));
    if (!taken) return { id: requested };
    if (manifest?.cutoff === cutoff) return { id: requested, reuse: { id: requested, dir: join(releasesDir, requested), manifest } };
    throw new ReleaseError(ErrorCode.ReleaseConflict, `release "${requested}" already exists with another cutoff (${manifest?.cutoff ?? 'none'})`);
  }
  const same = existing.find((r) => r.manifest.cutoff === cutoff);
  if (same) return { id: same.id, reuse: same };
  const names = new Set(await fs.readdir(releasesDir));
  const base = cutoff.slice(0, 10);
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!names.has(id)) return { id };
  }
}

/** Moves `latest` here unless it already points at a release with a later cutoff (a backfill). */
export async function maybePointLatest(releasesDir: string, id: string, cutoff: string, nonce: string): Promise<boolean> {
  const current = await readLatest(releasesDir);
  if (current === id) return true;
  const currentManifest = current !== undefined && isReleaseId(current) ? await readManifest(join(releasesDir, current)).catch(() => undefined) : undefined;
  if (currentManifest && currentManifest.cutoff > cutoff) return false;
  await pointLatest(releasesDir, id, nonce);
  return true;
}
