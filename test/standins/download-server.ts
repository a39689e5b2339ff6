/**
 * A local file server for download tests (test-only): each path answers as its handler says (a file,
 * a redirect, a body larger than it declares, an endless or a slow stream), on http or https, on a
 * chosen loopback address and port. Every request is recorded with its headers, so a test can assert
 * that a forbidden target got no request at all, or that a credential never reached it.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface DownloadStandIn {
  /** e.g. `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  hits: Hit[];
  /** What a path answers; unknown paths answer 404. */
  serve(path: string, handler: Handler): void;
  hitsTo(path: string): Hit[];
  /** Bytes the server wrote into bodies that were still being sent when their connection closed. */
  readonly bytesWritten: number;
  close(): Promise<void>;
}

export async function startDownloadStandIn(options: { host?: string; port?: number; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<DownloadStandIn> {
  const host = options.host ?? '127.0.0.1';
  const routes = new Map<string, Handler>();
  const hits: Hit[] = [];
  const written = { bytes: 0 };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.push({ method: req.method ?? '', path, headers: req.headers });
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('Not Found');
    }
    (res as ResponseWithCounter).counter = written;
    handler(req, res);
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener) : http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    hits,
    serve: (path, handler) => void routes.set(path, handler),
    hitsTo: (path) => hits.filter((h) => h.path === path),
    get bytesWritten() {
      return written.bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type ResponseWithCounter = http.ServerResponse & { counter?: { bytes: number } };

/** Answers `bytes` with their length. */
export function file(bytes: Uint8Array | string, contentType: string | null = 'image/png'): Handler {
  return (_req, res) => {
    const body = Buffer.from(bytes);
    res.writeHead(200, { ...(contentType ? { 'Content-Type': contentType } : {}), 'Content-Length': String(body.byteLength) });
    res.end(body);
  };
}

export function redirect(location: string, status = 302): Handler {
  return (_req, res) => {
    res.writeHead(status, { Location: location });
    res.end();
  };
}

/** Declares `declared` bytes but writes `actual` bytes onto the socket (a raw response: Node's own server would refuse the lie). */
export function lyingLength(declared: number, actual: number, contentType = 'image/png'): Handler {
  return (req, res) => {
    const socket = req.socket;
    res.detachSocket(socket);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n`);
    socket.end(Buffer.alloc(actual, 0x41));
    socket.on('error', () => undefined);
  };
}

/** A gzip body of `size` zero bytes: a few KB on the wire, `size` once decompressed. */
export function gzipBomb(size: number, contentType = 'image/png'): Handler {
  const body = gzipSync(Buffer.alloc(size));
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Encoding': 'gzip', 'Content-Length': String(body.byteLength) });
    res.end(body);
  };
}

/** No Content-Length and no end: 64 KiB chunks for as long as the client reads. */
export function endless(contentType = 'image/png'): Handler {
  return (_req, res) => {
    const counter = (res as ResponseWithCounter).counter!;
    const chunk = Buffer.alloc(64 * 1024, 0x42);
    res.writeHead(200, { 'Content-Type': contentType });
    const pump = (): void => {
      while (!res.destroyed && !res.writableEnded) {
        counter.bytes += chunk.byteLength;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('error', () => undefined);
    pump();
  };
}

/** Sends its headers, then one byte every `everyMs`, never finishing. */
export function trickle(everyMs = 100, contentType = 'image/png'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': contentType });
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('x')), everyMs);
    res.on('close', () => clearInterval(timer));
  };
}
