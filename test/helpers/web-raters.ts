/**
 * Invited raters voting over HTTP on one or more gateways, as the rating page does: a session from an
 * invite link, one idempotency key per vote that every retry reuses, retries of what the page retries
 * (no answer, 502, 503; here 429 too), and, like a load balancer in front of several gateways, a
 * gateway that refuses connections is skipped for a while. For the cluster tests and bench/cluster.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSecret, type PreflineConfig } from '../../config';
import { InviteRegistry } from '../../gateway/invite-registry';
import { signInvite } from '../../gateway/invites';
import type { VoteValue } from '../../workflows/types';

export interface WebRater {
  label: string;
  /** The session's bearer token; valid on every gateway that shares the session key. */
  token: string;
  /** The pseudonym votes are stored under. */
  rater: string;
}

/** Invite tokens straight from the registry and the invite key, as `prefline raters invite` makes them. */
export async function inviteTokens(config: PreflineConfig, labels: readonly string[], ttlMs = 86_400_000): Promise<string[]> {
  const registry = await InviteRegistry.open(config.gateway.invitesDir);
  const key = loadSecret(config, 'invite');
  return Promise.all(
    labels.map(async (label) => {
      const record = await registry.create({ label, expiresAt: new Date(Date.now() + ttlMs) });
      return signInvite(key, { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) });
    }),
  );
}

/** The token of an invite link (`…/#/invite/<token>`). */
export function tokenOfLink(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}

/** Redeems an invite on a gateway: the session the page would keep. */
export async function signIn(gatewayUrl: string, label: string, invite: string): Promise<WebRater> {
  const res = await fetch(`${gatewayUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-prefline-request': '1' },
    body: JSON.stringify({ invite }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`sign-in of ${label} at ${gatewayUrl}: HTTP ${res.status} ${body}`);
  const { token, rater } = JSON.parse(body) as { token: string; rater: string };
  return { label, token, rater };
}

/** A key as the page makes one: per click, reused by every retry. */
export function newIdempotencyKey(): string {
  return `k${randomBytes(12).toString('hex')}`;
}

export interface PlannedVote {
  lifecycleId: string;
  candidateId: string;
  value: VoteValue;
  rater: WebRater;
  idempotencyKey: string;
  /** Index of the gateway tried first (the one the rater's connection lands on). */
  gateway: number;
}

export interface FailedAttempt {
  gateway: string;
  /** `HTTP 502 upstream_error`, `ECONNREFUSED`, `timeout`, … */
  reason: string;
  startedAt: number;
}

export interface CastVote {
  vote: PlannedVote;
  /** The gateway's answer: recorded, duplicate, … */
  outcome: string;
  /** The gateway that answered 200. */
  via: string;
  /** When the answer arrived (epoch ms), and how long since the first attempt. */
  acceptedAt: number;
  latencyMs: number;
  failures: FailedAttempt[];
}

export interface VoteSenderOptions {
  /** One request's limit. Default 30000. */
  attemptTimeoutMs?: number;
  /** Give up on a vote after this long (the error names every failed attempt). Default 120000. */
  voteTimeoutMs?: number;
  /** How long a gateway that refused a connection is skipped. Default 5000. */
  downForMs?: number;
}

/** A vote refused with an answer that retrying cannot change (400, 401, 404, 409, …). */
export class VoteRefusedError extends Error {}

const RETRIED_STATUSES = new Set([429, 502, 503]);
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class VoteSender {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly downUntil: number[];
  private readonly attemptTimeoutMs: number;
  private readonly voteTimeoutMs: number;
  private readonly downForMs: number;

  constructor(
    readonly gateways: readonly string[],
    options: VoteSenderOptions = {},
  ) {
    this.downUntil = gateways.map(() => 0);
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
    this.voteTimeoutMs = options.voteTimeoutMs ?? 120_000;
    this.downForMs = options.downForMs ?? 5000;
  }

  /** Sends `vote` until a gateway answers 200, or throws (VoteRefusedError for a final answer). */
  async cast(vote: PlannedVote): Promise<CastVote> {
    const started = Date.now();
    const failures: FailedAttempt[] = [];
    for (let attempt = 0; ; attempt++) {
      const gateway = this.pick(vote.gateway);
      const url = this.gateways[gateway]!;
      const attemptStarted = Date.now();
      let reason: string;
      try {
        const res = await this.post(`${url}/api/lifecycles/${encodeURIComponent(vote.lifecycleId)}/votes`, vote);
        if (res.status === 200) {
          const acceptedAt = Date.now();
          return { vote, outcome: (JSON.parse(res.text) as { outcome: string }).outcome, via: url, acceptedAt, latencyMs: acceptedAt - started, failures };
        }
        const code = (JSON.parse(res.text || '{}') as { code?: string }).code ?? '';
        if (!RETRIED_STATUSES.has(res.status)) {
          throw new VoteRefusedError(`vote ${vote.idempotencyKey} on ${vote.lifecycleId}/${vote.candidateId} refused by ${url}: HTTP ${res.status} ${res.text}`);
        }
        reason = `HTTP ${res.status} ${code}`.trim();
      } catch (err) {
        if (err instanceof VoteRefusedError) throw err;
        const errno = (err as NodeJS.ErrnoException).code ?? '';
        reason = errno || (err as Error).message;
        // Like a load balancer's health check: a gateway that refuses connections gets no traffic for a while.
        if (CONNECTION_ERRORS.has(errno)) this.downUntil[gateway] = Date.now() + this.downForMs;
      }
      failures.push({ gateway: url, reason, startedAt: attemptStarted });
      if (Date.now() - started > this.voteTimeoutMs) {
        throw new Error(`vote ${vote.idempotencyKey} on ${vote.lifecycleId}/${vote.candidateId} not accepted within ${this.voteTimeoutMs} ms; attempts: ${failures.map((f) => `${f.gateway} ${f.reason}`).join('; ')}`);
      }
      await sleep(Math.min(2000, 100 * 1.5 ** attempt) * (0.5 + Math.random()));
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** The preferred gateway unless it is marked down; then the next one that is not (or the preferred). */
  private pick(preferred: number): number {
    const now = Date.now();
    for (let i = 0; i < this.gateways.length; i++) {
      const candidate = (preferred + i) % this.gateways.length;
      if (this.downUntil[candidate]! <= now) return candidate;
    }
    return preferred % this.gateways.length;
  }

  private post(url: string, vote: PlannedVote): Promise<{ status: number; text: string }> {
    const payload = JSON.stringify({ candidateId: vote.candidateId, value: vote.value, idempotencyKey: vote.idempotencyKey });
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.attemptTimeoutMs,
          headers: {
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(payload)),
            authorization: `Bearer ${vote.rater.token}`,
            'x-prefline-request': '1',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
