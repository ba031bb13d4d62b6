/**
 * Layer norm against the reference and against a second oracle composed from primitives, on row
 * lengths that take the per-row-thread kernel (≤ 256) and the workgroup kernel (> 256).
 * Tolerance: Welford's mean/variance in f32 are within a few ulp·√d of exact for these inputs, then
 * one subtraction, rsqrt and two multiply-adds: rtol 1e-5 with atol 1e-5 for outputs near 0.
 */
import { describe, it } from 'vitest';
import { layerNorm, grad, scope } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, expectTensor, expectClose, rng } from './util.ts';

useEngine();

describe('layerNorm', () => {
  const cases: number[][] = [
    [1, 1],
    [3, 5],
    [17, 64],
    [7, 192],
    [5, 256],
    [4, 257],
    [3, 1000],
    [2, 3, 31],
  ];
  it.each(cases.map((s) => [JSON.stringify(s), s] as const))('%s', async (_n, shape) => {
    const d = shape[shape.length - 1];
    const X = randomPair(shape, 1, -3, 5),
      W = randomPair([d], 2, 0.5, 1.5),
      B = randomPair([d], 3);
    await expectTensor(layerNorm(X.t, W.t, B.t, 1e-5), R.layerNorm(X.r, W.r, B.r, 1e-5), { atol: 1e-5, rtol: 1e-5 }, 'affine');
    await expectTensor(layerNorm(X.t, null, null, 1e-6), R.layerNorm(X.r, null, null, 1e-6), { atol: 1e-5, rtol: 1e-5 }, 'plain');
    // second oracle: (x − mean)·rsqrt(var + eps)·w + b from GPU primitives
    const prim = scope(() => {
      const m = X.t.mean(-1, true);
      return X.t.sub(m).mul(X.t.variance(-1, true).add(1e-5).rsqrt()).mul(W.t).add(B.t);
    });
    expectClose(await layerNorm(X.t, W.t, B.t, 1e-5).data(), await prim.data(), { atol: 2e-5, rtol: 2e-5 }, 'vs primitives');
  });

  it('the fused backward matches the gradient of the composed primitives', async () => {
    for (const d of [64, 300]) {
      const X = randomPair([6, d], 4),
        W = randomPair([d], 5, 0.5, 1.5),
        B = randomPair([d], 6),
        G = randomPair([6, d], 7);
      const fused = grad((x, w, b) => layerNorm(x, w, b, 1e-5).mul(G.t).sum())(X.t, W.t, B.t);
      const composed = grad((x, w, b) => {
        const m = x.mean(-1, true);
        return x.sub(m).mul(x.variance(-1, true).add(1e-5).rsqrt()).mul(w).add(b).mul(G.t).sum();
      })(X.t, W.t, B.t);
      for (let i = 0; i < 3; i++)
        expectClose(await fused[i].data(), await composed[i].data(), { atol: 1e-4, rtol: 1e-4 }, `grad ${i} d=${d}`);
    }
  });
});

describe('reference layerNormBackward', () => {
  it('matches central finite differences of the f64 reference', () => {
    // f64 central differences with h = 1e-5: truncation O(h²·f''') ≈ 1e-10, rounding ≈ 1e-16/h ≈ 1e-11.
    const shape = [3, 7];
    const next = rng(5);
    const mk = (s: number[], lo = -1, hi = 1): R.RefTensor => ({
      shape: s,
      data: Float64Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * next()),
    });
    const X = mk(shape, -3, 5),
      W = mk([7], 0.5, 1.5),
      B = mk([7]),
      G = mk(shape);
    const loss = (x: R.RefTensor, w: R.RefTensor, b: R.RefTensor) =>
      R.layerNorm(x, w, b, 1e-5).data.reduce((a, v, i) => a + v * G.data[i], 0);
    const fd = (t: R.RefTensor) =>
      t.data.map((v, i) => {
        const h = 1e-5;
        t.data[i] = v + h;
        const up = loss(X, W, B);
        t.data[i] = v - h;
        const down = loss(X, W, B);
        t.data[i] = v;
        return (up - down) / (2 * h);
      });
    const { dx, dw, db } = R.layerNormBackward(X, W, G, 1e-5);
    expectClose(dx.data, fd(X), { atol: 1e-8 }, 'dx');
    expectClose(dw.data, fd(W), { atol: 1e-8 }, 'dw');
    expectClose(db.data, fd(B), { atol: 1e-8 }, 'db');
  });
});
