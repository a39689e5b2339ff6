/**
 * `ingestCandidates`: the generate step of a lifecycle whose candidates are brought in (no inference).
 * Each brought candidate is resolved, checked and stored content-addressed:
 * - `sha256:` an artifact the store must hold already (read and verified);
 * - `file:` a file under the import root (PREFLINE_IMPORT_ROOT), never one outside it (store/import-files.ts);
 * - `https:` downloaded under the download rules (connectors/http/safe-download.ts: no private addresses, size cap);
 * - an inline text.
 * The kind and mime type come from the bytes (store/media-type.ts), and must agree with a `kind` the
 * input gave. Provenance: backend `import`, with the source and the metadata.
 *
 * Every candidate is read and checked before any is stored, so a refused one leaves the store as it
 * was. Idempotent and resumable like generateCandidates: stored candidates are heartbeated, so a retry
 * skips them, and storing the same bytes again writes nothing. A refused reference (outside the root,
 * a private address, not an image or text, missing artifact) fails the lifecycle without retries;
 * cancellation stops a download in flight.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { SafeDownloader } from '../connectors/http/safe-download';
import { ImportRefusedError } from '../store/import-errors';
import { checkCandidateFile, readUnderRoot, storeCheckedFile, type CheckedFile } from '../store/import-files';
import type { BroughtCandidate, BroughtSource, Candidate } from '../workflows/types';
import { ArtifactNotFoundError, type ArtifactStore } from '../store/ArtifactStore';
import { MAX_CANDIDATE_TEXT, candidateLabel } from './candidate-text';
import { toActivityFailure } from './failures';
import type { InferenceActivities, IngestCandidatesRequest } from './types';

/** Well under the workflow's inference heartbeat timeout (30 s). */
const HEARTBEAT_EVERY_MS = 5000;

export interface IngestDeps {
  artifacts: ArtifactStore;
  /** Downloads of `https:` references, under the configured download rules. */
  downloader: SafeDownloader;
  /** PREFLINE_IMPORT_ROOT; without it `file:` references are refused. */
  importRoot?: string;
  /** Largest file read or stored (the download cap, PREFLINE_DOWNLOAD_MAX_BYTES). */
  maxBytes: number;
}

interface IngestProgress {
  done: Candidate[];
}

/** How a source is written in the input, for messages and provenance. */
export function sourceText(source: BroughtSource): string {
  switch (source.kind) {
    case 'artifact': return `sha256:${source.sha256}`;
    case 'file': return `file:${source.path}`;
    case 'url': return source.url;
    case 'text': return 'inline text';
  }
}

/** The bytes of a brought candidate, read or downloaded and checked; nothing stored yet. */
async function resolve(deps: IngestDeps, brought: BroughtCandidate, name: string, signal: AbortSignal): Promise<CheckedFile & { fetchedFrom?: string }> {
  const { source } = brought;
  const expect = brought.kind !== undefined ? { kind: brought.kind } : {};
  switch (source.kind) {
    case 'artifact': {
      // Read (and verified) rather than trusted: its kind comes from its bytes like any other's.
      const { bytes } = await deps.artifacts.read(source.sha256).catch((err: unknown) => {
        if (err instanceof ArtifactNotFoundError) throw new ImportRefusedError(`${name}: the artifact store holds no such artifact (prefline import puts files there)`, { cause: err });
        throw err;
      });
      return checkCandidateFile(bytes, name, expect);
    }
    case 'file': {
      if (deps.importRoot === undefined) {
        throw new ImportRefusedError(`${name}: file: references need PREFLINE_IMPORT_ROOT on the inference workers, and it is not set`);
      }
      return checkCandidateFile(await readUnderRoot(deps.importRoot, source.path, deps.maxBytes), name, expect);
    }
    case 'url': {
      const downloaded = await deps.downloader.download(source.url, { signal });
      return { ...checkCandidateFile(downloaded.bytes, name, expect), fetchedFrom: downloaded.url };
    }
    case 'text':
      return checkCandidateFile(new TextEncoder().encode(source.text), name, { kind: 'text' });
  }
}

export function createIngestActivities(deps: IngestDeps): Pick<InferenceActivities, 'ingestCandidates'> {
  return {
    async ingestCandidates(request: IngestCandidatesRequest): Promise<Candidate[]> {
      const ctx = Context.current();
      const previous = ctx.info.heartbeatDetails as IngestProgress | undefined;
      const progress: IngestProgress = { done: previous?.done ?? [] };
      const finished = new Set(progress.done.map((c) => c.id));
      // On a clock too: a download may take a while, and the short heartbeat timeout is what lets a
      // crashed worker's attempt be retried fast.
      const ticker = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
      const step = async <T>(fn: () => Promise<T>): Promise<T> => {
        try {
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          return await fn();
        } catch (err) {
          // Cancelled: rethrow the cancellation itself, so Temporal cancels (or retries) the activity as it should.
          const { aborted, reason } = ctx.cancellationSignal;
          if (aborted && reason instanceof CancelledFailure) throw reason;
          throw toActivityFailure(err);
        }
      };
      try {
        const pending = request.brought.map((brought, i) => ({ brought, i })).filter(({ i }) => !finished.has(`c${i + 1}`));
        const checked: Array<CheckedFile & { fetchedFrom?: string; startedAt: number }> = [];
        for (const { brought, i } of pending) {
          const startedAt = Date.now();
          checked.push({ ...(await step(() => resolve(deps, brought, candidateName(brought, i), ctx.cancellationSignal))), startedAt });
          ctx.heartbeat(progress);
        }
        for (const [k, { brought, i }] of pending.entries()) {
          progress.done.push(await step(() => storeOne(deps, brought, i, checked[k]!)));
          ctx.heartbeat(progress);
        }
      } finally {
        clearInterval(ticker);
      }
      return [...progress.done].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
    },
  };
}

function candidateName(brought: BroughtCandidate, i: number): string {
  return `candidates[${i}] (${sourceText(brought.source)})`;
}

/** The i-th brought candidate, stored: candidate `c<i+1>`, label A, B, …, provenance backend `import`. */
async function storeOne(deps: IngestDeps, brought: BroughtCandidate, i: number, checked: CheckedFile & { fetchedFrom?: string; startedAt: number }): Promise<Candidate> {
  const source = sourceText(brought.source);
  const stored = await storeCheckedFile(deps.artifacts, checked);
  return {
    id: `c${i + 1}`,
    label: candidateLabel(i),
    model: brought.model,
    kind: stored.kind,
    artifact: stored.artifact,
    ...(stored.text !== undefined ? { text: stored.text.slice(0, MAX_CANDIDATE_TEXT) } : {}),
    placeholder: false,
    provenance: {
      backend: 'import',
      model: brought.model,
      params: {},
      seed: 0,
      wallTimeMs: Date.now() - checked.startedAt,
      extra: {
        source,
        ...(checked.fetchedFrom !== undefined && checked.fetchedFrom !== source ? { fetchedFrom: checked.fetchedFrom } : {}),
        ...(brought.metadata !== undefined ? { metadata: brought.metadata } : {}),
      },
    },
  };
}
