/**
 * The web channel's mapping from a prompt-box request (`POST /api/lifecycles`, sent by the rating page)
 * to a lifecycle start. Pure: the route authenticates the rater, limits and reserves; this decides what
 * the body means, with the prompt's text hygiene and the lifecycle's own rules (workflows/input.ts).
 *
 * The lifecycle id derives from the rater and the page's idempotency key (`lc-web-<hash>`), so a page
 * retrying the same click names the same lifecycle and starts nothing twice, and one rater's keys can
 * never name another rater's lifecycle.
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../../core/errors';
import { normaliseLineEnds, unsafeCharacter } from '../../core/text-hygiene';
import { MAX_CANDIDATES, MAX_PROMPT_LENGTH, validateLifecycleInput } from '../../workflows/input';
import type { LifecycleInput } from '../../workflows/types';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;
export const DEFAULT_CANDIDATES = 4;
const KNOWN_FIELDS = new Set(['prompt', 'model', 'candidates', 'idempotencyKey']);

export type WebStartMapping =
  | { ok: true; lifecycleId: string; input: LifecycleInput; candidates: number }
  | { ok: false; code: (typeof ErrorCode)['InvalidIdempotencyKey' | 'InvalidStart' | 'ModelNotAllowed']; message: string };

/** `lc-web-` + 20 hex digits of SHA-256(rater, key). */
export function webLifecycleId(rater: string, idempotencyKey: string): string {
  return `lc-web-${createHash('sha256').update(`${rater}\0${idempotencyKey}`).digest('hex').slice(0, 20)}`;
}

/**
 * `body` as the page sends it: `{prompt, model, candidates?, idempotencyKey}`. `rater` is the session's
 * pseudonym; `campaign` the session's campaign (its lifecycles stay in it, where the rater sees them).
 */
export function webStartRequest(body: Record<string, unknown>, who: { rater: string; campaign?: string }, models: readonly string[]): WebStartMapping {
  if (typeof body.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
    return { ok: false, code: 'invalid_idempotency_key', message: 'idempotencyKey: 8–128 characters of A–Z, a–z, 0–9, "_" and "-"' };
  }
  const unknown = Object.keys(body).find((k) => !KNOWN_FIELDS.has(k));
  if (unknown) return { ok: false, code: 'invalid_start', message: `${unknown}: not a field of a start; the fields are prompt, model, candidates, idempotencyKey` };
  const prompt = typeof body.prompt === 'string' ? normaliseLineEnds(body.prompt).trim() : '';
  if (prompt === '') return { ok: false, code: 'invalid_start', message: 'prompt: say what the model should make' };
  if (prompt.length > MAX_PROMPT_LENGTH) return { ok: false, code: 'invalid_start', message: `prompt: at most ${MAX_PROMPT_LENGTH} characters (this one has ${prompt.length})` };
  // Refused, not stripped, as comments are: the rater is told and can send it again without them.
  const unsafe = unsafeCharacter(prompt);
  if (unsafe) return { ok: false, code: 'invalid_start', message: `prompt: control and bidirectional-override characters are not allowed (${unsafe.codePoint} at position ${unsafe.index})` };
  if (typeof body.model !== 'string' || !models.includes(body.model)) {
    return { ok: false, code: 'model_not_allowed', message: `model: choose one of ${models.join(', ')}` };
  }
  const candidates = body.candidates === undefined ? DEFAULT_CANDIDATES : body.candidates;
  if (typeof candidates !== 'number' || !Number.isInteger(candidates) || candidates < 1 || candidates > MAX_CANDIDATES) {
    return { ok: false, code: 'invalid_start', message: `candidates: a whole number from 1 to ${MAX_CANDIDATES}` };
  }
  const input: LifecycleInput = {
    prompt,
    model: body.model,
    candidates,
    channel: 'web',
    ...(who.campaign !== undefined ? { campaign: who.campaign } : {}),
    startedBy: who.rater,
    startedFrom: 'web:prompt-box',
  };
  const checked = validateLifecycleInput(input, Date.now());
  if (!checked.ok) return { ok: false, code: 'invalid_start', message: checked.errors.join('; ') };
  return { ok: true, lifecycleId: webLifecycleId(who.rater, body.idempotencyKey), input, candidates };
}
