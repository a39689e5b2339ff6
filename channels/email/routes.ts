/**
 * Gateway routes behind the links in Prefline's emails.
 *
 *   GET|HEAD /email/v/<token>             confirmation page with one button; never votes (mail scanners
 *                                         and link previews fetch links before the rater clicks)
 *   POST     /email/v/<token>             records the vote the token names, through the directory
 *   GET|HEAD /email/j/<token>             compare lifecycles: the same confirmation page for one answer
 *   POST     /email/j/<token>             records the judgement the token names (the pair as this rater saw it)
 *   GET|HEAD /email/unsubscribe/<token>   confirmation page
 *   POST     /email/unsubscribe/<token>   records the opt-out (also RFC 8058 one-click from the mail client)
 *
 * The token is the capability: it is signed, bound to lifecycle, rater, candidate and value, and expires
 * at the deadline. Its idempotency key is derived from the token, so a second POST of the same link is
 * a `duplicate` and counts once. On a campaign's gold item the page after the POST says whether the
 * answer was the expected one (and why not), and a changed answer is refused: the first is final.
 * Pages are plain HTML forms: no script, the gateway's CSP.
 */
import type http from 'node:http';
import type { EmailState } from './state';
import { escapeHtml } from './compose';
import { verifyJudgementLink, verifyUnsubscribe, verifyVoteLink, type VoteLinkClaims } from './tokens';
import { linkJudgementRequest, linkTokenHash, linkVoteRequest } from './votes';
import type { GoldVerdict, JudgementChoice, JudgementRequest, LifecycleStatus, VoteOutcomeKind, VoteRequest } from '../../workflows/types';
import { SECURITY_HEADERS, type GatewayLog, type HttpRoute } from '../../core/http';
import { VoteRejectedError, type LifecycleDirectory } from '../../core/lifecycle-directory';
import { delaySchedule, retrying } from '../../core/retry';

export interface EmailRoutesDeps {
  directory: LifecycleDirectory;
  tokenKey: Buffer;
  state: EmailState;
  now?: () => number;
  log?: GatewayLog;
}

const TOKEN = '([^/]{1,2000})'; // anything: a mangled token gets the "link invalid" page, not a 404
const MAX_FORM_BYTES = 4096;
/** While invitations are still going out, a vote is tried again every 500 ms for up to 10 s. */
const NOT_OPEN_WAITS_MS: readonly number[] = Array.from({ length: 20 }, () => 500);

const CSS = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1d2230}
h1{font-size:1.3rem}img{max-width:100%;border-radius:8px}pre{white-space:pre-wrap;background:#f3f4f7;padding:.75rem;border-radius:6px}
button{font-size:1.1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #3558d8;background:#3558d8;color:#fff;cursor:pointer}
.muted{color:#5b6272;font-size:.9rem}`;

const VALUE_TEXT = { up: '👍 thumbs up', down: '👎 thumbs down', retract: 'withdraw your vote' } as const;

const OUTCOME_TEXT: Record<VoteOutcomeKind, (label: string, value: VoteLinkClaims['value']) => [string, string]> = {
  recorded: (l, v) => ['Vote recorded', `Your ${VALUE_TEXT[v]} for candidate ${l} is recorded. Thank you!`],
  changed: (l, v) => ['Vote changed', `Your vote on candidate ${l} is now ${VALUE_TEXT[v]}.`],
  retracted: (l) => ['Vote withdrawn', `Your vote on candidate ${l} is withdrawn.`],
  unchanged: (l) => ['Nothing changed', `Your vote on candidate ${l} already stood as you asked.`],
  duplicate: () => ['Already recorded', 'This link was already used; your vote was recorded then and counts once.'],
};

const CHOICE_TEXT: Record<JudgementChoice, string> = { left: 'A is better', right: 'B is better', tie: 'a tie', both_bad: 'both bad', retract: 'withdraw your answer' };

const JUDGEMENT_OUTCOME_TEXT: Record<VoteOutcomeKind, (choice: JudgementChoice) => [string, string]> = {
  recorded: (c) => ['Answer recorded', `Your answer (${CHOICE_TEXT[c]}) is recorded. Thank you!`],
  changed: (c) => ['Answer changed', `Your answer is now: ${CHOICE_TEXT[c]}.`],
  retracted: () => ['Answer withdrawn', 'Your answer on this comparison is withdrawn.'],
  unchanged: (c) => ['Nothing changed', c === 'retract' ? 'You had no answer on this comparison to withdraw.' : 'Your answer already stood as you asked.'],
  duplicate: () => ['Already recorded', 'This link was already used; your answer was recorded then and counts once.'],
};

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Prefline</title><link rel="stylesheet" href="/email/page.css"></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

function sendHtml(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Length': String(Buffer.byteLength(html)),
  });
  res.end(html); // node drops the body of a HEAD answer
}

const INVALID = page('Link invalid', '<p>This link is not valid. Please use a link from your most recent Prefline email.</p>');
const EXPIRED = page('Link expired', '<p>This link has expired: voting on this prompt has ended.</p>');
const CLOSED = page('Voting closed', '<p>Voting on this prompt has closed; your vote was not counted.</p>');
const WRONG_CHANNEL = page('Not an emailed prompt', '<p>This prompt takes votes through another channel, not by email; your vote was not counted.</p>');
const ANSWER_FINAL = page('Answer already given', '<p>This item keeps your first answer: it cannot be changed or withdrawn. Nothing more was counted.</p>');

/**
 * A campaign's check (gold) item, once answered: whether the answer was the expected one, and why not,
 * as the rating page shows it. Nothing for any other item: the page before the answer is the same for both.
 */
function verdictHtml(gold: GoldVerdict | undefined): string {
  if (!gold) return '';
  if (gold.correct) return '<p><strong>That is the expected answer.</strong></p>';
  return `<p><strong>Not the expected answer.</strong> ${escapeHtml(gold.explanation ?? '')}</p>`;
}

/** Reads (and discards) a small form body; the token in the path is all the POST needs. */
function drain(req: http.IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    req.on('end', () => resolve(size <= MAX_FORM_BYTES));
    req.on('error', () => resolve(false));
  });
}

function votingOpen(status: LifecycleStatus): boolean {
  return status.phase === 'voting' && status.closeReason === undefined;
}

export function createEmailRoutes(deps: EmailRoutesDeps): HttpRoute[] {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);

  const showVote = async (_req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    const check = verifyVoteLink(deps.tokenKey, match[1]!, now());
    if (!check.ok) return sendHtml(res, check.reason === 'expired' ? 410 : 400, check.reason === 'expired' ? EXPIRED : INVALID);
    const { lifecycleId, candidateId, value } = check.claims;
    const status = await deps.directory.status(lifecycleId).catch(() => undefined);
    const candidate = status?.candidates.find((c) => c.id === candidateId);
    // Mail can arrive before the lifecycle opens voting (it opens once every invitation is out).
    const opening = status?.phase === 'generating' || status?.phase === 'publishing';
    if (status && !opening && !votingOpen(status)) return sendHtml(res, 409, CLOSED);
    if (status && !opening && !candidate) return sendHtml(res, 400, INVALID);
    const label = candidate?.label ?? '';
    const shown = !candidate
      ? ''
      : candidate.kind === 'image'
        ? `<p><img src="/artifacts/${escapeHtml(candidate.artifact.sha256)}" alt="Candidate ${escapeHtml(label)}"></p>`
        : `<pre>${escapeHtml(candidate.text ?? '')}</pre>`;
    const on = label ? ` for candidate ${label}` : '';
    const action = value === 'retract' ? `Withdraw my vote${label ? ` on candidate ${label}` : ''}` : `Record ${VALUE_TEXT[value]}${on}`;
    sendHtml(
      res,
      200,
      page(
        'Confirm your vote',
        `${status ? `<p class="muted">Prompt: ${escapeHtml(status.prompt)}</p>` : ''}${shown}` +
          // No action attribute: the form posts back to this URL, token included. Works without JavaScript.
          `<form method="post"><button type="submit">${escapeHtml(action)}</button></form>` +
          '<p class="muted">Nothing is counted until you press the button.</p>',
      ),
    );
  };

  /** While the lifecycle is still sending its invitations, wait a little for voting to open. */
  const voteWhenOpen = (lifecycleId: string, vote: VoteRequest) =>
    retrying(() => deps.directory.vote(lifecycleId, vote), {
      delayMs: delaySchedule(NOT_OPEN_WAITS_MS),
      retryable: (err) => err instanceof VoteRejectedError && err.code === 'voting_not_open',
    });

  const castVote = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    const token = match[1]!;
    if (!(await drain(req))) return sendHtml(res, 413, INVALID);
    const check = verifyVoteLink(deps.tokenKey, token, now());
    if (!check.ok) return sendHtml(res, check.reason === 'expired' ? 410 : 400, check.reason === 'expired' ? EXPIRED : INVALID);
    const { lifecycleId, rater, candidateId, value } = check.claims;
    const tokenHash = linkTokenHash(token);
    const vote = linkVoteRequest(token, check.claims, new Date(now()).toISOString());
    try {
      const receipt = await voteWhenOpen(lifecycleId, vote);
      log('info', 'email link vote', { lifecycleId, rater, candidateId, value, outcome: receipt.outcome });
      // Temporal answers a repeated update id with the first answer ("recorded"), so whether this link
      // was used before is remembered here; either way the vote counted once.
      const firstUse = await deps.state.claim(`link-${tokenHash}`).catch(() => true);
      const [title, text] = OUTCOME_TEXT[firstUse ? receipt.outcome : 'duplicate'](receipt.candidate.label, value);
      return sendHtml(res, 200, page(title, `<p>${escapeHtml(text)}</p>${verdictHtml(receipt.gold)}`));
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        log('debug', 'email link vote refused', { lifecycleId, rater, code: err.code });
        if (err.code === 'voting_closed') return sendHtml(res, 409, CLOSED);
        if (err.code === 'wrong_channel') return sendHtml(res, 403, WRONG_CHANNEL);
        if (err.code === 'answer_final') return sendHtml(res, 409, ANSWER_FINAL);
        if (err.code === 'voting_not_open' || err.code === 'busy') {
          return sendHtml(res, 503, page('Try again', '<p>Voting is not ready for your vote right now. Please press back and try again in a moment.</p>'));
        }
        return sendHtml(res, 400, INVALID);
      }
      log('error', 'email link vote failed', { lifecycleId, rater, error: err instanceof Error ? err.message : String(err) });
      return sendHtml(res, 502, page('Try again', '<p>We could not reach the vote just now. Please press back and try again.</p>'));
    }
  };

  const showJudgement = async (_req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    const check = verifyJudgementLink(deps.tokenKey, match[1]!, now());
    if (!check.ok) return sendHtml(res, check.reason === 'expired' ? 410 : 400, check.reason === 'expired' ? EXPIRED : INVALID);
    const { lifecycleId, left, right, choice } = check.claims;
    const status = await deps.directory.status(lifecycleId).catch(() => undefined);
    const opening = status?.phase === 'generating' || status?.phase === 'publishing';
    if (status && !opening && !votingOpen(status)) return sendHtml(res, 409, CLOSED);
    const sides = [status?.candidates.find((c) => c.id === left), status?.candidates.find((c) => c.id === right)] as const;
    if (status && !opening && (!sides[0] || !sides[1])) return sendHtml(res, 400, INVALID);
    // Shown as the rater's mail showed them: A (left) then B (right), by position, never by model.
    const shown = sides.map((c, i) => {
      if (!c) return '';
      const name = i === 0 ? 'A' : 'B';
      return `<h2>${name}</h2>${c.kind === 'image' ? `<p><img src="/artifacts/${escapeHtml(c.artifact.sha256)}" alt="${name}"></p>` : `<pre>${escapeHtml(c.text ?? '')}</pre>`}`;
    }).join('');
    const action = choice === 'retract' ? 'Withdraw my answer' : `Record: ${CHOICE_TEXT[choice]}`;
    sendHtml(res, 200, page(
      'Confirm your answer',
      `${status ? `<p class="muted">Prompt: ${escapeHtml(status.prompt)}</p><p><strong>${escapeHtml(status.question ?? 'Which is better?')}</strong></p>` : ''}${shown}` +
        `<form method="post"><button type="submit">${escapeHtml(action)}</button></form>` +
        '<p class="muted">Nothing is counted until you press the button.</p>',
    ));
  };

  const judgeWhenOpen = (lifecycleId: string, judgement: JudgementRequest) =>
    retrying(() => deps.directory.judge(lifecycleId, judgement), {
      delayMs: delaySchedule(NOT_OPEN_WAITS_MS),
      retryable: (err) => err instanceof VoteRejectedError && err.code === 'voting_not_open',
    });

  const castJudgement = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    const token = match[1]!;
    if (!(await drain(req))) return sendHtml(res, 413, INVALID);
    const check = verifyJudgementLink(deps.tokenKey, token, now());
    if (!check.ok) return sendHtml(res, check.reason === 'expired' ? 410 : 400, check.reason === 'expired' ? EXPIRED : INVALID);
    const { lifecycleId, rater, left, right, choice } = check.claims;
    try {
      const receipt = await judgeWhenOpen(lifecycleId, linkJudgementRequest(token, check.claims, new Date(now()).toISOString()));
      log('info', 'email link judgement', { lifecycleId, rater, left, right, choice, outcome: receipt.outcome });
      const firstUse = await deps.state.claim(`link-${linkTokenHash(token)}`).catch(() => true);
      const [title, text] = JUDGEMENT_OUTCOME_TEXT[firstUse ? receipt.outcome : 'duplicate'](choice);
      return sendHtml(res, 200, page(title, `<p>${escapeHtml(text)}</p>${verdictHtml(receipt.gold)}`));
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        log('debug', 'email link judgement refused', { lifecycleId, rater, code: err.code });
        if (err.code === 'voting_closed') return sendHtml(res, 409, CLOSED);
        if (err.code === 'answer_final') return sendHtml(res, 409, ANSWER_FINAL);
        if (err.code === 'voting_not_open' || err.code === 'busy') {
          return sendHtml(res, 503, page('Try again', '<p>Voting is not ready for your answer right now. Please press back and try again in a moment.</p>'));
        }
        if (err.code === 'choice_not_offered') return sendHtml(res, 400, page('Answer not offered', '<p>"Both bad" is not an answer on this comparison; nothing was counted.</p>'));
        return sendHtml(res, 400, INVALID);
      }
      log('error', 'email link judgement failed', { lifecycleId, rater, error: err instanceof Error ? err.message : String(err) });
      return sendHtml(res, 502, page('Try again', '<p>We could not reach the vote just now. Please press back and try again.</p>'));
    }
  };

  const showUnsubscribe = async (_req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    if (!verifyUnsubscribe(deps.tokenKey, match[1]!)) return sendHtml(res, 400, INVALID);
    sendHtml(res, 200, page('Stop rating emails?', '<p>You will get no more rating requests, reminders or results from Prefline.</p><form method="post"><button type="submit">Stop these emails</button></form>'));
  };

  const unsubscribe = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => {
    if (!(await drain(req))) return sendHtml(res, 413, INVALID);
    const rater = verifyUnsubscribe(deps.tokenKey, match[1]!);
    if (!rater) return sendHtml(res, 400, INVALID);
    await deps.state.optOut(rater, new Date(now())); // false if already opted out: same answer
    log('info', 'email opt-out', { rater });
    sendHtml(res, 200, page('Unsubscribed', '<p>Done: Prefline will not email you again.</p>'));
  };

  const css = async (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600', 'Content-Length': String(Buffer.byteLength(CSS)) });
    res.end(CSS);
  };

  return [
    { pattern: new RegExp(`^/email/v/${TOKEN}$`), methods: { GET: showVote, HEAD: showVote, POST: castVote } },
    { pattern: new RegExp(`^/email/j/${TOKEN}$`), methods: { GET: showJudgement, HEAD: showJudgement, POST: castJudgement } },
    { pattern: new RegExp(`^/email/unsubscribe/${TOKEN}$`), methods: { GET: showUnsubscribe, HEAD: showUnsubscribe, POST: unsubscribe } },
    { pattern: /^\/email\/page\.css$/, methods: { GET: css, HEAD: css } },
  ];
}
