/**
 * Reading a rater's reply: the text of a MIME message, the first line the rater wrote (quoted text
 * ignored), and the vote grammar. Pure and bounded; no Temporal, no I/O.
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
import { createHash } from 'node:crypto';
import type { VoteValue } from '../../workflows/types';

export interface InboundMessage {
  headers: Map<string, string[]>;
  messageId?: string;
  /** The reply's text: its first text/plain part, else its HTML reduced to text. */
  text: string;
}

const MAX_PARTS = 50;
const MAX_DEPTH = 5;

export function header(message: InboundMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

/** Parses a raw RFC 5322 message just far enough to find its text. */
export function readMessage(raw: Buffer): InboundMessage {
  const { headers, body } = splitEntity(raw.toString('latin1'));
  const messageId = /<[^<>\s]{1,250}>/.exec(headers.get('message-id')?.[0] ?? '')?.[0];
  const parts: Array<{ type: string; text: string }> = [];
  collectText(headers, body, parts, 0);
  const plain = parts.find((p) => p.type === 'text/plain');
  const html = parts.find((p) => p.type === 'text/html');
  const text = plain ? plain.text : html ? htmlToText(html.text) : '';
  return { headers, ...(messageId ? { messageId } : {}), text };
}

/** A stable key for an inbound message: its Message-ID, else a hash of its bytes. */
export function messageKey(message: InboundMessage, raw: Buffer): string {
  return message.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

function splitEntity(entity: string): { headers: Map<string, string[]>; body: string } {
  const end = /^\r?\n/.exec(entity) ?? /\r?\n\r?\n/.exec(entity); // a part may have no headers
  const head = end ? entity.slice(0, end.index) : entity;
  const body = end ? entity.slice(end.index + end[0].length) : '';
  const headers = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { headers, body };
}

function contentType(headers: Map<string, string[]>): { type: string; params: Record<string, string> } {
  const [type = 'text/plain', ...rest] = (headers.get('content-type')?.[0] ?? 'text/plain').split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type.trim().toLowerCase(), params };
}

function collectText(headers: Map<string, string[]>, body: string, out: Array<{ type: string; text: string }>, depth: number): void {
  if (out.length >= MAX_PARTS || depth > MAX_DEPTH) return;
  const { type, params } = contentType(headers);
  if (/^attachment/i.test(headers.get('content-disposition')?.[0] ?? '')) return;
  if (type.startsWith('multipart/') && params.boundary) {
    const delimiter = escapeRegExp(`--${params.boundary}`);
    const close = new RegExp(`(?:^|\\r?\\n)${delimiter}--`).exec(body);
    const inner = close ? body.slice(0, close.index) : body; // drop the epilogue
    const sections = inner.split(new RegExp(`(?:^|\\r?\\n)${delimiter}[ \\t]*(?:\\r?\\n|$)`));
    for (const section of sections.slice(1, MAX_PARTS)) {
      const part = splitEntity(section);
      collectText(part.headers, part.body, out, depth + 1);
    }
    return;
  }
  if (type !== 'text/plain' && type !== 'text/html') return;
  const encoding = (headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  const bytes = encoding === 'base64' ? Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : Buffer.from(body, 'latin1');
  out.push({ type, text: decodeCharset(bytes, params.charset ?? 'utf-8') });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decodeQuotedPrintable(body: string): Buffer {
  const soft = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === '=' ? soft.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(soft.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes); // unknown charset: best effort
  }
}

/** Reduces HTML to text lines: quoted blocks dropped, block ends become line breaks, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<blockquote\b[\s\S]*<\/blockquote\s*>/gi, '\n') // quoted original (Gmail, Apple Mail, Thunderbird)
    .replace(/<div[^>]*class="?[^">]*(gmail_quote|moz-cite-prefix|OutlookMessageHeader)[\s\S]*$/i, '\n')
    .replace(/<(br|\/p|\/div|\/li|\/h\d|\/tr)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, code: string) => {
      if (code[0] === '#') {
        const n = code[1]?.toLowerCase() === 'x' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
        return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '';
      }
      return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' } as Record<string, string>)[code.toLowerCase()] ?? entity;
    });
}

/** Where the quoted original starts in top-posted replies (Outlook, Apple Mail, forwarded copies). */
const ORIGINAL_MARKER = /^(-{2,}\s*(original message|forwarded message|urspr[üu]ngliche nachricht)\s*-{2,}|_{10,}|-- ?)$/i;
/** "On Mon, 2 Mar 2026 at 10:00, Prefline <vote+…@…> wrote:", possibly wrapped over two lines, and its translations. */
const ATTRIBUTION_START = /^(on|am|le|el|il|op)\s/i;
const ATTRIBUTION_END = /(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$/i;

/** The first line the rater wrote above or below the quoted original; undefined if none. */
export function firstReplyLine(text: string): string | undefined {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.replace(/[\u00a0\u2000-\u200a]/g, ' ').replace(/[\u200b\ufeff]/g, '').trim());
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
