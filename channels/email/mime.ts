/**
 * Reading an inbound message: its headers, Message-ID and text, by postal-mime (a maintained MIME
 * parser: structure, transfer encodings, charsets, header unfolding), within bounds:
 *
 * - at most MAX_DELIMITER_LINES lines that could be part delimiters (`--…`), counted before parsing
 *   (postal-mime's cost grows with the number of parts);
 * - at most MAX_NESTING parts deep and MAX_HEADER_BYTES of headers in all (postal-mime's own limits);
 * - attached or forwarded messages (`message/rfc822`) are never parsed as part of the reply.
 *
 * A message beyond them is an UnreadableReplyError. The text is the message's text/plain parts, else
 * its HTML reduced to text (html-text.ts); both steps are linear in the message's size. The gateway
 * runs this off its event loop, in worker threads (message-reader.ts).
 */
import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import { htmlToText } from './html-text';
import { UnreadableReplyError } from './errors';

export interface InboundMessage {
  headers: Map<string, string[]>;
  messageId?: string;
  /** The reply's text: its text/plain parts, else its HTML reduced to text. */
  text: string;
}

/** Lines starting with `--` (delimiters, but also signatures and rules) a reply may hold. */
export const MAX_DELIMITER_LINES = 1000;
export const MAX_NESTING = 16;
export const MAX_HEADER_BYTES = 256 * 1024;

export function header(message: InboundMessage, name: string): string | undefined {
  return message.headers.get(name.toLowerCase())?.[0];
}

/** A stable key for an inbound message: its Message-ID, else a hash of its bytes. */
export function messageKey(message: InboundMessage, raw: Buffer): string {
  return message.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

function delimiterLines(raw: Buffer, max: number): number {
  let count = raw.subarray(0, 2).toString('latin1') === '--' ? 1 : 0;
  for (let at = raw.indexOf('\n--'); at !== -1 && count <= max; at = raw.indexOf('\n--', at + 3)) count += 1;
  return count;
}

/** Parses a raw RFC 5322 message far enough to find its headers and text; throws UnreadableReplyError beyond the bounds. */
export async function readMessage(raw: Buffer): Promise<InboundMessage> {
  if (delimiterLines(raw, MAX_DELIMITER_LINES) > MAX_DELIMITER_LINES) throw new UnreadableReplyError(`more than ${MAX_DELIMITER_LINES} MIME delimiter lines`);
  let email: PostalMime.Email;
  try {
    email = await PostalMime.parse(raw, { forceRfc822Attachments: true, maxNestingDepth: MAX_NESTING, maxHeadersSize: MAX_HEADER_BYTES, attachmentEncoding: 'arraybuffer' });
  } catch (err) {
    throw new UnreadableReplyError(`not a readable MIME message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const headers = new Map<string, string[]>();
  for (const { key, value } of email.headers) {
    const values = headers.get(key);
    if (values) values.push(value.trim());
    else headers.set(key, [value.trim()]);
  }
  const messageId = /<[^<>\s]{1,250}>/.exec(headers.get('message-id')?.[0] ?? '')?.[0];
  const text = email.text !== undefined ? email.text : email.html !== undefined ? htmlToText(email.html) : '';
  return { headers, ...(messageId ? { messageId } : {}), text };
}
