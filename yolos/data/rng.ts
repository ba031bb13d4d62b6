/**
 * Small seeded PRNGs for the data pipeline (CPU side; the GPU has its own Philox in engine/).
 *
 * - `mulberry32(seed)`: a 32-bit-state generator, uniform in [0, 1) with 2^-32 resolution.
 * - `hashSeed(seed, k)`: splitmix32-style finaliser of (seed, k), so item k of a stream gets its own
 *   independent generator and depends only on (seed, k) — random access, no shared state.
 */
import { mulberry32 } from '../../engine/prng.ts';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** The murmur3/splitmix 32-bit finaliser: a bijection on uint32 with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit seed for item `k` (an integer in [0, 2^53)) of the stream `seed` (taken modulo 2^32).
 * @example const rng = mulberry32(hashSeed(42, 7)); // image 7 of stream 42
 */
export function hashSeed(seed: number, k: number): number {
  const a = fmix32((seed >>> 0) ^ 0x9e3779b9);
  const h = fmix32((a + Math.imul(k >>> 0, 0x9e3779b9) + 0x632be5ab) >>> 0);
  const hi = Math.floor(k / 4294967296) >>> 0; // k ≥ 2^32 (up to 2^53) still gets its own seed
  return hi === 0 ? h : fmix32((h ^ fmix32((hi + 0x7f4a7c15) >>> 0)) >>> 0);
}

export { mulberry32 };

/** Uniform integer in [lo, hi], both inclusive (Python's `random.randint`). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** One element of `xs`, uniformly (Python's `random.choice`). */
export function choice<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)];
}

/**
 * Standard normal samples by Box–Muller; both values of each pair are used.
 * @example const n = normalSampler(mulberry32(3)); n(); n();
 */
export function normalSampler(rng: Rng): () => number {
  let spare = 0;
  let hasSpare = false;
  return () => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u1 = 1 - rng(); // (0, 1]: log is finite
    const u2 = rng();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    hasSpare = true;
    return r * Math.cos(2 * Math.PI * u2);
  };
}
