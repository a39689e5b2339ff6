/** Inference backends: Replicate (always registered) and an OpenAI-compatible server (when configured). */
import { type Env, duration, list, text } from './read';
import type { PreflineConfig } from './types';

export function readInference(env: Env): Pick<PreflineConfig, 'inference'> {
  return {
    inference: {
      replicate: {
        ...(env.REPLICATE_API_TOKEN ? { apiToken: env.REPLICATE_API_TOKEN } : {}),
        baseUrl: text(env, 'PREFLINE_REPLICATE_BASE_URL').replace(/\/+$/, ''),
        maxWaitMs: duration(env, 'PREFLINE_REPLICATE_MAX_WAIT'),
      },
      ...(env.PREFLINE_OPENAI_BASE_URL
        ? {
            openai: {
              baseUrl: env.PREFLINE_OPENAI_BASE_URL.replace(/\/+$/, ''),
              ...(env.PREFLINE_OPENAI_API_KEY ? { apiKey: env.PREFLINE_OPENAI_API_KEY } : {}),
              imageModels: list(env, 'PREFLINE_OPENAI_IMAGE_MODELS'),
              timeoutMs: duration(env, 'PREFLINE_OPENAI_TIMEOUT'),
            },
          }
        : {}),
    },
  };
}
