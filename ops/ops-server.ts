/**
 * The ops endpoint of a worker or gateway process, on an address of its own (never the rating page's
 * origin): `GET /metrics` is the Temporal runtime's Prometheus text, passed on from the core's exporter
 * on loopback (ops/runtime.ts), and `GET /healthz` is the process's health report: 200 when `ok`,
 * 503 otherwise, JSON either way.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { send, sendJson } from '../core/http';

/** What a health endpoint answers; `ok` decides the status, the rest says why. */
export type HealthReport = { ok: boolean } & Record<string, unknown>;

export interface OpsServerOptions {
  host: string;
  /** 0 for a free port (the URL returned names it). */
  port: number;
  /** The core exporter's URL (InstalledRuntime.metricsUrl). */
  metricsUrl: string;
  health: () => Promise<HealthReport>;
}

export interface RunningOpsServer {
  /** `http://host:port`; `/metrics` and `/healthz` are below it. */
  url: string;
  close(): Promise<void>;
}

const SCRAPE_TIMEOUT_MS = 5000;

export async function startOpsServer(options: OpsServerOptions): Promise<RunningOpsServer> {
  const metrics = async (res: http.ServerResponse) => {
    let upstream: Response;
    try {
      upstream = await fetch(options.metricsUrl, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    } catch (err) {
      return send(res, 503, `metrics unavailable: ${(err as Error).message}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
    }
    const body = Buffer.from(await upstream.arrayBuffer());
    send(res, upstream.status, body, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain; version=0.0.4', 'Cache-Control': 'no-store' });
  };
  const healthz = async (res: http.ServerResponse) => {
    const report = await options.health();
    sendJson(res, report.ok ? 200 : 503, report);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const handler = path === '/metrics' ? metrics : path === '/healthz' ? healthz : undefined;
    if (!handler) return sendJson(res, 404, { error: 'not found: the ops endpoint serves /metrics and /healthz' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
    handler(res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { ok: false, error: (err as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const shown = options.host === '0.0.0.0' ? '127.0.0.1' : options.host === '::' ? '::1' : address;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
