/** The GPU Philox generator: bit-exact against the CPU twin, deterministic, and the right moments. */
import { describe, it, expect } from 'vitest';
import { rand, randn, randomBits, setSeed } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, expectClose } from './util.ts';

useEngine();

describe('Philox 4x32-10 on the GPU', () => {
  it('matches the Random123 known-answer vectors', () => {
    // Random123's kat_vectors for philox4x32_10
    expect(R.philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    expect(R.philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])).toEqual([
      0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd,
    ]);
    expect(R.philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });

  it.each([1, 3, 17, 257, 65_537])('bits equal the CPU reference (n = %i)', async (n) => {
    const got = await randomBits([n], { seed: 42 }).data();
    expect(Array.from(got)).toEqual(Array.from(R.refRandomBits(n, 42)));
  });

  it('rand is exactly the reference (24-bit uniforms) and in [0, 1)', async () => {
    const got = await rand([1001], { seed: 7 }).data();
    expectClose(got, R.refRand(1001, 7), {}, 'rand');
    expect(Math.min(...got)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...got)).toBeLessThan(1);
  });

  // WGSL lets sin/cos err by 2⁻¹¹ (absolute) on [−π, π] and log by 2⁻²¹ near 1, so a normal
  // r·cos θ may differ from the f64 value by r·2⁻¹¹ plus a few ulp (SwiftShader uses that freedom;
  // lavapipe is within 1e-6).
  it('randn matches Box–Muller in f64 within WGSL’s sin/cos accuracy', async () => {
    const got = await randn([1003], { seed: 9 }).data();
    const want = R.refRandn(1003, 9);
    const bits = R.refRandomBits(1004, 9);
    const radius = Array.from(want, (_, i) => Math.sqrt(-2 * Math.log(((bits[i & ~1] >>> 8) + 1) / 16777216)));
    expectClose(got, want, { atol: 1e-5, rtol: 1e-5, bound: radius.map((r) => r * 2 ** -11) }, 'randn');
  });

  it('same seed → same numbers; another seed → others; low/high and mean/std', async () => {
    const a = await randn([500], { seed: 5 }).data();
    const b = await randn([500], { seed: 5 }).data();
    const c = await randn([500], { seed: 6 }).data();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const u = await rand([1000], { seed: 1, low: -3, high: -1 }).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(-1);
    const s = await randn([4], { seed: 5, mean: 10, std: 2 }).data();
    expectClose(
      s,
      Array.from(a.slice(0, 4), (v) => 10 + 2 * v),
      { rtol: 1e-6 },
    );
  });

  it('randn moments are near 0 and 1 (n = 2^20: 5σ bounds)', async () => {
    const n = 1 << 20;
    const x = randn([n], { seed: 123 });
    const mean = await x.mean().item();
    const variance = await x.variance().item();
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    const u = rand([n], { seed: 321 });
    expect(Math.abs((await u.mean().item()) - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
  });

  it('the global generator advances between calls and restarts with setSeed', async () => {
    setSeed(11);
    const a = await rand([8]).data();
    const b = await rand([8]).data();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    setSeed(11);
    expect(Array.from(await rand([8]).data())).toEqual(Array.from(a));
  });
});
