/**
 * Turns a succeeded prediction's `output` into bytes. File outputs are downloaded at once because
 * Replicate deletes them an hour after the prediction; language-model token arrays are joined.
 * The URLs come from the model, so they are downloaded under the safe downloader's rules
 * (connectors/http/safe-download.ts): a model cannot make the worker fetch its own network.
 */
import { InferenceFailedError } from '../../../core/errors';
import { DownloadFailedError, DownloadRefusedError } from '../../http/errors';
import type { DownloadCredentials, SafeDownloader } from '../../http/safe-download';
import { mimeEssence, sniffImageMime, TEXT_MIME } from '../http-util';
import { EmptyOutputError, OutputFetchFailedError } from '../remote-errors';
import type { GeneratedOutput } from '../types';

export type OutputContent = Pick<GeneratedOutput, 'kind' | 'bytes' | 'mime' | 'text'> & { outputCount?: number };

export interface DownloadOptions {
  downloader: SafeDownloader;
  signal?: AbortSignal;
  /** The API token, sent only to Replicate's file URLs on the API origin (replicateFileCredentials); CDN URLs must not get it. */
  credentials?: DownloadCredentials;
  predictionId: string;
}

/**
 * The API token for output downloads: only for the file-serving paths of the configured API
 * (`<base path>/files/<id>` and `…/<id>/download`, i.e. https://api.replicate.com/v1/files/…), which need
 * it. Any other URL a model outputs goes without it, on the API origin too (`/v1/predictions`,
 * `/v1/account` would answer with the account's data), and so does every redirect hop.
 */
export function replicateFileCredentials(baseUrl: string, apiToken: string): DownloadCredentials {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return { origin: base.origin, path: new RegExp(`^${basePath}/files/[A-Za-z0-9_-]{1,128}(?:/download)?$`), headers: { Authorization: `Bearer ${apiToken}` } };
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
  const what = `output of Replicate prediction ${options.predictionId}`;
  let bytes: Uint8Array;
  let header: string;
  try {
    const downloaded = await options.downloader.download(url, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    header = mimeEssence(downloaded.contentType);
    bytes = downloaded.bytes;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    // A refusal stays non-retryable: the same output meets the same rule on every attempt.
    if (err instanceof DownloadRefusedError) throw new DownloadRefusedError(err.rule, `${what} not downloaded: ${err.message}`, { cause: err });
    // Anything else is retryable: the retry resumes the same prediction, whose file may be there by then.
    const why = err instanceof DownloadFailedError ? err.message : `${where}: ${String((err as Error)?.message ?? err)}`;
    throw new OutputFetchFailedError(`${what} could not be downloaded: ${why}`, options.predictionId, { cause: err });
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
