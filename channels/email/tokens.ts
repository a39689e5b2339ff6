/**
 * Signed capabilities carried by Prefline's emails. Pure: a key, claims and the time in; a string out.
 *
 * - Vote links: `/email/v/<token>`, bound to lifecycle, rater pseudonym, candidate and value, valid
 *   until the lifecycle's deadline.
 * - Answer links (compare lifecycles): `/email/j/<token>`, bound to lifecycle, rater, the pair in the
 *   order this rater is shown it (left, right) and the answer, valid until the deadline.
 * - Unsubscribe links: `/email/unsubscribe/<token>`, bound to the rater pseudonym only (an opt-out
 *   must keep working after the lifecycle ends).
 * - Reply addresses: `vote+<hex>@<inbound domain>`, bound to lifecycle (by hash) and rater. Lowercase
 *   hex and at most 64 characters, because MTAs may lowercase or cap local parts (RFC 5321 §4.5.3.1.1).
 *
 * Every MAC is HMAC-SHA256 over a purpose-tagged string, so one kind of token never verifies as another.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JudgementChoice, VoteValue } from '../../workflows/types';

export interface VoteLinkClaims {
  lifecycleId: string;
  rater: string;
  candidateId: string;
  value: VoteValue;
  /** Epoch ms; the lifecycle's deadline. */
  expiresAt: number;
}

export type VerifyResult<T> = { ok: true; claims: T } | { ok: false; reason: 'invalid' | 'expired' };

const RATER = /^r_[0-9a-f]{24}$/;
const VALUES: Record<string, VoteValue> = { u: 'up', d: 'down', x: 'retract' };
const VALUE_CODES: Record<VoteValue, string> = { up: 'u', down: 'd', retract: 'x' };
const MAX_TOKEN_LENGTH = 1024;

function mac(key: Buffer, purpose: string, body: string, bytes = 16): Buffer {
  return createHmac('sha256', key).update(`prefline-email-v1\0${purpose}\0${body}`, 'utf8').digest().subarray(0, bytes);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** 64 bits of SHA-256 of the lifecycle id, in hex: names the lifecycle in Message-IDs, reply addresses and files. */
export function lifecycleHash(lifecycleId: string): string {
  return createHash('sha256').update(lifecycleId, 'utf8').digest('hex').slice(0, 16);
}

function signPayload(key: Buffer, purpose: string, fields: unknown[]): string {
  const body = Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
  return `${body}.${mac(key, purpose, body).toString('base64url')}`;
}

function openPayload(key: Buffer, purpose: string, token: string): unknown[] | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const [body, sig] = token.split('.') as [string, string];
  if (!sameBytes(Buffer.from(sig, 'base64url'), mac(key, purpose, body))) return undefined;
  try {
    const fields: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return Array.isArray(fields) ? fields : undefined;
  } catch {
    return undefined;
  }
}

export function signVoteLink(key: Buffer, claims: VoteLinkClaims): string {
  return signPayload(key, 'vote', [claims.lifecycleId, claims.rater, claims.candidateId, VALUE_CODES[claims.value], Math.floor(claims.expiresAt)]);
}

/** Tampered, foreign or malformed tokens are all just `invalid`: the page must not say which check failed. */
export function verifyVoteLink(key: Buffer, token: string, nowMs: number): VerifyResult<VoteLinkClaims> {
  const fields = openPayload(key, 'vote', token);
  if (!fields || fields.length !== 5) return { ok: false, reason: 'invalid' };
  const [lifecycleId, rater, candidateId, code, expiresAt] = fields;
  const value = typeof code === 'string' ? VALUES[code] : undefined;
  if (typeof lifecycleId !== 'string' || typeof rater !== 'string' || !RATER.test(rater) || typeof candidateId !== 'string' || !value || typeof expiresAt !== 'number') {
    return { ok: false, reason: 'invalid' };
  }
  if (nowMs >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { lifecycleId, rater, candidateId, value, expiresAt } };
}

export interface JudgementLinkClaims {
  lifecycleId: string;
  rater: string;
  /** The candidate this rater is shown first (left, "A") and second (right, "B"). */
  left: string;
  right: string;
  choice: JudgementChoice;
  /** Epoch ms; the lifecycle's deadline. */
  expiresAt: number;
}

const CHOICES: Record<string, JudgementChoice> = { l: 'left', r: 'right', t: 'tie', b: 'both_bad', x: 'retract' };
const CHOICE_CODES: Record<JudgementChoice, string> = { left: 'l', right: 'r', tie: 't', both_bad: 'b', retract: 'x' };

export function signJudgementLink(key: Buffer, claims: JudgementLinkClaims): string {
  return signPayload(key, 'judge', [claims.lifecycleId, claims.rater, claims.left, claims.right, CHOICE_CODES[claims.choice], Math.floor(claims.expiresAt)]);
}

/** Like verifyVoteLink: anything tampered, foreign (a vote link too) or malformed is `invalid`. */
export function verifyJudgementLink(key: Buffer, token: string, nowMs: number): VerifyResult<JudgementLinkClaims> {
  const fields = openPayload(key, 'judge', token);
  if (!fields || fields.length !== 6) return { ok: false, reason: 'invalid' };
  const [lifecycleId, rater, left, right, code, expiresAt] = fields;
  const choice = typeof code === 'string' && Object.hasOwn(CHOICES, code) ? CHOICES[code] : undefined;
  if (typeof lifecycleId !== 'string' || typeof rater !== 'string' || !RATER.test(rater) || typeof left !== 'string' || typeof right !== 'string' || left === right || !choice || typeof expiresAt !== 'number') {
    return { ok: false, reason: 'invalid' };
  }
  if (nowMs >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { lifecycleId, rater, left, right, choice, expiresAt } };
}

export function signUnsubscribe(key: Buffer, rater: string): string {
  return signPayload(key, 'unsubscribe', [rater]);
}

export function verifyUnsubscribe(key: Buffer, token: string): string | undefined {
  const fields = openPayload(key, 'unsubscribe', token);
  const rater = fields?.length === 1 ? fields[0] : undefined;
  return typeof rater === 'string' && RATER.test(rater) ? rater : undefined;
}

export const REPLY_LOCAL_PREFIX = 'vote+';

/** `vote+<lifecycle hash 16><rater 24><mac 16>`: 61 characters, lowercase hex. */
export function replyLocalPart(key: Buffer, lifecycleId: string, rater: string): string {
  if (!RATER.test(rater)) throw new Error('replyLocalPart: rater must be a pseudonym');
  const body = `${lifecycleHash(lifecycleId)}${rater.slice(2)}`;
  return `${REPLY_LOCAL_PREFIX}${body}${mac(key, 'reply', body, 8).toString('hex')}`;
}

export interface ReplyClaims {
  lifecycleHash: string;
  rater: string;
  /** The verified local part: names this reply address in idempotency keys. */
  token: string;
}

/** Verifies a recipient address of an inbound reply; undefined for anything not issued by us for `domain`. */
export function verifyReplyAddress(key: Buffer, address: string, domain: string): ReplyClaims | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  const local = address.slice(0, at).toLowerCase(); // case-insensitive: some MTAs fold it
  const match = /^vote\+([0-9a-f]{16})([0-9a-f]{24})([0-9a-f]{16})$/.exec(local);
  if (!match) return undefined;
  const body = `${match[1]}${match[2]}`;
  if (!sameBytes(Buffer.from(match[3]!, 'hex'), mac(key, 'reply', body, 8))) return undefined;
  return { lifecycleHash: match[1]!, rater: `r_${match[2]}`, token: local.slice(REPLY_LOCAL_PREFIX.length) };
}

/** `notify`: a campaign notification (channels/email/notifier.ts), keyed by its event id instead of a lifecycle;
 * `digest`: a campaign's digest, keyed by `<campaign id>#digest-<n>` in place of a lifecycle id. */
export type MailKind = 'invite' | 'remind' | 'close' | 'notify' | 'digest';

/**
 * Deterministic Message-ID per (kind, lifecycle, rater): a retried send carries the same id, so
 * receiving MTAs and clients that dedupe on Message-ID show one copy even in the window where a send
 * was accepted but not yet recorded.
 */
export function messageIdFor(kind: MailKind, lifecycleId: string, rater: string, domain: string): string {
  const suffix = kind === 'invite' ? '' : `.${kind}`;
  return `<${lifecycleHash(lifecycleId)}.${rater.slice(2)}${suffix}@${domain}>`;
}
