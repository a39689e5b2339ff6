/** Placeholder text for the `demo:text` model: 1–3 templated sentences picked by the seeded RNG. */
import type { Rng } from './rng';

export const TEXT_PLACEHOLDER_PREFIX = '[demo placeholder] ';

const OPENERS = ['Picture', 'Imagine', 'Consider', 'Think of', 'Here is a take on', 'One reading of'];
const FRAMES = [
  'told as a quiet story',
  'seen from far away',
  'described in plain words',
  'as a short field note',
  'in the style of an old postcard',
  'as a one-line summary',
  'framed as a question',
  'from the point of view of a bystander',
];
const ADJECTIVES = ['amber', 'quiet', 'restless', 'silver', 'tiny', 'ancient', 'curious', 'bright', 'patient', 'hollow', 'velvet', 'distant'];
const NOUNS = ['lantern', 'river', 'fox', 'tower', 'garden', 'robot', 'harbor', 'comet', 'library', 'orchard', 'engine', 'meadow'];
const VERBS = ['drifts toward', 'waits beside', 'hums near', 'circles', 'leans over', 'wanders past', 'glows above', 'listens to'];
const PLACES = ['the old bridge', 'a sleeping city', 'the northern hills', 'an empty station', 'the edge of the map', 'a field of glass', 'the evening tide', 'a paper moon'];
const CODAS = ['', ' at dawn', ' after the rain', ' in late autumn', ' while nobody watches', ' for the last time'];

/** The prompt's first few words, whitespace- and control-free, for quoting in the opener. */
function topic(prompt: string): string {
  const words = prompt.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 'an untitled prompt';
  const head = words.slice(0, 8).join(' ');
  const cut = words.length > 8 || head.length > 60;
  return `"${head.slice(0, 60).trimEnd()}${cut ? '…' : ''}"`;
}

export function generateText(rng: Rng, prompt: string): string {
  const sentences = [`${rng.pick(OPENERS)} ${topic(prompt)} ${rng.pick(FRAMES)}.`];
  const extra = rng.int(0, 2);
  for (let i = 0; i < extra; i++) {
    const sentence = `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${rng.pick(VERBS)} ${rng.pick(PLACES)}${rng.pick(CODAS)}.`;
    sentences.push(sentence);
  }
  return TEXT_PLACEHOLDER_PREFIX + sentences.join(' ');
}
