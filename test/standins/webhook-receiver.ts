/**
 * A local webhook receiver (test-only), as a careful receiver is written: it checks every delivery's
 * signature with core/webhook-signature.ts, answers scripted statuses (e.g. 500 once, then 200), and
 * counts a delivery as accepted once per Prefline-Event-Id, however often it comes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidWebhookSignature } from '../../core/webhook-signature';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** What verifyWebhookSignature said with the receiver's secret and clock. */
  signatureValid: boolean;
  status: number;
  at: number;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Accepted deliveries by event id (the first 2xx of each), with their parsed bodies. */
  readonly accepted = new Map<string, unknown>();
  /** Statuses answered to the next requests, in order; then 200. */
  readonly script: number[] = [];
  /** Headers sent with scripted answers (e.g. Retry-After). */
  answerHeaders: Record<string, string> = {};
  /** Wait this long before answering (timeouts). */
  delayMs = 0;
  url = '';
  private server!: http.Server;

  private constructor(readonly secret: string, private readonly now: () => number) {}

  static async start(secret: string, now: () => number = Date.now): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret, now);
    receiver.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const signatureValid = isValidWebhookSignature({ secret: receiver.secret, body, headers: req.headers, nowMs: receiver.now() });
        const scripted = receiver.script.shift();
        const status = !signatureValid ? 401 : (scripted ?? 200);
        receiver.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, signatureValid, status, at: Date.now() });
        const eventId = req.headers['prefline-event-id'];
        if (status >= 200 && status < 300 && typeof eventId === 'string' && !receiver.accepted.has(eventId)) receiver.accepted.set(eventId, JSON.parse(body.toString('utf8')));
        setTimeout(() => {
          res.writeHead(status, { 'Content-Type': 'text/plain', ...(scripted !== undefined ? receiver.answerHeaders : {}) });
          res.end(status < 300 ? 'ok' : `refused ${status}`);
        }, receiver.delayMs);
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks/prefline`;
    return receiver;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
