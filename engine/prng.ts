/**
 * mulberry32: a tiny seeded PRNG on the host, uniform in [0, 1) — for test and benchmark inputs, the
 * playground and the synthetic data (the GPU's own generator is Philox, ops/creation.ts).
 * @example const r = mulberry32(1); r(); // 0.6270739405881613
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
