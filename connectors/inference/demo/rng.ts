/**
 * Deterministic randomness for the demo backends: a SHA-256 of (model, seed, prompt) seeds a
 * small integer PRNG. Integer-only maths, so outputs are identical on every platform.
 */
import { createHash } from 'node:crypto';

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(model: string, seed: number, prompt: string): Rng {
  // NUL separators keep ("ab","c") and ("a","bc") apart; String(seed) is exact for any number.
  const digest = createHash('sha256').update(`demo-1\0${model}\0${String(seed)}\0${prompt}`).digest();
  // sfc32: four 32-bit words of state from the digest.
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32(); // warm up: the first outputs of sfc32 are weakly mixed
  const int = (min: number, max: number): number => min + (u32() % (max - min + 1));
  return {
    u32,
    int,
    pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T,
  };
}
