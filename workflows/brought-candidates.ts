/**
 * Validation of brought-in candidates (`candidates` as an array in a lifecycle's input): files and
 * texts rated without inference. Pure, like input.ts, whose rules it shares; every problem names its
 * field (`candidates[1].ref: …`). What a reference points at is checked when it is ingested
 * (activities/ingest.ts): whether the artifact exists, whether the file stays under the import root,
 * whether the URL passes the download rules.
 */
import type { BroughtCandidate, BroughtSource, CandidateKind } from './types';

/** Inline texts are short answers; anything longer belongs in a file. */
export const MAX_INLINE_TEXT = 4000;
export const MAX_REF_LENGTH = 2048;
export const MAX_METADATA_KEYS = 32;
export const MAX_METADATA_VALUE_LENGTH = 500;

const SHA256_REF = /^sha256:([0-9a-fA-F]{64})$/;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
// C0/C1 controls, line and paragraph separators, bidirectional overrides: never in a label, path or question.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_IN_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/;

const ITEM_FIELDS = new Set(['ref', 'text', 'model', 'metadata', 'kind']);

/** Whether `text` is one line of printable text (no controls, separators or direction overrides). */
export function isOneLine(text: string): boolean {
  return !UNSAFE_IN_LINE.test(text);
}

/**
 * Why `path` is not a path under the import root as written in a `file:` reference, or undefined:
 * relative, `/`-separated, without `.` or `..` segments or empty ones. (The ingest step checks again,
 * on the real path, that no symbolic link leads out of the root.)
 */
export function importPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'must be relative to the import root, not absolute';
  if (path.includes('\\')) return 'must use "/" between folders';
  if (!isOneLine(path)) return 'must not hold control characters';
  const segments = path.split('/');
  if (segments.some((s) => s === '..')) return 'must not leave the import root ("..")';
  if (segments.some((s) => s === '' || s === '.')) return 'must not hold empty or "." segments';
  return undefined;
}

function parseSource(field: string, item: Record<string, unknown>, errors: string[]): BroughtSource | undefined {
  const { ref, text } = item;
  if (ref !== undefined && text !== undefined) {
    errors.push(`${field}: give "ref" or "text", not both`);
    return undefined;
  }
  if (text !== undefined) {
    if (typeof text !== 'string' || text.trim() === '') errors.push(`${field}.text: must be a non-empty string`);
    else if (text.length > MAX_INLINE_TEXT) errors.push(`${field}.text: must be at most ${MAX_INLINE_TEXT} characters; put longer texts in a file`);
    else return { kind: 'text', text };
    return undefined;
  }
  if (typeof ref !== 'string' || ref.trim() === '') {
    errors.push(`${field}.ref: required (or "text"): "sha256:<hex>", "file:<path under the import root>" or "https://…"`);
    return undefined;
  }
  if (ref.length > MAX_REF_LENGTH) {
    errors.push(`${field}.ref: must be at most ${MAX_REF_LENGTH} characters`);
    return undefined;
  }
  const digest = SHA256_REF.exec(ref);
  if (digest) return { kind: 'artifact', sha256: digest[1]!.toLowerCase() };
  if (ref.startsWith('file:')) {
    const path = ref.slice('file:'.length);
    const problem = importPathProblem(path);
    if (problem) errors.push(`${field}.ref: the path ${JSON.stringify(path)} ${problem}`);
    else return { kind: 'file', path };
    return undefined;
  }
  if (/^https?:\/\//i.test(ref)) {
    let url: URL | undefined;
    try {
      url = new URL(ref);
    } catch {
      url = undefined;
    }
    if (!url || url.hostname === '' || !isOneLine(ref)) errors.push(`${field}.ref: ${JSON.stringify(ref.slice(0, 200))} is not a valid URL`);
    else if (url.username || url.password) errors.push(`${field}.ref: URLs with a user name or password are not downloaded`);
    else return { kind: 'url', url: url.href };
    return undefined;
  }
  if (ref.startsWith('sha256:')) errors.push(`${field}.ref: "sha256:" must be followed by 64 hex characters`);
  else errors.push(`${field}.ref: ${JSON.stringify(ref.slice(0, 200))} is not "sha256:<hex>", "file:<path under the import root>" or "https://…"`);
  return undefined;
}

function parseMetadata(field: string, raw: unknown, errors: string[]): Record<string, string | number | boolean> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    errors.push(`${field}.metadata: must be an object of strings, numbers and booleans`);
    return undefined;
  }
  const entries = Object.entries(raw);
  if (entries.length > MAX_METADATA_KEYS) {
    errors.push(`${field}.metadata: at most ${MAX_METADATA_KEYS} keys`);
    return undefined;
  }
  const metadata: Record<string, string | number | boolean> = {};
  for (const [key, value] of entries) {
    if (!METADATA_KEY.test(key)) errors.push(`${field}.metadata: key ${JSON.stringify(key.slice(0, 80))} must be 1–64 letters, digits, "_", "." or "-"`);
    else if (typeof value === 'string' && value.length <= MAX_METADATA_VALUE_LENGTH && isOneLine(value)) metadata[key] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') metadata[key] = value;
    else errors.push(`${field}.metadata.${key}: must be a one-line string of at most ${MAX_METADATA_VALUE_LENGTH} characters, a finite number or a boolean`);
  }
  return metadata;
}

/** Why a model label cannot be one, or undefined: the labels results are counted under. */
export function labelProblem(label: unknown, maxLength: number): string | undefined {
  if (typeof label !== 'string' || label.trim() === '') return 'must be a non-empty string';
  if (label.length > maxLength) return `must be at most ${maxLength} characters`;
  if (!isOneLine(label)) return 'must be one line without control characters';
  return undefined;
}

/**
 * The brought candidates of `raw` (the input's `candidates` array), each labelled by its own `model` or,
 * failing that, by the input's `models[i]` (same count) or `model`.
 */
export function parseBroughtCandidates(
  raw: readonly unknown[],
  labels: { model?: unknown; models?: unknown },
  limits: { min: number; max: number; maxLabelLength: number },
  errors: string[],
): BroughtCandidate[] {
  if (raw.length < limits.min || raw.length > limits.max) {
    errors.push(limits.min === limits.max
      ? `candidates: a compare lifecycle takes exactly ${limits.min} brought candidates, got ${raw.length}`
      : `candidates: bring ${limits.min} to ${limits.max} candidates, got ${raw.length}`);
    return [];
  }
  const models = Array.isArray(labels.models) && labels.models.length === raw.length ? labels.models : undefined;
  if (Array.isArray(labels.models) && !models) errors.push(`models: with brought candidates, give one label per candidate (${raw.length}), or label each candidate`);
  const brought: BroughtCandidate[] = [];
  raw.forEach((entry, i) => {
    const field = `candidates[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      errors.push(`${field}: must be an object like {"ref": "sha256:…", "model": "label"} or {"text": "…", "model": "label"}`);
      return;
    }
    const item = entry as Record<string, unknown>;
    for (const key of Object.keys(item)) if (!ITEM_FIELDS.has(key)) errors.push(`${field}.${key}: unknown field; known: ${[...ITEM_FIELDS].join(', ')}`);
    const before = errors.length;
    const source = parseSource(field, item, errors);
    const outer = models?.[i] ?? labels.model;
    if (item.model !== undefined && models?.[i] !== undefined && item.model !== models[i]) {
      errors.push(`${field}.model: "${String(item.model)}" differs from models[${i}] "${String(models[i])}"; give the label once`);
    }
    const model = item.model ?? outer;
    const labelError = model === undefined ? 'required: the label its results are counted under, e.g. "sdxl"' : labelProblem(model, limits.maxLabelLength);
    if (labelError) errors.push(`${field}.model: ${labelError}`);
    let kind: CandidateKind | undefined;
    if (item.kind !== undefined) {
      if (item.kind !== 'image' && item.kind !== 'text') errors.push(`${field}.kind: must be "image" or "text"`);
      else if (source?.kind === 'text' && item.kind !== 'text') errors.push(`${field}.kind: an inline text is a text`);
      else kind = item.kind;
    }
    const metadata = parseMetadata(field, item.metadata, errors);
    if (errors.length > before || !source) return;
    brought.push({ source, model: (model as string).trim(), ...(metadata !== undefined ? { metadata } : {}), ...(kind !== undefined ? { kind } : {}) });
  });
  return brought;
}
