/** Test helpers shared by the node and browser projects: engine set-up, seeded data, tolerant compare. */
import { beforeAll, afterAll, expect } from 'vitest';
import { init, tensor, type Tensor, type Engine } from '../../engine/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { mulberry32 } from '../../engine/prng.ts';
import { roundToF16 } from '../../engine/dtype.ts';

let engine: Engine | null = null;

/** Initialises the engine once per test file and disposes it after. */
export function useEngine(): () => Engine {
  beforeAll(async () => {
    engine = await init();
  });
  afterAll(() => {
    engine?.dispose();
    engine = null;
  });
  return () => engine!;
}

/** A seeded PRNG for test inputs (mulberry32). */
export const rng = mulberry32;

/** f32-exact random values in [lo, hi) with their f64 reference. */
export function randomPair(shape: number[], seed: number, lo = -1, hi = 1): { t: Tensor; r: RefTensor } {
  const n = shape.reduce((a, b) => a * b, 1);
  const next = rng(seed);
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = lo + (hi - lo) * next();
  return { t: tensor(f, shape), r: { shape: [...shape], data: Float64Array.from(f) } };
}

/** Random values in [lo, hi) rounded to f16: the f16 tensor and its f64 reference (the same numbers). */
export function halfPair(shape: number[], seed: number, lo = -1, hi = 1): { t: Tensor; r: RefTensor } {
  const n = shape.reduce((a, b) => a * b, 1);
  const next = rng(seed);
  const v = roundToF16(Float32Array.from({ length: n }, () => lo + (hi - lo) * next()));
  return { t: tensor(v, shape, { dtype: 'f16' }), r: { shape: [...shape], data: Float64Array.from(v) } };
}

export function intPair(shape: number[], seed: number, lo: number, hi: number): { t: Tensor; r: RefTensor } {
  const n = shape.reduce((a, b) => a * b, 1);
  const next = rng(seed);
  const f = new Int32Array(n);
  for (let i = 0; i < n; i++) f[i] = lo + Math.floor((hi - lo) * next());
  return { t: tensor(f, shape), r: { shape: [...shape], data: Float64Array.from(f) } };
}

export interface Tol {
  atol?: number;
  rtol?: number;
  /** Per-element absolute bound (e.g. γ_K·Σ|a·b| for matmul); added to atol. */
  bound?: ArrayLike<number>;
}

/**
 * Asserts |got − want| ≤ atol + rtol·|want| (+ bound[i]) everywhere (NaN must match NaN, ±Inf must
 * match exactly) and the shapes agree; the failure lists the first mismatches with their indices.
 */
export function expectClose(got: ArrayLike<number>, want: RefTensor | ArrayLike<number>, tol: Tol = {}, label = '', gotShape?: readonly number[]): void {
  const wantData = 'data' in want ? want.data : want;
  if (gotShape && 'shape' in want) expect([...gotShape], `${label} shape`).toEqual(want.shape);
  expect(got.length, `${label} length`).toBe(wantData.length);
  const atol = tol.atol ?? 0, rtol = tol.rtol ?? 0;
  const bad: string[] = [];
  let worstAbs = 0, worstRel = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = wantData[i];
    let ok: boolean;
    if (Number.isNaN(w)) ok = Number.isNaN(g);
    else if (!Number.isFinite(w)) ok = g === w;
    else {
      const err = Math.abs(g - w);
      ok = err <= atol + rtol * Math.abs(w) + (tol.bound ? tol.bound[i] : 0);
      worstAbs = Math.max(worstAbs, err);
      if (w !== 0) worstRel = Math.max(worstRel, err / Math.abs(w));
    }
    if (!ok && bad.length < 8) bad.push(`  [${i}] got ${g}, want ${w}, |diff| ${Math.abs(g - w)}`);
    if (!ok && bad.length >= 8) break;
  }
  if (bad.length) {
    throw new Error(`${label}: mismatch (atol ${atol}, rtol ${rtol}; worst abs ${worstAbs}, rel ${worstRel}):\n${bad.join('\n')}`);
  }
}

/** Reads a tensor and compares it with a reference, shape included. */
export async function expectTensor(t: Tensor, want: RefTensor, tol: Tol = {}, label = ''): Promise<void> {
  expectClose(await t.data(), want, tol, label, t.shape);
}

/** Shapes every elementwise test runs on: scalar, 1, primes, non-multiples of 256, a long row. */
export const AWKWARD_SHAPES: number[][] = [[], [1], [3], [17], [257], [3, 17], [2, 3, 5], [65_537]];

/** f32 unit roundoff. */
export const EPS = 2 ** -24;
