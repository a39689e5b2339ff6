/**
 * bench/campaign's simulated raters: each signed in from an invite like a real one, each doing what the
 * rating page's campaign view does (gateway/static/app.js, compare.js), in a loop:
 *
 *   1. POST /api/campaigns/<id>/next (with `done`: the item just answered, never handed back);
 *   2. on an item, POST /api/lifecycles/<item>/judgements in the order the answer's `lifecycle.pair`
 *      says this rater is shown, with a fresh idempotency key that every retry of the click reuses;
 *   3. on `waiting`, wait a moment and ask again; on `finished`, stop.
 *
 * Every accepted answer is remembered (its ledger key), so the bench can check the ledger holds each once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { newIdempotencyKey, type WebRater } from '../test/helpers/web-raters';
import type { JudgementChoice } from '../workflows/types';
import { postJson } from './util';

/** How long a rater told `waiting` waits before asking again (the page polls on its own timer). */
const WAIT_MS = 300;
/** Attempts of one click that met no answer, 502 or 503, as the page retries them. */
const CLICK_ATTEMPTS = 5;
const CHOICES: readonly JudgementChoice[] = ['left', 'right', 'left', 'right', 'tie'];

export interface AcceptedAnswer {
  lifecycleId: string;
  /** The key as the ledger stores it (`web:<rater>:<key>`). */
  ledgerKey: string;
}

/** What every rater of one run saw, shared by all of them. */
export class RaterLoad {
  readonly nextMs: number[] = [];
  readonly answerMs: number[] = [];
  readonly accepted: AcceptedAnswer[] = [];
  /** Answers refused by code (`lifecycle_full` when others filled the item first, `voting_closed`). */
  readonly refused = new Map<string, number>();
  /** Failures (HTTP status and code, or network errors) by message. */
  readonly errors = new Map<string, number>();
  waits = 0;
  /** Assignments handed out, and how many of them the rater held already (`again`). */
  assigned = 0;
  again = 0;
  /** Assignments whose lifecycle came without the rater's order of the pair (the page then guesses). */
  withoutPair = 0;
  /** Wall time from the first request to the last rater's `finished`. */
  startedAt = 0;
  endedAt = 0;

  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

interface NextAnswer {
  assigned: boolean;
  reason?: string;
  lifecycleId?: string;
  again?: boolean;
  lifecycle?: { pair?: { left: string; right: string }; candidates: Array<{ id: string }> };
}

function headersOf(rater: WebRater): Record<string, string> {
  return { authorization: `Bearer ${rater.token}`, 'x-prefline-request': '1' };
}

function failure(status: number, text: string): string {
  let code = '';
  try {
    code = String((JSON.parse(text) as { code?: unknown }).code ?? '');
  } catch {
    code = text.slice(0, 60);
  }
  return `HTTP ${status} ${code}`;
}

/** One click's POST, retried as the page retries a lost answer, 502 and 503 (same body, same key). */
async function click(url: string, body: unknown, headers: Record<string, string>, load: RaterLoad): Promise<{ status: number; text: string; ms: number } | undefined> {
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    try {
      const res = await postJson(url, body, headers);
      const ms = performance.now() - t0;
      if ((res.status === 502 || res.status === 503) && attempt < CLICK_ATTEMPTS) {
        load.count(load.errors, `${failure(res.status, res.text)} (retried)`);
        await sleep(200 * attempt);
        continue;
      }
      return { ...res, ms };
    } catch (err) {
      load.count(load.errors, `${err instanceof Error ? err.message : String(err)}${attempt < CLICK_ATTEMPTS ? ' (retried)' : ''}`.slice(0, 120));
      if (attempt >= CLICK_ATTEMPTS) return undefined;
      await sleep(200 * attempt);
    }
  }
}

/** One rater's loop, until the campaign answers `finished` (or `stop()` says so). */
export async function rateCampaign(gatewayUrl: string, campaignId: string, rater: WebRater, index: number, load: RaterLoad, stop: () => boolean): Promise<void> {
  const headers = headersOf(rater);
  const nextUrl = `${gatewayUrl}/api/campaigns/${encodeURIComponent(campaignId)}/next`;
  let done: string | undefined;
  let answered = 0;
  while (!stop()) {
    const res = await click(nextUrl, done !== undefined ? { done } : {}, headers, load);
    if (!res) continue;
    if (res.status !== 200) {
      load.count(load.errors, `next: ${failure(res.status, res.text)}`);
      await sleep(WAIT_MS);
      continue;
    }
    load.nextMs.push(res.ms);
    const next = JSON.parse(res.text) as NextAnswer;
    if (!next.assigned) {
      if (next.reason === 'finished') return;
      load.waits++;
      await sleep(WAIT_MS);
      continue;
    }
    load.assigned++;
    if (next.again) load.again++;
    const lifecycleId = next.lifecycleId!;
    let pair = next.lifecycle?.pair;
    if (!pair) {
      // What the page does without one: the candidates in their listed order.
      load.withoutPair++;
      const [first, second] = next.lifecycle?.candidates ?? [];
      pair = { left: first?.id ?? 'c1', right: second?.id ?? 'c2' };
    }
    const key = newIdempotencyKey();
    const choice = CHOICES[(index + answered) % CHOICES.length]!;
    const answer = await click(`${gatewayUrl}/api/lifecycles/${encodeURIComponent(lifecycleId)}/judgements`, { left: pair.left, right: pair.right, choice, idempotencyKey: key }, headers, load);
    done = lifecycleId;
    if (!answer) continue;
    if (answer.status === 200) {
      load.answerMs.push(answer.ms);
      load.accepted.push({ lifecycleId, ledgerKey: `web:${rater.rater}:${key}` });
      answered++;
    } else if (answer.status === 409) {
      load.answerMs.push(answer.ms);
      load.count(load.refused, failure(answer.status, answer.text));
    } else {
      load.count(load.errors, `judgement: ${failure(answer.status, answer.text)}`);
    }
  }
}

/** Runs every rater at once (one lane each) until each has heard `finished`. */
export async function runRaters(gatewayUrl: string, campaignId: string, raters: readonly WebRater[], load: RaterLoad, stop: () => boolean): Promise<RaterLoad> {
  load.startedAt = performance.now();
  await Promise.all(raters.map((rater, i) => rateCampaign(gatewayUrl, campaignId, rater, i, load, stop)));
  load.endedAt = performance.now();
  return load;
}
