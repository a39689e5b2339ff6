/** Shared fixtures of the email tests: keys, a plan and two candidates (an image and a text) in a real artifact store. */
import type { ArtifactStore } from '../../store/ArtifactStore';
import type { Candidate, ChannelSpec, LifecyclePlan } from '../../workflows/types';
import { discPng } from './fake-directory';

export const RATER_KEY = Buffer.from('rater-key-for-email-tests-0123456789');
export const TOKEN_KEY = Buffer.from('token-key-for-email-tests-0123456789');

export function emailPlan(channel: ChannelSpec, prompt = 'a red fox in the snow'): LifecyclePlan {
  return { prompt, models: ['demo:shapes'], candidatesPerModel: 2, params: {}, channel, channelLabel: 'email', quorum: { kind: 'perCandidate', votes: 3 }, deadline: { kind: 'duration', ms: 3_600_000 } };
}

export async function emailCandidates(artifacts: ArtifactStore): Promise<Candidate[]> {
  const image = await artifacts.put(discPng([200, 40, 40]), 'image/png');
  const text = await artifacts.put(Buffer.from('A fox curls up in fresh snow.'), 'text/plain; charset=utf-8');
  const provenance = { backend: 'demo', model: 'shapes', params: {}, seed: 1, wallTimeMs: 1 };
  return [
    { id: 'c1', label: 'A', model: 'demo:shapes', kind: 'image', artifact: image, placeholder: true, provenance },
    { id: 'c2', label: 'B', model: 'demo:text', kind: 'text', artifact: text, text: 'A fox curls up in fresh snow.', placeholder: true, provenance },
  ];
}

