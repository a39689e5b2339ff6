/**
 * Reading a rater's reply once its text is known (mime.ts): the first line the rater wrote (quoted
 * text ignored), and the vote grammar. Pure and bounded; no Temporal, no I/O.
 *
 * Grammar of the first line the rater wrote (case-insensitive, trailing "." or "!" ignored):
 *
 *   line      = vote *( ("," / ";") vote )
 *   vote      = thumb [candidate] / candidate [thumb]
 *   thumb     = "+1" / "👍" / "up"          ; thumbs up (skin tones allowed)
 *             / "-1" / "👎" / "down"        ; thumbs down
 *             / "retract" / "undo"          ; withdraw my vote
 *   candidate = ["#"] ( "A"…"H" / "1"…"8" ) ; its label, or its position in the email
 *
 * A candidate alone is a thumbs up ("B" = "👍 B"). A thumb alone is allowed only when the lifecycle
 * has exactly one candidate. "+1" and "-1" are always thumbs, never candidate 1 ("👍 1" is).
 */
import type { VoteValue } from '../../workflows/types';
import { stripUnsafeText } from '../../core/text-hygiene';

/** Where the quoted original starts in top-posted replies (Outlook, Apple Mail, forwarded copies). */
const ORIGINAL_MARKER = /^(-{2,}\s*(original message|forwarded message|urspr[üu]ngliche nachricht)\s*-{2,}|_{10,}|-- ?)$/i;
/** "On Mon, 2 Mar 2026 at 10:00, Prefline <vote+…@…> wrote:", possibly wrapped over two lines, and its translations. */
const ATTRIBUTION_START = /^(on|am|le|el|il|op)\s/i;
const ATTRIBUTION_END = /(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$/i;

/** The first line the rater wrote above or below the quoted original; undefined if none. */
export function firstReplyLine(text: string): string | undefined {
  // Control and bidi-override characters are stripped (core/text-hygiene.ts): a reply cannot be
  // refused to its writer's face, and the grammar below decides what the rest means.
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((l) => stripUnsafeText(l).replace(/[\u00a0\u2000-\u200a]/g, ' ').replace(/[\u200b\u200e\u200f\u061c\ufeff]/g, '').trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '' || line.startsWith('>')) continue;
    if (ORIGINAL_MARKER.test(line)) return undefined;
    if (ATTRIBUTION_START.test(line)) {
      if (ATTRIBUTION_END.test(line)) continue;
      if (ATTRIBUTION_END.test(lines[i + 1] ?? '')) {
        i += 1;
        continue;
      }
    }
    return line;
  }
  return undefined;
}

export interface ParsedVote {
  candidateId: string;
  value: VoteValue;
}

const THUMB = /^(\+1(?!\d)|-1(?!\d)|👍[\u{1F3FB}-\u{1F3FF}]?\uFE0F?|👎[\u{1F3FB}-\u{1F3FF}]?\uFE0F?|up|down|retract|undo)/iu;
const CANDIDATE = /^#?([a-h]|[1-8])(?![\p{L}\p{N}])/iu;

function thumbValue(token: string): VoteValue {
  const t = token.toLowerCase();
  if (t === '+1' || t === 'up' || t.startsWith('👍')) return 'up';
  if (t === '-1' || t === 'down' || t.startsWith('👎')) return 'down';
  return 'retract';
}

/**
 * Parses a vote line against the lifecycle's candidates (in email order). Returns the votes (one per
 * candidate, the last mention winning), or undefined if any part of the line is not a vote.
 */
export function parseVoteLine(line: string, candidates: ReadonlyArray<{ id: string; label: string }>): ParsedVote[] | undefined {
  if (line.length > 200) return undefined;
  const votes = new Map<string, VoteValue>();
  for (const raw of line.replace(/[.!]+$/, '').split(/[,;]/)) {
    const part = raw.trim();
    if (part === '') return undefined;
    let value: VoteValue | undefined;
    let ref: string | undefined;
    let rest: string;
    const thumb = THUMB.exec(part);
    if (thumb) {
      value = thumbValue(thumb[0]);
      rest = part.slice(thumb[0].length).replace(/^[\s:]+/, '');
      const cand = CANDIDATE.exec(rest);
      if (cand) {
        ref = cand[1];
        rest = rest.slice(cand[0].length);
      }
    } else {
      const cand = CANDIDATE.exec(part);
      if (!cand) return undefined;
      ref = cand[1];
      rest = part.slice(cand[0].length).replace(/^[\s:]+/, '');
      const after = THUMB.exec(rest);
      value = after ? thumbValue(after[0]) : 'up';
      if (after) rest = rest.slice(after[0].length);
    }
    if (rest.trim() !== '') return undefined;
    const candidate = ref === undefined ? (candidates.length === 1 ? candidates[0] : undefined) : resolveCandidate(ref, candidates);
    if (!candidate) return undefined;
    votes.delete(candidate.id); // keep the order of the last mention
    votes.set(candidate.id, value);
  }
  return votes.size > 0 ? [...votes].map(([candidateId, value]) => ({ candidateId, value })) : undefined;
}

function resolveCandidate(ref: string, candidates: ReadonlyArray<{ id: string; label: string }>): { id: string; label: string } | undefined {
  if (/^\d$/.test(ref)) return candidates[Number(ref) - 1];
  return candidates.find((c) => c.label.toUpperCase() === ref.toUpperCase());
}
