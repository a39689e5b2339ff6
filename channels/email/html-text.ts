/**
 * The text of an HTML reply, as the reply grammar reads it: quoted originals dropped, block ends as
 * line breaks, entities decoded. One left-to-right pass over the input, so its time is linear in
 * the input's length whatever it holds (`<head` 400,000 times, a megabyte of `<`, 100,000 nested
 * `<blockquote>`s: the inputs that made the regular expressions this replaces quadratic).
 *
 * Every search moves forward only: a search for `>` or a closing tag that found nothing is not
 * repeated from a later position (nothing can be found there either), and one that found something
 * further on is reused until the scan passes it. Tag names and attributes are read from a bounded
 * prefix of each tag.
 */

/** Elements whose content is never text (raw text and RCDATA elements). */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'noscript', 'template', 'xmp']);
/** Tags that end a line of text. */
const LINE_ENDS = new Set(['br', '/p', '/div', '/li', '/h1', '/h2', '/h3', '/h4', '/h5', '/h6', '/tr']);
/** A `<div>` of one of these classes starts the quoted original (Gmail, Thunderbird, Outlook); nothing after it is the rater's. */
const QUOTE_CLASSES = ['gmail_quote', 'moz-cite-prefix', 'outlookmessageheader'];
/** Only this much of a tag is read for its class. */
const TAG_PREFIX = 2000;
/** Sticky: read at the character after `<`. */
const TAG_NAME = /(\/?)([a-z][a-z0-9-]{0,31})/iy;
const ENTITY = /&(#x[0-9a-f]{1,8}|#[0-9]{1,8}|[a-z][a-z0-9]{0,31});/gi;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Finds the next match of a global regex at or after a position, for positions that only move forward. */
function forwardFinder(text: string, pattern: RegExp): (from: number) => number {
  let searchedFrom = Infinity;
  let found = -1;
  return (from) => {
    if (from < searchedFrom || (found !== -1 && from > found)) {
      pattern.lastIndex = from;
      found = pattern.exec(text)?.index ?? -1;
      searchedFrom = from;
    }
    return found;
  };
}

/** Plain substring tests (linear, unlike a regular expression over attributes). */
function isQuoteDiv(tag: string): boolean {
  return tag.includes('class') && QUOTE_CLASSES.some((name) => tag.includes(name));
}

export function decodeEntities(text: string): string {
  return text.replace(ENTITY, (entity, code: string) => {
    if (code[0] === '#') {
      const n = code[1]?.toLowerCase() === 'x' ? parseInt(code.slice(2), 16) : parseInt(code.slice(1), 10);
      return n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : '';
    }
    return NAMED[code.toLowerCase()] ?? entity;
  });
}

/** Reduces HTML to text lines: quoted blocks dropped, block ends become line breaks, entities decoded. */
export function htmlToText(html: string): string {
  const nextGt = forwardFinder(html, />/g);
  const closers = new Map<string, (from: number) => number>();
  const closerOf = (name: string) => {
    let find = closers.get(name);
    if (!find) closers.set(name, (find = forwardFinder(html, new RegExp(`</${name}[\\s/>]`, 'gi'))));
    return find;
  };
  const out: string[] = [];
  let quoteDepth = 0;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const textEnd = lt === -1 ? html.length : lt;
    if (quoteDepth === 0 && textEnd > i) out.push(html.slice(i, textEnd));
    if (lt === -1) break;
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      if (end === -1) break; // an unclosed comment runs to the end
      i = end + 3;
      continue;
    }
    const gt = nextGt(lt + 1);
    TAG_NAME.lastIndex = lt + 1;
    const tag = TAG_NAME.exec(html);
    if (!tag || gt === -1) {
      // Not a tag ("a < b", or a `<` no `>` follows): text, as a browser shows it.
      if (quoteDepth === 0) out.push('<');
      i = lt + 1;
      continue;
    }
    const closing = tag[1] === '/';
    const name = tag[2]!.toLowerCase();
    i = gt + 1;
    if (!closing && RAW_TEXT.has(name)) {
      const end = closerOf(name)(i);
      if (end === -1) break; // unclosed: the rest is its content
      const endGt = nextGt(end);
      if (endGt === -1) break;
      i = endGt + 1;
      continue;
    }
    if (name === 'blockquote') {
      quoteDepth = closing ? Math.max(0, quoteDepth - 1) : quoteDepth + 1;
      if (closing && quoteDepth === 0) out.push('\n');
      continue;
    }
    if (!closing && name === 'div' && isQuoteDiv(html.slice(lt, Math.min(gt, lt + TAG_PREFIX)).toLowerCase())) {
      out.push('\n');
      break;
    }
    if (quoteDepth === 0 && LINE_ENDS.has(`${tag[1]}${name}`)) out.push('\n');
  }
  return decodeEntities(out.join(''));
}
