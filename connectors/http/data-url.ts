/**
 * `data:` URLs (RFC 2397) decoded in memory, never fetched: only image and text media types, and
 * no larger than the download cap. The size is judged from the URL's length before anything is
 * decoded.
 */
import { DownloadRefusedError } from './errors';

export interface DecodedDataUrl {
  bytes: Uint8Array;
  /** The declared media type with its parameters (`text/plain;charset=US-ASCII` when none is given). */
  contentType: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function decodeDataUrl(url: string, maxBytes: number): DecodedDataUrl {
  const comma = url.indexOf(',');
  if (!/^data:/i.test(url) || comma < 0) throw new DownloadRefusedError('data-url', 'refused a data: URL: it has no "," before its data');
  const header = url.slice('data:'.length, comma);
  const payload = url.slice(comma + 1);
  const params = header.split(';').map((p) => p.trim());
  const base64 = params.length > 1 && params[params.length - 1]!.toLowerCase() === 'base64';
  if (base64) params.pop();
  const essence = (params[0] ?? '').toLowerCase();
  // RFC 2397: no media type means text/plain;charset=US-ASCII.
  const contentType = essence === '' ? 'text/plain;charset=US-ASCII' : params.join(';');
  const type = /^([a-z0-9!#$&^_.+-]+)\/[a-z0-9!#$&^_.+-]+$/.exec(essence || 'text/plain')?.[1];
  if (type !== 'image' && type !== 'text') {
    throw new DownloadRefusedError('data-url', `refused a data: URL of type "${essence}": only image/* and text/* data: URLs are accepted`);
  }

  // An upper bound of the decoded size, known without decoding.
  const decodedAtMost = base64 ? Math.floor((payload.length * 3) / 4) : Buffer.byteLength(payload, 'utf8');
  if (decodedAtMost > maxBytes) {
    throw new DownloadRefusedError('size', `refused a data: URL of about ${decodedAtMost} bytes: larger than the download cap of ${maxBytes} bytes (PREFLINE_DOWNLOAD_MAX_BYTES)`);
  }
  let bytes: Uint8Array;
  if (base64) {
    const compact = unpercent(payload).replace(/\s+/g, '');
    if (!BASE64.test(compact)) throw new DownloadRefusedError('data-url', 'refused a data: URL: its base64 data is malformed');
    bytes = new Uint8Array(Buffer.from(compact, 'base64'));
  } else {
    bytes = percentDecode(payload);
  }
  return { bytes, contentType };
}

/** Base64 data may itself be percent-encoded (`%2B` for `+`). */
function unpercent(text: string): string {
  return text.includes('%') ? Buffer.from(percentDecode(text)).toString('latin1') : text;
}

/** `%XX` to bytes, everything else as its UTF-8 bytes (the URL standard's percent-decode). */
function percentDecode(text: string): Uint8Array {
  const input = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const hex = input[i] === 0x25 ? input.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = input[i]!;
    }
  }
  return new Uint8Array(out.subarray(0, n));
}
