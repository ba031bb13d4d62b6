/** Test helpers shared by the node and browser projects: engine set-up, seeded data, tolerant compare. */
import { beforeAll, afterAll, expect } from 'vitest';
import { init, tensor, type Tensor, type Engine } from '../../engine/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { mulberry32 } from '../../engine/prng.ts';
import { validate, describeValidation, type Tolerance } from '../../engine/validate.ts';
import { drawValues, roundTo, uniform, type Domain } from '../../engine/reference/inputs.ts';

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

/** Seeded values of `domain` as a tensor of `dtype` and its f64 reference (the same numbers). */
export function seededPair(
  shape: number[],
  seed: number,
  domain: Domain,
  dtype: 'f32' | 'f16' | 'i32' = 'f32',
): { t: Tensor; r: RefTensor } {
  const v = roundTo(
    drawValues(
      shape.reduce((a, b) => a * b, 1),
      domain,
      seed,
    ),
    dtype,
  );
  return { t: tensor(v, shape, dtype === 'f16' ? { dtype: 'f16' } : {}), r: { shape: [...shape], data: Float64Array.from(v) } };
}

/** f32-exact random values in [lo, hi) with their f64 reference. */
export const randomPair = (shape: number[], seed: number, lo = -1, hi = 1) => seededPair(shape, seed, uniform(lo, hi));

/** Random values in [lo, hi) rounded to f16: the f16 tensor and its f64 reference (the same numbers). */
export const halfPair = (shape: number[], seed: number, lo = -1, hi = 1) => seededPair(shape, seed, uniform(lo, hi), 'f16');

/** Random integers in [lo, hi) as an i32 tensor and its reference. */
export const intPair = (shape: number[], seed: number, lo: number, hi: number) =>
  seededPair(shape, seed, { kind: 'integer', lo, hi }, 'i32');

export type Tol = Tolerance;

/**
 * Asserts |got − want| ≤ atol + rtol·|want| (+ bound[i]) everywhere (NaN must match NaN, ±Inf must
 * match exactly) and the shapes agree; the failure lists the first mismatches with their indices
 * (engine/validate.ts).
 */
export function expectClose(
  got: ArrayLike<number>,
  want: RefTensor | ArrayLike<number>,
  tol: Tol = {},
  label = '',
  gotShape?: readonly number[],
): void {
  const wantData = 'data' in want ? want.data : want;
  if (gotShape && 'shape' in want) expect([...gotShape], `${label} shape`).toEqual(want.shape);
  expect(got.length, `${label} length`).toBe(wantData.length);
  const v = validate(got, wantData, tol);
  if (!v.pass)
    throw new Error(describeValidation(v, `${label} (atol ${tol.atol ?? 0}, rtol ${tol.rtol ?? 0}${tol.bound ? ' + bound' : ''})`));
}

/** Reads a tensor and compares it with a reference, shape included. */
export async function expectTensor(t: Tensor, want: RefTensor, tol: Tol = {}, label = ''): Promise<void> {
  expectClose(await t.data(), want, tol, label, t.shape);
}

export { AWKWARD_SHAPES } from '../../engine/ops/registry.ts';

/** f32 unit roundoff. */
export const EPS = 2 ** -24;

/**
 * The attention layouts the running device can take ('broadcast' needs subgroups of one fixed size);
 * every layout gives the same bits.
 */
export function attentionLayouts(e: Engine): ('blocked' | 'broadcast' | 'row' | 'tiled')[] {
  return ['blocked', ...(e.adapter.subgroupSize ? (['broadcast'] as const) : []), 'row', 'tiled'];
}
