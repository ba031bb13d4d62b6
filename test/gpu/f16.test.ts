/**
 * f16 storage: the host conversions (binary16 ↔ binary32, round to nearest, ties to even) checked
 * exhaustively and against a brute-force oracle, then uploads, readbacks, casts and the error on
 * adapters without 'shader-f16' (SwiftShader; lavapipe re-initialised with the feature disabled).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { init, tensor, full, zeros, cast, matmul, DTypeError, type Engine } from '../../engine/index.ts';
import { f16BitsToF32, f32ToF16Bits, f32BitsToF16Bits, f32ArrayToF16Bits, f16BitsToF32Array, roundToF16 } from '../../engine/dtype.ts';
import { rng } from './util.ts';

let engine: Engine = await init();
const hasF16 = engine.hasFeature('shader-f16');
afterAll(() => engine.dispose());

const isNanBits = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const f32Bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];
const fromF32Bits = (b: number) => new Float32Array(new Uint32Array([b]).buffer)[0];

/** Every finite non-negative binary16 value, ascending (index = bits). */
const FINITE = Array.from({ length: 0x7c00 }, (_, h) => f16BitsToF32(h));

/** Brute force: the nearest finite f16 (ties to the even mantissa), or ±Inf past 65 520, by bisection. */
function oracle(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00; // 65 520 is the tie between 65 504 and 2¹⁶: even goes up
  let lo = 0,
    hi = FINITE.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (FINITE[mid] <= a) lo = mid;
    else hi = mid;
  }
  const dl = a - FINITE[lo],
    dh = FINITE[hi] - a;
  const h = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
  return sign | h;
}

describe('binary16 conversions on the host', () => {
  it('round-trip all 65 536 bit patterns (NaN stays NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (isNanBits(h)) {
        expect(Number.isNaN(x)).toBe(true);
        expect(isNanBits(f32ToF16Bits(x))).toBe(true);
        continue;
      }
      if (f32ToF16Bits(x) !== h) throw new Error(`bits ${h.toString(16)} → ${x} → ${f32ToF16Bits(x).toString(16)}`);
    }
  });

  it('known values: signs, extremes, subnormals, overflow, infinities, NaN', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [-65504, 0xfbff],
      [0, 0],
      [-0, 0x8000],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [-(2 ** -24), 0x8001],
      [1023 * 2 ** -24, 0x03ff],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [1e-45, 0],
      [-1e-45, 0x8000],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
    ];
    for (const [x, h] of cases) expect(f32ToF16Bits(x), `${x}`).toBe(h);
    expect(isNanBits(f32ToF16Bits(NaN))).toBe(true);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
  });

  it('ties go to the even neighbour, everywhere: every midpoint and its f32 neighbours', () => {
    // Midpoints of adjacent f16 values need 12 significant bits: exact in f32.
    for (let h = 0; h < 0x7bff; h++) {
      const a = FINITE[h],
        b = FINITE[h + 1],
        m = (a + b) / 2;
      const even = h % 2 === 0 ? h : h + 1;
      const mb = f32Bits(m);
      expect(f32BitsToF16Bits(mb), `tie ${a}|${b}`).toBe(even);
      if (m > 0) expect(f32BitsToF16Bits(mb - 1), `below ${m}`).toBe(h);
      expect(f32BitsToF16Bits(mb + 1), `above ${m}`).toBe(h + 1);
      expect(f32BitsToF16Bits(mb | 0x80000000), `tie −${m}`).toBe(even | 0x8000);
    }
    // Named ties: 1 + 2⁻¹¹ → 1; 1 + 3·2⁻¹¹ → 1 + 2⁻⁹; 2⁻²⁵ → 0; 3·2⁻²⁵ → 2⁻²³; max subnormal + ½ → 2⁻¹⁴; 65 520 → Inf.
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16Bits(2 ** -25)).toBe(0);
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002);
    expect(f32ToF16Bits(1023.5 * 2 ** -24)).toBe(0x0400);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(fromF32Bits(f32Bits(65520) - 1))).toBe(0x7bff);
  });

  it('agrees with a brute-force nearest-value oracle on 200 000 random f32 bit patterns', () => {
    const next = rng(16);
    for (let i = 0; i < 200_000; i++) {
      // exponents spread over the f16 range and beyond: sign, exponent 97..145, random mantissa
      const bits = ((next() < 0.5 ? 1 : 0) << 31) | ((97 + Math.floor(next() * 49)) << 23) | Math.floor(next() * 0x800000);
      const x = fromF32Bits(bits >>> 0);
      const got = f32BitsToF16Bits(bits >>> 0),
        want = oracle(x);
      if (got !== want) throw new Error(`${x} (f32 bits ${(bits >>> 0).toString(16)}): got ${got.toString(16)}, want ${want.toString(16)}`);
    }
  });

  it('array helpers', () => {
    const v = [1.0005, -3, 7e-8, 70000];
    expect(Array.from(f32ArrayToF16Bits(v))).toEqual(v.map(f32ToF16Bits));
    expect(Array.from(f16BitsToF32Array([0x3c00, 0xc000]))).toEqual([1, -2]);
    expect(Array.from(roundToF16([1 + 2 ** -12, 65519]))).toEqual([1, 65504]);
  });
});

describe('f16 tensors on the GPU', () => {
  const SPECIAL = [0, -0, 1, -1.5, 65504, -65504, Infinity, -Infinity, NaN, 2 ** -24, -(2 ** -24), 2 ** -14, 0.1, 1 + 2 ** -11, 70000];

  it.skipIf(!hasF16)('ops that move 4-byte words refuse f16 with a clear error instead of computing garbage', () => {
    const h = tensor([1, 2, 3, 4], [2, 2], { dtype: 'f16' });
    expect(() => h.transpose()).toThrow(/permute: f16 input \[2,2\] is not supported yet .*cast it with \.cast\('f32'\)/);
    expect(() => h.add(h)).toThrow(/add: f16 a \[2,2\] is not supported yet/);
    expect(() => h.sum()).toThrow(/sum: f16 input/);
    expect(() => h.clone()).toThrow(/clone: f16 input/);
    expect(h.reshape([4]).shape).toEqual([4]); // views need no kernel
  });

  it.skipIf(!hasF16)('upload and read back: values are rounded to nearest even, sizes of any parity', async () => {
    for (const n of [1, 3, 257]) {
      const next = rng(n);
      const v = Float32Array.from({ length: n }, (_, i) => (i < SPECIAL.length ? SPECIAL[i] : (next() - 0.5) * 100));
      const t = tensor(v, [n], { dtype: 'f16' });
      expect(t.dtype).toBe('f16');
      const got = await t.data();
      expect(got).toBeInstanceOf(Float32Array);
      const want = roundToF16(v);
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
        else expect(Object.is(got[i], want[i]), `[${i}] ${v[i]}: got ${got[i]}, want ${want[i]}`).toBe(true);
      }
    }
  });

  it.skipIf(!hasF16)('a Uint16Array is taken as f16 bits; nested arrays with dtype f16', async () => {
    const t = tensor(new Uint16Array([0x3c00, 0xc000, 0x7c00]));
    expect(t.dtype).toBe('f16');
    expect(Array.from(await t.data())).toEqual([1, -2, Infinity]);
    expect(
      await tensor(
        [
          [0.5, 2],
          [3, 4],
        ],
        undefined,
        { dtype: 'f16' },
      ).array(),
    ).toEqual([
      [0.5, 2],
      [3, 4],
    ]);
  });

  it.skipIf(!hasF16)('cast f16 → f32 is exact for every bit pattern (subnormals exact or flushed to zero, as WGSL allows)', async () => {
    const bits = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
    const got = await cast(tensor(bits, [0x10000], { dtype: 'f16' }), 'f32').data();
    for (let h = 0; h < 0x10000; h++) {
      const want = f16BitsToF32(h);
      if (Number.isNaN(want)) {
        expect(got[h], h.toString(16)).toBeNaN();
        continue;
      }
      const subnormal = (h & 0x7c00) === 0 && (h & 0x3ff) !== 0;
      if (got[h] !== want && !(subnormal && got[h] === 0)) throw new Error(`f16 ${h.toString(16)}: got ${got[h]}, want ${want}`);
    }
  });

  it.skipIf(!hasF16)(
    'cast f32 → f16 gives a neighbour of the value (WGSL leaves the rounding direction to the driver); full and zeros',
    async () => {
      const next = rng(5);
      // normal f16 magnitudes 2⁻¹⁴ … 2¹⁵, random signs and significands
      const v = Float32Array.from({ length: 4096 }, () => (next() < 0.5 ? -1 : 1) * (1 + next()) * 2 ** (Math.floor(next() * 29) - 14));
      const got = await cast(tensor(v), 'f16').data();
      let nearest = 0;
      for (let i = 0; i < v.length; i++) {
        const h = oracle(v[i]),
          rne = f16BitsToF32(h);
        // the f16 on the other side of v[i] (bits are sign-magnitude: ±1 moves the magnitude)
        const other = rne === v[i] ? rne : f16BitsToF32(Math.abs(rne) < Math.abs(v[i]) ? h + 1 : h - 1);
        expect(got[i] === rne || got[i] === other, `[${i}] ${v[i]}: got ${got[i]}, nearest ${rne}`).toBe(true);
        if (got[i] === rne) nearest++;
      }
      expect(nearest).toBeGreaterThan(v.length / 2);
      const f = full([3, 5], 0.1, { dtype: 'f16' });
      expect(f.dtype).toBe('f16');
      const fv = await f.data();
      for (const x of fv) expect(x === f16BitsToF32(0x2e66) || x === f16BitsToF32(0x2e67)).toBe(true);
      expect(Array.from(await zeros([5], { dtype: 'f16' }).data())).toEqual([0, 0, 0, 0, 0]);
    },
  );

  it.skipIf(!hasF16)('casts between f32 and f16 pass the gradient straight through, in f32 (mixed precision)', async () => {
    const x = tensor([0.1, -2, 3.3, 1e-3, 7, -0.5], [2, 3], { requiresGrad: true });
    const w = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const g = tensor([0.5, -1, 2, 4], [2, 2]);
    // y = cast(cast(x, f16) · w16, f32 via matmul's f32 result): dL/dx = g · wᵀ, whatever the rounding of x.
    const y = matmul(x.cast('f16'), w.cast('f16'));
    expect(y.requiresGrad).toBe(true);
    y.backward(g);
    expect(x.grad!.dtype).toBe('f32');
    expect(Array.from(await x.grad!.data())).toEqual([-1.5, -2.5, -3.5, 10, 22, 34]);
    // and back: f32 → f16 → f32 is the identity for the gradient
    const z = tensor([1, 2, 3], [3], { requiresGrad: true });
    z.cast('f16')
      .cast('f32')
      .mul(tensor([4, 5, 6]))
      .sum()
      .backward();
    expect(Array.from(await z.grad!.data())).toEqual([4, 5, 6]);
    expect(() => tensor([1], [1], { dtype: 'f16', requiresGrad: true })).toThrow(/tensor: only f32 tensors can require gradients, got f16/);
  });

  it.skipIf(hasF16)('without shader-f16 (this adapter), f16 is refused naming the adapter', () => {
    expect(() => tensor([1, 2], undefined, { dtype: 'f16' })).toThrow(DTypeError);
    expect(() => tensor([1, 2], undefined, { dtype: 'f16' })).toThrow(new RegExp(`shader-f16.*${engine.adapter.source}`));
  });

  it('with shader-f16 disabled by init, f16 is refused with a DTypeError naming the adapter', async () => {
    engine.dispose();
    engine = await init({ disableFeatures: ['shader-f16'] });
    expect(engine.hasFeature('shader-f16')).toBe(false);
    const msg = new RegExp(
      `tensor: dtype f16 needs the WebGPU feature 'shader-f16', which the adapter '.+' \\(${engine.adapter.source}\\)`,
    );
    expect(() => tensor([1, 2], undefined, { dtype: 'f16' })).toThrow(msg);
    expect(() => tensor(new Uint16Array([0x3c00]))).toThrow(DTypeError);
    expect(() => cast(tensor([1, 2]), 'f16')).toThrow(/cast: dtype f16 needs/);
    expect(() => zeros([2], { dtype: 'f16' })).toThrow(/full: dtype f16 needs/);
  });
});
