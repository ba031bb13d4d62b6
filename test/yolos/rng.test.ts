import { describe, it, expect } from 'vitest';
import { mulberry32, hashSeed, randInt, choice, normalSampler } from '../../yolos/data/rng.ts';

describe('data rng', () => {
  it('mulberry32 reproduces the reference stream', () => {
    // mulberry32(1) first output, as printed by the reference JS implementation.
    expect(mulberry32(1)()).toBe(0.6270739405881613);
    const a = mulberry32(42),
      b = mulberry32(42);
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
  });

  it('hashSeed gives distinct seeds per item (a bijection in k below 2^32) and per stream', () => {
    const seen = new Set<number>();
    for (let k = 0; k < 50000; k++) seen.add(hashSeed(7, k));
    expect(seen.size).toBe(50000);
    expect(hashSeed(7, 3)).not.toBe(hashSeed(8, 3));
    expect(hashSeed(7, 2 ** 32)).not.toBe(hashSeed(7, 0)); // high bits of k are mixed in too
  });

  it('randInt is inclusive at both ends and uniform; choice picks every element', () => {
    // 6000 draws over 6 values: 1000 each, σ ≈ 29 → ±150 is > 5σ.
    const r = mulberry32(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 6000; i++) counts[randInt(r, 2, 7) - 2]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const picked = new Set(Array.from({ length: 200 }, () => choice(r, ['a', 'b', 'c'])));
    expect(picked.size).toBe(3);
  });

  it('normalSampler has mean 0 and variance 1', () => {
    // n = 40 000: mean ± 1/√n = 0.005 → |mean| < 0.025; variance ± √(2/n) ≈ 0.007 → within 0.035.
    const n = normalSampler(mulberry32(9));
    let s = 0,
      s2 = 0;
    const N = 40000;
    for (let i = 0; i < N; i++) {
      const v = n();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / N)).toBeLessThan(0.025);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.035);
  });
});
