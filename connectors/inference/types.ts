/**
 * What every inference backend (demo, Replicate, OpenAI-compatible) implements. Plain
 * TypeScript: no Temporal here. The `generateCandidates` activity drives these, heartbeats,
 * and stores the bytes in the artifact store.
 */
import type { CandidateKind } from '../../workflows/types';

export interface GenerateRequest {
  prompt: string;
  /** The part after `backend:` in a model reference, e.g. `shapes` or `owner/name:version`. */
  model: string;
  params: Record<string, unknown>;
  /** Distinct per candidate; derived from `params.seed` (or the lifecycle id) and the candidate index. */
  seed: number;
  /** Aborts the call. Cancels the remote work too, unless `detach` is aborted as well. */
  signal?: AbortSignal;
  /**
   * Aborted (together with `signal`) when the caller only stops waiting: the worker shuts down, the
   * attempt timed out or was paused. Remote work must be left running so a later attempt can resume it
   * through `resumeHandle` instead of paying for it twice.
   */
  detach?: AbortSignal;
  /**
   * Reported by long-running backends as soon as they have a remote handle (a prediction id), so
   * the activity heartbeats it and a retried attempt can `resume` instead of paying twice.
   */
  onRemoteHandle?: (handle: string) => void;
  /** A remote handle from an earlier attempt's heartbeat. */
  resumeHandle?: string;
}

export interface GeneratedOutput {
  kind: CandidateKind;
  bytes: Uint8Array;
  mime: string;
  /** For text outputs, the decoded text. */
  text?: string;
  /** Demo outputs are placeholders for a model, and say so everywhere users see them. */
  placeholder: boolean;
  /** Backend-specific provenance: version, prediction id, predict time, … */
  provenance: { version?: string; predictionId?: string; predictTimeMs?: number; [key: string]: unknown };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One chat reply, streamed: `onDelta` gets each piece of text as the model writes it. */
export interface ChatRequest {
  /** The part after `backend:` in a model reference. */
  model: string;
  /** The conversation so far, oldest first, ending with the user's message. */
  messages: ChatMessage[];
  params: Record<string, unknown>;
  seed: number;
  /** Aborts the call (the activity was cancelled or the worker stops). */
  signal?: AbortSignal;
  onDelta?: (text: string) => void;
}

export interface ChatCompletion {
  text: string;
  /** Demo replies are placeholders for a model, and say so. */
  placeholder: boolean;
  provenance: {
    version?: string;
    predictionId?: string;
    /** From the request to the first piece of text. */
    ttftMs?: number;
    /** The server's token counts, when it reports them. */
    usage?: Record<string, unknown>;
    /** Pieces of text streamed. */
    chunks: number;
    finishReason?: string;
  };
}

export interface InferenceBackend {
  /** `demo`, `replicate`, `openai`. */
  readonly name: string;
  generate(request: GenerateRequest): Promise<GeneratedOutput>;
  /** Backends that can chat (demo `text`, OpenAI-compatible chat models) stream a reply. */
  chat?(request: ChatRequest): Promise<ChatCompletion>;
}
