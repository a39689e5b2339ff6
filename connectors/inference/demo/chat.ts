/**
 * The demo backend's chat replies (`demo:text`): deterministic placeholder text from the conversation
 * and the seed, streamed a word at a time at a fixed pace so streaming is visible offline. Same
 * conversation and seed give the same reply, word for word.
 */
import { InferenceCanceledError, UnknownModelError } from '../../../core/errors';
import { abortableSleep } from '../http-util';
import type { ChatCompletion, ChatRequest } from '../types';
import { seededRng } from './rng';
import { generateText } from './text';

/** Default pause before each word (PREFLINE_CHAT_DEMO_TOKEN_MS). */
export const DEFAULT_DEMO_TOKEN_MS = 15;

/** The reply's words, each with the space that follows it: the pieces streamed. */
export function demoChatPieces(request: Pick<ChatRequest, 'messages' | 'seed'>): string[] {
  const last = [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  // The whole conversation seeds the words, so a second turn with the same message reads differently.
  const history = request.messages.map((m) => `${m.role}:${m.content}`).join('\0');
  const text = generateText(seededRng('chat', request.seed, history), last);
  return text.match(/\S+\s*/g) ?? [text];
}

export async function demoChat(request: ChatRequest, tokenMs: number): Promise<ChatCompletion> {
  if (request.model !== 'text') throw new UnknownModelError(`demo model "${request.model}" cannot chat; the demo chat model is demo:text`);
  const started = Date.now();
  const pieces = demoChatPieces(request);
  let ttftMs: number | undefined;
  try {
    for (const piece of pieces) {
      if (tokenMs > 0) await abortableSleep(tokenMs, request.signal);
      else if (request.signal?.aborted) throw request.signal.reason;
      ttftMs ??= Date.now() - started;
      request.onDelta?.(piece);
    }
  } catch (err) {
    throw new InferenceCanceledError('demo chat reply canceled', { cause: err });
  }
  const text = pieces.join('');
  const words = pieces.length;
  const promptWords = request.messages.reduce((n, m) => n + (m.content.match(/\S+/g)?.length ?? 0), 0);
  return {
    text,
    placeholder: true,
    provenance: {
      version: 'demo-1',
      ...(ttftMs !== undefined ? { ttftMs } : {}),
      // Words stand in for tokens: the demo has no tokenizer.
      usage: { prompt_tokens: promptWords, completion_tokens: words, total_tokens: promptWords + words },
      chunks: words,
      finishReason: 'stop',
    },
  };
}
