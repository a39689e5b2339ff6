/**
 * The `demo` inference backend: offline, deterministic placeholders for `shapes`, `gradient`
 * (256×256 PNG) and `text`. Same prompt + seed + model gives byte-identical output. Every output
 * is marked as a placeholder (flag, visible label, PNG comment, text prefix).
 */
import { InferenceCanceledError, UnknownModelError } from '../../../core/errors';
import type { GenerateRequest, GeneratedOutput, InferenceBackend } from '../types';
import { DEFAULT_DEMO_TOKEN_MS, demoChat } from './chat';
import { encodePng } from './png';
import { renderGradient, renderShapes } from './raster';
import { seededRng } from './rng';
import { generateText } from './text';

export { TEXT_PLACEHOLDER_PREFIX } from './text';
export { DEFAULT_DEMO_TOKEN_MS, demoChatPieces } from './chat';

export const DEMO_MODELS = ['shapes', 'gradient', 'text'] as const;
export type DemoModel = (typeof DEMO_MODELS)[number];

export const DEMO_VERSION = 'demo-1';
export const DEMO_IMAGE_SIZE = 256;
export const DEMO_PNG_COMMENT = 'Prefline demo placeholder - not a model output';

function isDemoModel(model: string): model is DemoModel {
  return (DEMO_MODELS as readonly string[]).includes(model);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new InferenceCanceledError('demo generation canceled', { cause: signal.reason });
  }
}

function generate(request: GenerateRequest): GeneratedOutput {
  const { model, prompt, seed } = request;
  if (!isDemoModel(model)) {
    throw new UnknownModelError(`unknown demo model "${model}"; available: ${DEMO_MODELS.map((m) => `demo:${m}`).join(', ')}`);
  }
  const rng = seededRng(model, seed, prompt);
  const provenance = { version: DEMO_VERSION, generator: model };
  if (model === 'text') {
    const text = generateText(rng, prompt);
    return { kind: 'text', bytes: Buffer.from(text, 'utf8'), mime: 'text/plain; charset=utf-8', text, placeholder: true, provenance };
  }
  const image = model === 'shapes' ? renderShapes(rng, DEMO_IMAGE_SIZE) : renderGradient(rng, DEMO_IMAGE_SIZE);
  const bytes = encodePng(image, { Comment: DEMO_PNG_COMMENT });
  return { kind: 'image', bytes, mime: 'image/png', placeholder: true, provenance };
}

export interface DemoBackendOptions {
  /** Pause before each word of a chat reply, so streaming is visible (0: none). */
  chatTokenMs?: number;
}

export function createDemoBackend(options: DemoBackendOptions = {}): InferenceBackend {
  const tokenMs = options.chatTokenMs ?? DEFAULT_DEMO_TOKEN_MS;
  return {
    name: 'demo',
    chat: (request) => demoChat(request, tokenMs),
    async generate(request: GenerateRequest): Promise<GeneratedOutput> {
      throwIfAborted(request.signal);
      const output = generate(request);
      throwIfAborted(request.signal); // canceled while rendering: the caller no longer wants it
      return output;
    },
  };
}
