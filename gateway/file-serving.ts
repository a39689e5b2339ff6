/**
 * The bytes the gateway serves as files: the rating and chat pages' static assets (gateway/static/, read
 * once and cached) and artifacts (content-addressed, by signed URL or session), both with ETags and 304s.
 * Separate from http-server.ts, which routes requests, checks hosts and sessions and mounts the channels.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { join } from 'node:path';
import type { ArtifactSource } from './artifact-source';
import { verifyArtifactUrl } from './artifact-urls';
import { ErrorCode } from '../core/errors';
import { HttpError, SECURITY_HEADERS, send, type GatewayLog } from '../core/http';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATIC_DIR = join(__dirname, 'static');

/** A page asset's path → its file in gateway/static/ (scripts/copy-static.mjs copies them next to the build). */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/thumbs.js': { file: 'thumbs.js', type: 'text/javascript; charset=utf-8' },
  '/compare.js': { file: 'compare.js', type: 'text/javascript; charset=utf-8' },
  '/prompt-box.js': { file: 'prompt-box.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/chat': { file: 'chat.html', type: 'text/html; charset=utf-8' },
  '/chat.js': { file: 'chat.js', type: 'text/javascript; charset=utf-8' },
  '/chat.css': { file: 'chat.css', type: 'text/css; charset=utf-8' },
};

/** The paths of STATIC_FILES: the gateway's static route. */
export const STATIC_PATTERN = /^\/(?:index\.html|app\.js|thumbs\.js|compare\.js|prompt-box\.js|style\.css|chat|chat\.js|chat\.css)?$/;

// Artifacts are model output (possibly SVG): opened directly, they get no script and a sandbox.
const ARTIFACT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

/** Serves the static file at `path` (one STATIC_PATTERN matched); files are read once per server. */
export function createStaticFiles(): (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<void> {
  const staticCache = new Map<string, { body: Buffer; etag: string }>();
  return async (req, res, path) => {
    const entry = STATIC_FILES[path]!;
    let cached = staticCache.get(entry.file);
    if (!cached) {
      const body = await readFile(join(STATIC_DIR, entry.file));
      cached = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` };
      staticCache.set(entry.file, cached);
    }
    const headers = { 'Content-Type': entry.type, 'Cache-Control': 'no-cache', ETag: cached.etag };
    if (matchesEtag(req, cached.etag)) return notModified(res, headers);
    send(res, 200, cached.body, headers);
  };
}

export interface ArtifactServingDeps {
  artifacts: ArtifactSource;
  /** Key that signs artifact URLs. */
  sessionKey: Buffer;
  /** Rejects (401) unless the request carries a valid session. */
  authenticate: (req: http.IncomingMessage) => Promise<unknown>;
  now: () => number;
  log: GatewayLog;
}

/** Artifacts need a signed URL (what status answers carry) or a session: never anonymous. */
export function createArtifactServing(deps: ArtifactServingDeps): (req: http.IncomingMessage, res: http.ServerResponse, sha256: string) => Promise<void> {
  const { now, log } = deps;
  return async (req, res, sha256) => {
    if (!SHA256_HEX.test(sha256)) throw new HttpError(ErrorCode.NotFound, 'no such artifact');
    const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
    const bySignedUrl = verifyArtifactUrl(deps.sessionKey, sha256, query, now());
    if (!bySignedUrl) await deps.authenticate(req);
    // A signed URL is its own key in any cache; an answer to a session must not reach a shared cache,
    // which would hand it to anyone asking for the bare path.
    const cache = `${bySignedUrl ? 'public' : 'private'}, max-age=31536000, immutable`;
    const headers = { ETag: `"${sha256}"`, 'Cache-Control': cache, 'Content-Security-Policy': ARTIFACT_CSP };
    // Content-addressed: a client holding this ETag holds these bytes, no need to look.
    if (matchesEtag(req, headers.ETag)) return notModified(res, headers);
    let artifact;
    try {
      artifact = await deps.artifacts.open(sha256);
    } catch (err) {
      log('error', 'artifact read failed', { sha256, error: err });
      throw new HttpError(ErrorCode.ArtifactUnavailable, 'could not read the artifact');
    }
    if (!artifact) throw new HttpError(ErrorCode.NotFound, 'no such artifact');
    send(res, 200, artifact.bytes, { ...headers, 'Content-Type': safeMime(artifact.mime) });
  };
}

function matchesEtag(req: http.IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || t === etag;
  });
}

function safeMime(mime: string): string {
  return /^[a-z]+\/[a-z0-9.+-]+$/i.test(mime) ? mime : 'application/octet-stream';
}

function notModified(res: http.ServerResponse, headers: Record<string, string>): void {
  res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
  res.end();
}
