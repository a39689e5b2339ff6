/**
 * Slack's HTTP endpoints on the gateway: `POST /slack/events` (Events API), `POST /slack/interactivity`
 * (button clicks) and `POST /slack/commands` (the `/prefline` slash command). Transport only: read the raw
 * body, verify Slack's signature over those exact bytes, acknowledge at once, hand the payload to
 * SlackInbound (or SlackCommands, whose private answer is the response body).
 *
 * - Only a body of exactly `ssl_check=1` is answered without a signature (and nothing is done);
 *   anything else, `ssl_check=1&payload=…` included, must verify.
 * - Content-Type must be what Slack sends: `application/json` for events,
 *   `application/x-www-form-urlencoded` (with a `payload` JSON field) for interactivity, and form fields
 *   (`command`, `text`, `user_id`, `trigger_id`, …) for commands.
 * - Refusals carry `X-Slack-No-Retry: 1`: a request that failed verification will fail again.
 */
import type http from 'node:http';
import { assertSigningSecret, SlackVerificationError, verifySlackRequest } from './verify';
import { ErrorCode } from '../../core/errors';
import { HttpError, readBody, type GatewayLog, type HttpRoute } from '../../core/http';
import type { SlackCommands, SlashCommandPayload } from './commands';
import type { SlackInbound } from './inbound';

export interface SlackRoutesDeps {
  /** Must be non-empty: `createSlackRoutes` throws otherwise, so a misconfigured gateway fails at startup. */
  signingSecret: string;
  inbound: SlackInbound;
  /** The slash command; without it, `POST /slack/commands` does not exist. */
  commands?: Pick<SlackCommands, 'answer'>;
  now?: () => number;
  log?: GatewayLog;
}

/** The form fields of a slash command Prefline reads. */
const COMMAND_FIELDS = ['command', 'text', 'team_id', 'enterprise_id', 'channel_id', 'channel_name', 'user_id', 'response_url', 'trigger_id'] as const;

/** block_actions payloads carry the whole message (blocks included): far above the vote API's 16 KB. */
export const MAX_SLACK_BODY_BYTES = 1024 * 1024;

export function createSlackRoutes(deps: SlackRoutesDeps): HttpRoute[] {
  assertSigningSecret(deps.signingSecret);
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => undefined);

  /** Reads, answers ssl checks, verifies and checks the media type; undefined when already answered. */
  async function verified(req: http.IncomingMessage, res: http.ServerResponse, mediaType: string): Promise<string | undefined> {
    const body = await readBody(req, MAX_SLACK_BODY_BYTES, () => new HttpError(ErrorCode.BodyTooLarge, 'body too large'));
    if (body.length === 11 && body.toString('latin1') === 'ssl_check=1') {
      answer(res, 200, '');
      return undefined;
    }
    try {
      verifySlackRequest({ signingSecret: deps.signingSecret, body, headers: req.headers, nowMs: now() });
    } catch (err) {
      if (!(err instanceof SlackVerificationError)) throw err;
      log('warn', 'Slack request refused: bad signature', { reason: err.reason, path: req.url });
      throw new HttpError(ErrorCode.SlackSignatureInvalid, 'invalid signature');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== mediaType) throw new HttpError(ErrorCode.UnsupportedMediaType, `Content-Type must be ${mediaType}`);
    return body.toString('utf8');
  }

  const events = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    await handled(res, async () => {
      const text = await verified(req, res, 'application/json');
      if (text === undefined) return;
      const envelope = parseJson(text);
      if (envelope.type === 'url_verification') {
        if (typeof envelope.challenge !== 'string') throw new HttpError(ErrorCode.BadRequest, 'no challenge');
        return answer(res, 200, envelope.challenge);
      }
      const retryNum = Number(req.headers['x-slack-retry-num'] ?? 0) || undefined;
      const retryReason = typeof req.headers['x-slack-retry-reason'] === 'string' ? req.headers['x-slack-retry-reason'] : undefined;
      // Acknowledge once the delivery is journaled (a few ms), before it is forwarded: Slack retries
      // anything not answered within 3 s. Not journaled → an error, so Slack delivers it again.
      if (envelope.type === 'event_callback') {
        const result = await deps.inbound.acceptEvent(envelope, { ...(retryNum ? { retryNum } : {}), ...(retryReason ? { retryReason } : {}) });
        if (result === 'failed') return answer(res, 503, JSON.stringify({ error: 'try again' }), { 'Content-Type': 'application/json; charset=utf-8' });
      } else if (envelope.type === 'app_rate_limited') {
        log('warn', 'Slack is rate-limiting events to this app', { minute: envelope.minute_rate_limited });
      }
      answer(res, 200, '');
    });
  };

  const interactivity = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    await handled(res, async () => {
      const text = await verified(req, res, 'application/x-www-form-urlencoded');
      if (text === undefined) return;
      const payload = new URLSearchParams(text).get('payload');
      if (payload === null) throw new HttpError(ErrorCode.BadRequest, 'no payload');
      const parsed = parseJson(payload);
      // Not journaled → an error: Slack shows the clicker that it did not work.
      if ((await deps.inbound.acceptInteraction(parsed)) === 'failed') return answer(res, 503, JSON.stringify({ error: 'try again' }), { 'Content-Type': 'application/json; charset=utf-8' });
      answer(res, 200, '');
    });
  };

  const commands = deps.commands;
  const command = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    await handled(res, async () => {
      const text = await verified(req, res, 'application/x-www-form-urlencoded');
      if (text === undefined || !commands) return;
      const form = new URLSearchParams(text);
      const payload: SlashCommandPayload = {};
      for (const field of COMMAND_FIELDS) {
        const value = form.get(field);
        if (value !== null) payload[field] = value;
      }
      const { text: answerText, blocks } = await commands.answer(payload);
      answer(res, 200, JSON.stringify({ response_type: 'ephemeral', text: answerText, ...(blocks ? { blocks } : {}) }), { 'Content-Type': 'application/json; charset=utf-8' });
    });
  };

  return [
    { pattern: /^\/slack\/events$/, methods: { POST: events } },
    { pattern: /^\/slack\/interactivity$/, methods: { POST: interactivity } },
    ...(commands ? [{ pattern: /^\/slack\/commands$/, methods: { POST: command } }] : []),
  ];
}

async function handled(res: http.ServerResponse, task: () => Promise<void>): Promise<void> {
  try {
    await task();
  } catch (err) {
    if (!(err instanceof HttpError) || res.headersSent) throw err;
    answer(res, err.status, JSON.stringify({ error: err.message }), { 'Content-Type': 'application/json; charset=utf-8', 'X-Slack-No-Retry': '1' });
  }
}

function answer(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(ErrorCode.InvalidJson, 'body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(ErrorCode.InvalidJson, 'body must be a JSON object');
  return value as Record<string, unknown>;
}
