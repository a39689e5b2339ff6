/** Maps `backend:model` references to the backend that serves them. */
import { ConfigMissingError, UnknownModelError } from '../../core/errors';
import type { InferenceBackend } from './types';

export class InferenceRegistry {
  private readonly byName = new Map<string, InferenceBackend>();

  constructor(backends: InferenceBackend[]) {
    for (const backend of backends) {
      // Two backends under one name would make model references ambiguous.
      if (this.byName.has(backend.name)) throw new ConfigMissingError(`inference backend "${backend.name}" registered twice`);
      this.byName.set(backend.name, backend);
    }
  }

  /** Registered backend names, in registration order. */
  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** Splits at the first colon, so `replicate:owner/name:version` gives model `owner/name:version`. */
  resolve(modelRef: string): { backend: InferenceBackend; model: string } {
    const colon = modelRef.indexOf(':');
    if (colon <= 0 || colon === modelRef.length - 1) {
      throw new UnknownModelError(`model reference "${modelRef}" is not of the form "backend:model"; available backends: ${this.available()}`);
    }
    const name = modelRef.slice(0, colon);
    const backend = this.byName.get(name);
    if (!backend) throw new UnknownModelError(`unknown inference backend "${name}" in "${modelRef}"; available backends: ${this.available()}`);
    return { backend, model: modelRef.slice(colon + 1) };
  }

  /** The backend of a chat model: one that can stream a reply (demo:text, openai:<model>). */
  resolveChat(modelRef: string): { backend: InferenceBackend & Required<Pick<InferenceBackend, 'chat'>>; model: string } {
    const { backend, model } = this.resolve(modelRef);
    if (!backend.chat) throw new UnknownModelError(`"${modelRef}" cannot chat: the ${backend.name} backend has no chat models`);
    return { backend: backend as InferenceBackend & Required<Pick<InferenceBackend, 'chat'>>, model };
  }

  private available(): string {
    return this.names.join(', ') || '(none)';
  }
}
