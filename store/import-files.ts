/**
 * Bringing files into the artifact store, for brought candidates (activities/ingest.ts) and
 * `prefline import` (cli/import.ts): reading a file under the import root without ever leaving it,
 * and storing bytes as a candidate's artifact once their kind is known from the bytes themselves.
 *
 * A `file:` path must stay under the root: the path is checked as written (relative, no `..`), and the
 * file's real path (symbolic links resolved) must be inside the root's real path; the last component is
 * opened without following a link, and must be a regular file no larger than the cap.
 */
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from '../core/files';
import type { ArtifactRef, CandidateKind } from '../workflows/types';
import { importPathProblem } from '../workflows/brought-candidates';
import type { ArtifactStore } from './ArtifactStore';
import { ImportRefusedError } from './import-errors';
import { decodeText, sniffMedia, type MediaType } from './media-type';

export interface StoredFile {
  artifact: ArtifactRef;
  kind: CandidateKind;
  /** The text of a text file. */
  text?: string;
}

/**
 * The bytes of `relativePath` under `root`, refused (ImportRefusedError) if the path or a link in it
 * leads out of the root, if it is not a regular file, or if it is larger than `maxBytes`.
 */
export async function readUnderRoot(root: string, relativePath: string, maxBytes: number): Promise<Uint8Array> {
  const problem = importPathProblem(relativePath);
  if (problem) throw new ImportRefusedError(`file:${relativePath}: the path ${problem}`);
  let realRoot: string;
  try {
    realRoot = await fs.realpath(root);
  } catch (err) {
    throw new ImportRefusedError(`the import root ${root} cannot be read (${errnoCode(err) ?? String(err)}); check PREFLINE_IMPORT_ROOT on the inference workers`, { cause: err });
  }
  let real: string;
  try {
    real = await fs.realpath(path.join(realRoot, ...relativePath.split('/')));
  } catch (err) {
    throw new ImportRefusedError(`file:${relativePath}: no such file under the import root`, { cause: err });
  }
  const inside = path.relative(realRoot, real);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new ImportRefusedError(`file:${relativePath}: leads out of the import root (through a symbolic link)`);
  }
  return readCapped(real, maxBytes, `file:${relativePath}`);
}

/** Reads a regular file (not through a link in its last component) of at most `maxBytes`. */
export async function readCapped(file: string, maxBytes: number, name: string): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new ImportRefusedError(`${name}: cannot be opened (${errnoCode(err) ?? String(err)})`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ImportRefusedError(`${name}: is not a regular file`);
    if (stat.size > maxBytes) throw new ImportRefusedError(`${name}: ${stat.size} bytes is larger than the cap of ${maxBytes} bytes (PREFLINE_DOWNLOAD_MAX_BYTES)`);
    // One byte past the cap tells a file that grew since the stat.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new ImportRefusedError(`${name}: is larger than the cap of ${maxBytes} bytes (PREFLINE_DOWNLOAD_MAX_BYTES)`);
      if (length === buffer.length) break;
    }
    return new Uint8Array(buffer.subarray(0, length));
  } finally {
    await handle.close();
  }
}

/** Bytes checked to be a candidate, not stored yet. */
export interface CheckedFile {
  bytes: Uint8Array;
  media: MediaType;
}

/**
 * Checks that `bytes` are a candidate of the kind they are (an image or a UTF-8 text), and of the kind
 * or type `expect`ed; refused (ImportRefusedError) otherwise. Nothing is stored.
 */
export function checkCandidateFile(bytes: Uint8Array, name: string, expect: { kind?: CandidateKind; mime?: string } = {}): CheckedFile {
  const media: MediaType | undefined = sniffMedia(bytes);
  if (!media) throw new ImportRefusedError(`${name}: is neither an image (PNG, JPEG, GIF, WebP) nor UTF-8 text`);
  if (expect.kind !== undefined && media.kind !== expect.kind) throw new ImportRefusedError(`${name}: is ${media.kind === 'image' ? 'an image' : 'a text'}, not ${expect.kind === 'image' ? 'an image' : 'a text'} as given`);
  if (expect.mime !== undefined && media.mime !== expect.mime) throw new ImportRefusedError(`${name}: its bytes are ${media.mime}, not ${expect.mime} as its name says`);
  return { bytes, media };
}

/** Stores a checked file content-addressed (the same bytes are stored once). */
export async function storeCheckedFile(artifacts: ArtifactStore, { bytes, media }: CheckedFile): Promise<StoredFile> {
  const artifact = await artifacts.put(bytes, media.mime);
  return { artifact, kind: media.kind, ...(media.kind === 'text' ? { text: decodeText(bytes) as string } : {}) };
}

/**
 * Stores `bytes` content-addressed (the same bytes are stored once) as a candidate of the kind they
 * are; refuses bytes that are no image or text, or not of the kind or type `expect`ed.
 */
export async function storeCandidateFile(
  artifacts: ArtifactStore,
  bytes: Uint8Array,
  name: string,
  expect: { kind?: CandidateKind; mime?: string } = {},
): Promise<StoredFile> {
  return storeCheckedFile(artifacts, checkCandidateFile(bytes, name, expect));
}
