/**
 * Turns a succeeded prediction's `output` into bytes. File outputs are downloaded at once because
 * Replicate deletes them an hour after the prediction; language-model token arrays are joined.
 */
import { InferenceFailedError } from '../../../core/errors';
import { mimeEssence, sniffImageMime, TEXT_MIME } from '../http-util';
import { EmptyOutputError, OutputFetchFailedError } from '../remote-errors';
import type { GeneratedOutput } from '../types';

export type OutputContent = Pick<GeneratedOutput, 'kind' | 'bytes' | 'mime' | 'text'> & { outputCount?: number };

export interface DownloadOptions {
  fetch: typeof fetch;
  signal?: AbortSignal;
  timeoutMs: number;
  /** Extra headers for a URL (the API token, only for the API's own origin). */
  headersFor: (url: string) => Record<string, string>;
  predictionId: string;
}

const isFileUrl = (v: unknown): v is string => typeof v === 'string' && /^(https?:|data:)\S+$/.test(v.trim());

export async function readOutput(output: unknown, options: DownloadOptions): Promise<OutputContent> {
  const empty = new EmptyOutputError(`Replicate prediction ${options.predictionId} succeeded with no output`);
  if (output == null) throw empty;
  const items = Array.isArray(output) ? output.filter((v) => v != null) : [output];
  if (items.length === 0) throw empty;

  if (items.every(isFileUrl)) {
    // One candidate is one file; models that return several files get their first, and we say how many there were.
    const file = await download(items[0]!.trim(), options);
    return items.length > 1 ? { ...file, outputCount: items.length } : file;
  }
  if (items.every((v) => typeof v === 'string')) {
    // Language models stream tokens: the output is an array of fragments to concatenate as-is.
    const text = (items as string[]).join('');
    if (text.trim() === '') throw empty;
    return textContent(text);
  }
  // Structured output (objects, numbers): keep it whole as JSON text.
  const text = JSON.stringify(Array.isArray(output) ? items : output);
  return { ...textContent(text), mime: 'application/json' };
}

function textContent(text: string): OutputContent {
  return { kind: 'text', bytes: new TextEncoder().encode(text), mime: TEXT_MIME, text };
}

async function download(url: string, options: DownloadOptions): Promise<OutputContent> {
  const where = url.startsWith('data:') ? 'data: URL' : url;
  const fail = (why: string, cause?: unknown): OutputFetchFailedError =>
    new OutputFetchFailedError(`output of Replicate prediction ${options.predictionId} could not be downloaded from ${where}: ${why}`, options.predictionId, cause !== undefined ? { cause } : undefined);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let bytes: Uint8Array;
  let header: string;
  try {
    const response = await options.fetch(url, { headers: options.headersFor(url), signal });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw fail(`HTTP ${response.status}`);
    }
    header = mimeEssence(response.headers.get('content-type'));
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    if (options.signal?.aborted || err instanceof OutputFetchFailedError) throw err;
    throw fail(timeout.aborted ? `timed out after ${options.timeoutMs} ms` : String((err as Error)?.message ?? err), err);
  }
  if (bytes.byteLength === 0) throw new EmptyOutputError(`output file of Replicate prediction ${options.predictionId} is empty`);

  // Servers (and data: URLs) often say octet-stream or nothing: trust the magic bytes then.
  const mime = header === '' || header.endsWith('/octet-stream') ? sniffImageMime(bytes) ?? header : header;
  if (mime.startsWith('image/')) return { kind: 'image', bytes, mime };
  if (mime.startsWith('text/') || mime === 'application/json') {
    const text = new TextDecoder().decode(bytes);
    return { kind: 'text', bytes, mime: mime.startsWith('text/') ? TEXT_MIME : mime, text };
  }
  throw new InferenceFailedError(`output of Replicate prediction ${options.predictionId} is ${mime || 'of unknown type'}; only images and text can be rated`);
}
