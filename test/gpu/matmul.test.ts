/**
 * Plain batched matmul against the reference. Tolerance from the arithmetic: a serial f32 sum over K
 * of products (possibly fused) satisfies |C − C_exact| ≤ γ_K·Σ_k|a_ik·b_kj|, γ_K = K·u/(1 − K·u),
 * u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1); the reference returns Σ|a·b| per output.
 */
import { describe, it, expect } from 'vitest';
import { matmul } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, expectTensor, EPS } from './util.ts';

useEngine();

const gamma = (k: number) => (k * EPS) / (1 - k * EPS);

const CASES: [number[], number[], boolean, boolean][] = [
  [[1, 1], [1, 1], false, false], [[3, 17], [17, 257], false, false], [[33, 65], [65, 31], false, false],
  [[5, 7], [5, 4], true, false], [[5, 7], [4, 7], false, true], [[7, 5], [4, 7], true, true],
  [[2, 3, 17, 9], [9, 5], false, false], [[4, 1, 6, 8], [3, 8, 2], false, false], [[2, 64, 64], [2, 64, 64], false, true],
  [[17], [17, 3], false, false], [[3, 17], [17], false, false], [[17], [17], false, false], [[2, 5, 3], [3], false, false],
  [[1, 257], [257, 1], false, false], [[129, 1], [1, 130], false, false], [[0, 4], [4, 3], false, false], [[3, 0], [0, 2], false, false],
];

describe('matmul', () => {
  it.each(CASES.map((c) => [JSON.stringify(c), ...c] as const))('%s', async (_n, sa, sb, tA, tB) => {
    const A = randomPair(sa, 1), B = randomPair(sb, 2);
    const want = R.matmul(A.r, B.r, tA, tB);
    const K = tA ? sa[sa.length - 2] : sa[sa.length - 1];
    const y = matmul(A.t, B.t, { transposeA: tA, transposeB: tB });
    await expectTensor(y, want, { bound: want.absProd.map((s) => gamma(K) * s + 1e-30) }, 'matmul');
  });

  it('a large product stays inside γ_K·Σ|a·b|', async () => {
    const A = randomPair([130, 300], 3), B = randomPair([300, 67], 4);
    const want = R.matmul(A.r, B.r);
    await expectTensor(A.t.matmul(B.t), want, { bound: want.absProd.map((s) => gamma(300) * s) });
  });

  it('K = 0 gives zeros', async () => {
    const A = randomPair([3, 0], 1), B = randomPair([0, 2], 2);
    expect(Array.from(await A.t.matmul(B.t).data())).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
