/**
 * Row reductions and softmax through subgroups ('/sg' kernels) against the plain shared-memory tree
 * (the same engine re-initialised with `disableFeatures: ['subgroups']`), both against the reference.
 *
 * Tolerances are those of reduce.test.ts: a sum's error is ≤ (41 + ⌈n/65 536⌉)·u·Σ|x| on either path
 * (the subgroup path combines the 256 partials in a pairwise tree of the same depth, 8 levels, for
 * power-of-two subgroup sizes ≥ 4: see subgroupReductions in reduce.wgsl.ts); mean and variance
 * divide by n; max, min, argmax are exact, so the two paths must agree bit for bit there. Softmax:
 * rtol 2e-6 as in reduce.test.ts; its backward dx = y ⊙ (g − Σ g⊙y) adds one more such sum: the
 * dot's error ≤ (41 + 1)·u·Σ|g⊙y| scales y, plus a few roundings per element: atol 1e-6 + rtol 1e-5.
 *
 * Rows are long enough (≥ 257) and few enough (< 64) to take the workgroup-per-row kernels.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { init, tensor, softmax, logSoftmax, layerNorm, grad, type Engine, type InitOptions } from '../../engine/index.ts';
import { useSubgroups } from '../../engine/ops/reduce.ts';
import * as R from '../../engine/reference/index.ts';
import { randomPair, expectClose, rng, EPS } from './util.ts';

type Outputs = Map<string, Float32Array | Int32Array>;

const SHAPES: [number[], number][] = [
  [[3, 70_001], 1],
  [[5, 1_000], 1],
  [[1, 257], 1],
  [[2, 300, 7], 1],
];
const SOFTMAX: number[][] = [
  [4, 3_000],
  [3, 257],
];
const LAYER_NORM: number[][] = [
  [3, 1_000],
  [2, 257],
  [1, 4_099],
];

/** The values randomPair(shape, seed, lo, hi) uploads, as a reference (no engine needed). */
function refPair(shape: number[], seed: number, lo = -1, hi = 1): R.RefTensor {
  const next = rng(seed);
  const f = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next());
  return { shape, data: Float64Array.from(f) };
}

let current: Engine | null = null;
afterAll(() => current?.dispose());

/** Runs every case on a fresh engine with `opts`; returns the outputs, the kernels used and the engine's choice. */
async function runAll(opts: InitOptions): Promise<{ out: Outputs; keys: Set<string>; sg: boolean }> {
  current?.dispose();
  const e = (current = await init(opts));
  const keys = new Set<string>();
  e.kernelOverride = (spec) => {
    keys.add(spec.key);
    return undefined;
  };
  const out: Outputs = new Map();
  for (const [shape, axis] of SHAPES) {
    const { t } = randomPair(shape, 7, -1, 3);
    for (const kind of ['sum', 'mean', 'variance', 'max', 'min', 'argmax', 'argmin'] as const) {
      out.set(`${kind} ${shape}`, (await t[kind](axis).data()) as Float32Array | Int32Array);
    }
  }
  // NaN: max/min propagate it; argmax/argmin return the first NaN, wherever its partial lands.
  const nanRow = new Float32Array(1000).map((_, i) => Math.sin(i));
  nanRow[700] = NaN;
  nanRow[3] = NaN;
  nanRow[513] = NaN;
  const tn = tensor(nanRow, [1, 1000]);
  for (const kind of ['max', 'min', 'argmax', 'argmin'] as const)
    out.set(`${kind} NaN`, (await tn[kind](1).data()) as Float32Array | Int32Array);
  for (const shape of SOFTMAX) {
    const { t } = randomPair(shape, 3, -30, 30);
    out.set(`softmax ${shape}`, (await softmax(t, -1).data()) as Float32Array);
    out.set(`logSoftmax ${shape}`, (await logSoftmax(t, -1).data()) as Float32Array);
    // backward: dx of Σ W ⊙ softmax(x)
    const x = randomPair(shape, 4, -3, 3).t;
    x.requiresGrad = true;
    const W = randomPair(shape, 5).t;
    softmax(x, -1).mul(W).sum().backward();
    out.set(`softmax-backward ${shape}`, (await x.grad!.data()) as Float32Array);
  }
  for (const shape of LAYER_NORM) {
    const d = shape[1];
    const X = randomPair(shape, 8, -3, 5).t,
      W = randomPair([d], 9, 0.5, 1.5).t,
      B = randomPair([d], 10).t,
      G = randomPair(shape, 11).t;
    out.set(`layerNorm ${shape}`, (await layerNorm(X, W, B, 1e-5).data()) as Float32Array);
    const [dx, dw, db] = grad((x, w, b) => layerNorm(x, w, b, 1e-5).mul(G).sum())(X, W, B);
    out.set(`layerNorm dx ${shape}`, (await dx.data()) as Float32Array);
    out.set(`layerNorm dw ${shape}`, (await dw.data()) as Float32Array);
    out.set(`layerNorm db ${shape}`, (await db.data()) as Float32Array);
  }
  return { out, keys, sg: useSubgroups() };
}

describe('subgroup reductions', () => {
  it('match the plain workgroup tree and the reference, and are chosen by the feature', async () => {
    const withSg = await runAll({});
    const plain = await runAll({ disableFeatures: ['subgroups'] });
    current?.dispose();
    current = null;
    expect(plain.sg).toBe(false);
    expect([...plain.keys].some((k) => k.endsWith('/sg'))).toBe(false);
    if (withSg.sg) {
      for (const k of [
        'reduce/sum/f32/wg/sg',
        'reduce/argmax/f32/wg/sg',
        'reduce/variance/f32/wg/sg',
        'softmax/plain/sg',
        'softmax-backward/plain/sg',
        'layernorm/fwd/affine/sg',
        'layernorm/bwd-dx/affine/sg',
      ]) {
        expect(withSg.keys, k).toContain(k);
      }
    } else {
      console.warn('[subgroups.test] this adapter has no subgroups (or no WGSL subgroup_id): both runs took the plain path');
    }

    for (const [shape, axis] of SHAPES) {
      const r = refPair(shape, 7, -1, 3);
      for (const kind of ['sum', 'mean', 'variance', 'max', 'min', 'argmax', 'argmin'] as const) {
        const label = `${kind} ${shape}`;
        const a = withSg.out.get(label)!,
          b = plain.out.get(label)!;
        if (kind === 'max' || kind === 'min' || kind === 'argmax' || kind === 'argmin') {
          expect(Array.from(a), label).toEqual(Array.from(b)); // exact on both paths
          expectClose(a, R.reduce(kind, r, axis), {}, label);
          continue;
        }
        const want = R.reduce(kind, r, axis);
        const scale = kind === 'variance' ? R.reduce('sum', { shape: r.shape, data: r.data.map((v) => v * v) }, axis) : R.absSum(r, axis);
        const n = r.data.length / want.data.length;
        const c = (41 + Math.ceil(n / 65_536)) * EPS;
        const bound = scale.data.map((s) => (kind === 'sum' ? c * s : (2 * c * s) / n));
        expectClose(a, want, { rtol: 2 * EPS, bound }, `${label} (subgroups)`);
        expectClose(b, want, { rtol: 2 * EPS, bound }, `${label} (plain)`);
        expectClose(a, b, { rtol: 4 * EPS, bound: bound.map((x) => 2 * x) }, `${label} subgroups vs plain`);
      }
    }
    for (const kind of ['max', 'min', 'argmax', 'argmin'] as const) {
      const a = Array.from(withSg.out.get(`${kind} NaN`)!),
        b = Array.from(plain.out.get(`${kind} NaN`)!);
      if (kind === 'argmax' || kind === 'argmin') {
        expect(a, kind).toEqual([3]);
        expect(b, kind).toEqual([3]);
      } else {
        expect(a[0], kind).toBeNaN();
        expect(b[0], kind).toBeNaN();
      }
    }
    for (const shape of SOFTMAX) {
      const r = refPair(shape, 3, -30, 30);
      for (const [name, want] of [
        ['softmax', R.softmax(r, -1)],
        ['logSoftmax', R.softmax(r, -1, true)],
      ] as const) {
        const tol = name === 'softmax' ? { atol: 1e-9, rtol: 2e-6 } : { atol: 2e-6, rtol: 2e-6 };
        expectClose(withSg.out.get(`${name} ${shape}`)!, want, tol, `${name} ${shape} (subgroups)`);
        expectClose(plain.out.get(`${name} ${shape}`)!, want, tol, `${name} ${shape} (plain)`);
      }
      // backward against the f64 formula dx = y ⊙ (W − Σ W⊙y)
      const x = refPair(shape, 4, -3, 3),
        W = refPair(shape, 5);
      const y = R.softmax(x, -1);
      const len = shape[shape.length - 1];
      const dx = y.data.map((yi, i) => {
        const row = Math.floor(i / len) * len;
        let dot = 0;
        for (let j = 0; j < len; j++) dot += W.data[row + j] * y.data[row + j];
        return yi * (W.data[i] - dot);
      });
      for (const [which, o] of [
        ['subgroups', withSg],
        ['plain', plain],
      ] as const) {
        expectClose(o.out.get(`softmax-backward ${shape}`)!, dx, { atol: 1e-6, rtol: 1e-5 }, `softmax backward ${shape} (${which})`);
      }
    }
    // Layer norm: tolerances of layernorm.test.ts (forward) and of its fused-vs-composed backward.
    for (const shape of LAYER_NORM) {
      const d = shape[1];
      const X = refPair(shape, 8, -3, 5),
        W = refPair([d], 9, 0.5, 1.5),
        B = refPair([d], 10),
        G = refPair(shape, 11);
      const want = R.layerNorm(X, W, B, 1e-5);
      const { dx, dw, db } = R.layerNormBackward(X, W, G, 1e-5);
      for (const [which, o] of [
        ['subgroups', withSg],
        ['plain', plain],
      ] as const) {
        expectClose(o.out.get(`layerNorm ${shape}`)!, want, { atol: 1e-5, rtol: 1e-5 }, `layerNorm ${shape} (${which})`);
        expectClose(o.out.get(`layerNorm dx ${shape}`)!, dx, { atol: 1e-4, rtol: 1e-4 }, `layerNorm dx ${shape} (${which})`);
        expectClose(o.out.get(`layerNorm dw ${shape}`)!, dw, { atol: 1e-4, rtol: 1e-4 }, `layerNorm dw ${shape} (${which})`);
        expectClose(o.out.get(`layerNorm db ${shape}`)!, db, { atol: 1e-4, rtol: 1e-4 }, `layerNorm db ${shape} (${which})`);
      }
    }
  });
});
