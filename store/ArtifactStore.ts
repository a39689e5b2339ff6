/**
 * Content-addressed artifact store on the local filesystem, shared by inference workers (which
 * `put`) and the gateway (which serves `/artifacts/<sha256>`).
 *
 * Layout: `<root>/sha256/<first 2 hex>/<hex>.<ext>` plus a sidecar `<hex>.meta.json`
 * (`{sha256, mime, size, createdAt}`). The sidecar is the commit marker: an artifact exists once
 * its sidecar does, and a sidecar is created exactly once (hard link, no clobber), so concurrent
 * writers in different processes agree on one record. The sidecar is not `<hex>.json` because
 * that is the data file's own name for `application/json` artifacts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCode, InvalidParamsError, PreflineError } from '../core/errors';
import type { ArtifactRef } from '../workflows/types';
import { errnoCode, writeFileAtomic as writeAtomic } from '../core/files';

/** The sidecar record. */
export interface ArtifactMeta {
  sha256: string;
  mime: string;
  size: number;
  createdAt: string;
}

/** The read asked for an artifact the store does not hold. Not retryable: the bytes are gone. */
export class ArtifactNotFoundError extends PreflineError {
  constructor(readonly sha256: string) {
    super(ErrorCode.ArtifactNotFound, `artifact ${sha256} not found`);
  }
}

/** The stored bytes or their sidecar do not match what was recorded. Not retryable: reading again reads the same. */
export class ArtifactIntegrityError extends PreflineError {
  constructor(readonly sha256: string, detail: string) {
    super(ErrorCode.ArtifactIntegrity, `artifact ${sha256} failed integrity check: ${detail}`);
  }
}

const SHA256_RE = /^[0-9a-f]{64}$/;
// RFC 2045 token chars for type, subtype and parameter names; parameter values token or quoted.
const TOKEN = "[a-z0-9!#$&^_.+-]";
const MIME_RE = new RegExp(
  `^${TOKEN}{1,127}/${TOKEN}{1,127}(?:\\s*;\\s*${TOKEN}+=(?:${TOKEN}+|"[^"\\\\\\x00-\\x1f\\x7f]*"))*$`,
  'i',
);

const EXT_BY_MIME: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'text/plain': 'txt',
  'application/json': 'json',
};

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_RE.test(value);
}

export function isValidMime(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 255 && MIME_RE.test(value);
}

/** File extension for a mime, judged by its essence (`text/plain; charset=utf-8` → `txt`). */
export function extensionForMime(mime: string): string {
  const essence = (mime.split(';', 1)[0] ?? '').trim().toLowerCase();
  return EXT_BY_MIME[essence] ?? 'bin';
}

function assertSha256(sha256: unknown): asserts sha256 is string {
  // Guards every path we build from caller input (the gateway passes URL segments through).
  if (!isSha256(sha256)) {
    throw new InvalidParamsError(`invalid artifact id ${JSON.stringify(String(sha256).slice(0, 80))}: expected 64 lowercase hex characters`);
  }
}

function assertMime(mime: unknown): asserts mime is string {
  if (!isValidMime(mime)) {
    throw new InvalidParamsError(`invalid mime type ${JSON.stringify(String(mime).slice(0, 80))}: expected "type/subtype"`);
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ArtifactStore {
  private constructor(readonly rootDir: string) {}

  static async open(rootDir: string): Promise<ArtifactStore> {
    const root = path.resolve(rootDir);
    // Private where it is created (under the data folder by default, which is private too).
    await fs.mkdir(path.join(root, 'sha256'), { recursive: true, mode: 0o700 });
    return new ArtifactStore(root);
  }

  /** Stores `bytes` once; later puts of the same bytes return the first record without rewriting. */
  async put(bytes: Uint8Array, mime: string): Promise<ArtifactRef> {
    assertMime(mime);
    const sha256 = sha256Hex(bytes);
    const existing = await this.readMeta(sha256);
    if (existing) return this.ensureData(toRef(existing), bytes);

    const ref: ArtifactRef = { sha256, mime, size: bytes.byteLength, path: relativePath(sha256, mime) };
    const dir = path.join(this.rootDir, path.dirname(ref.path));
    await fs.mkdir(dir, { recursive: true });
    // Data first, then the sidecar: a crash in between leaves an unreferenced (but whole) file
    // that the next put of these bytes simply replaces.
    await writeAtomic(path.join(this.rootDir, ref.path), bytes, 'replace');
    const meta: ArtifactMeta = { sha256, mime, size: ref.size, createdAt: new Date().toISOString() };
    if (await writeAtomic(this.metaPath(sha256), JSON.stringify(meta) + '\n', 'exclusive')) return ref;

    // Another writer committed first (possibly under another mime): its record wins.
    const winner = await this.readMeta(sha256);
    if (!winner) throw new ArtifactIntegrityError(sha256, 'sidecar vanished during put');
    const winnerRef = toRef(winner);
    if (winnerRef.path !== ref.path) await fs.rm(path.join(this.rootDir, ref.path), { force: true });
    return this.ensureData(winnerRef, bytes);
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.stat(sha256)) !== undefined;
  }

  /** The record for `sha256`, or undefined if the store does not hold it (no sidecar or no data). */
  async stat(sha256: string): Promise<ArtifactRef | undefined> {
    assertSha256(sha256);
    const meta = await this.readMeta(sha256);
    if (!meta) return undefined;
    const ref = toRef(meta);
    try {
      await fs.stat(path.join(this.rootDir, ref.path));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    return ref;
  }

  /** Reads and verifies the bytes; a size or hash mismatch throws a non-retryable ArtifactIntegrity error. */
  async read(sha256: string): Promise<{ ref: ArtifactRef; bytes: Buffer }> {
    const ref = await this.stat(sha256);
    if (!ref) throw new ArtifactNotFoundError(sha256);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path.join(this.rootDir, ref.path));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw new ArtifactNotFoundError(sha256);
      throw err;
    }
    if (bytes.byteLength !== ref.size) throw new ArtifactIntegrityError(sha256, `size ${bytes.byteLength} != recorded ${ref.size}`);
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw new ArtifactIntegrityError(sha256, `content hashes to ${actual}`);
    return { ref, bytes };
  }

  /**
   * Absolute path of a ref's data file. Rebuilt from the (validated) sha256 and mime rather than
   * trusting `ref.path`, which must agree. Unverified: use `read` when integrity matters.
   */
  absolutePath(ref: ArtifactRef): string {
    assertSha256(ref.sha256);
    assertMime(ref.mime);
    const rel = relativePath(ref.sha256, ref.mime);
    if (ref.path !== rel) {
      throw new InvalidParamsError(`artifact ref path ${JSON.stringify(ref.path)} does not match ${rel}`);
    }
    return path.join(this.rootDir, rel);
  }

  /** Streams a ref's data file (for the gateway). Unverified, like `absolutePath`. */
  createReadStream(ref: ArtifactRef): ReadStream {
    return createReadStream(this.absolutePath(ref));
  }

  private metaPath(sha256: string): string {
    return path.join(this.rootDir, 'sha256', sha256.slice(0, 2), `${sha256}.meta.json`);
  }

  private async readMeta(sha256: string): Promise<ArtifactMeta | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.metaPath(sha256), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    let meta: Partial<ArtifactMeta>;
    try {
      meta = JSON.parse(text) as Partial<ArtifactMeta>;
    } catch {
      throw new ArtifactIntegrityError(sha256, 'sidecar is not valid JSON');
    }
    if (meta?.sha256 !== sha256 || !isValidMime(meta.mime) || !Number.isSafeInteger(meta.size) || (meta.size as number) < 0 || typeof meta.createdAt !== 'string') {
      throw new ArtifactIntegrityError(sha256, 'sidecar does not describe this artifact');
    }
    return meta as ArtifactMeta;
  }

  /** Makes sure the committed ref's data file holds `bytes`; rewrites (atomically) only if missing or damaged. */
  private async ensureData(ref: ArtifactRef, bytes: Uint8Array): Promise<ArtifactRef> {
    const file = path.join(this.rootDir, ref.path);
    try {
      const current = await fs.readFile(file);
      if (current.equals(bytes)) return ref;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, bytes, 'replace');
    return ref;
  }
}

function relativePath(sha256: string, mime: string): string {
  // Always `/`-separated: the ref is stored in workflow history and read on any OS.
  return `sha256/${sha256.slice(0, 2)}/${sha256}.${extensionForMime(mime)}`;
}

function toRef(meta: ArtifactMeta): ArtifactRef {
  return { sha256: meta.sha256, mime: meta.mime, size: meta.size, path: relativePath(meta.sha256, meta.mime) };
}

