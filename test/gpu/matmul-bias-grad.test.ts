/**
 * A linear layer's backward (x [..., R, K] · Wᵀ + b, W stored [N, K]): the batch folds into the
 * rows, the bias gradient comes out of the weight-gradient kernel (no reduction launch), on every
 * kernel variant, against f64 sums. Each gradient is one serial f32 sum: |err| ≤ γ_n·Σ|terms|.
 */
import { describe, it, expect } from 'vitest';
import { tensor, nn, type Tensor } from '../../engine/index.ts';
import { rt } from '../../engine/runtime.ts';
import { MATMUL_VARIANTS } from '../../engine/ops/matmul.ts';
import { useEngine, rng, expectClose, EPS } from './util.ts';

useEngine();

const values = (n: number, seed: number) => {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
};
const gamma = (n: number) => (n * EPS) / (1 - n * EPS);

/** f64 gradients of Σ seed ⊙ (x·Wᵀ + b) (or x·W with W [K, N]) with their error bounds. */
function reference(x: Float32Array, w: Float32Array, seed: Float32Array, R: number, K: number, N: number, wT: boolean) {
  const W = (n: number, k: number) => (wT ? w[n * K + k] : w[k * N + n]);
  const dx = new Float64Array(R * K),
    dxB = new Float64Array(R * K),
    dw = new Float64Array(N * K),
    dwB = new Float64Array(N * K),
    db = new Float64Array(N),
    dbB = new Float64Array(N);
  for (let r = 0; r < R; r++)
    for (let n = 0; n < N; n++) {
      const s = seed[r * N + n];
      db[n] += s;
      dbB[n] += Math.abs(s);
      for (let k = 0; k < K; k++) {
        dx[r * K + k] += s * W(n, k);
        dxB[r * K + k] += Math.abs(s * W(n, k));
        const o = wT ? n * K + k : k * N + n;
        dw[o] += s * x[r * K + k];
        dwB[o] += Math.abs(s * x[r * K + k]);
      }
    }
  return {
    dx,
    dw,
    db,
    bound: { dx: dxB.map((v) => gamma(N) * v + 1e-30), dw: dwB.map((v) => gamma(R) * v + 1e-30), db: dbB.map((v) => gamma(R) * v + 1e-30) },
  };
}

// Each kernel variant compiles in seconds on lavapipe: the variants get two shapes, 'auto' the rest.
const CASES = [
  { batch: [3, 7], K: 5, N: 13, wTs: [true] }, // primes
  { batch: [2, 33], K: 8, N: 64, wTs: [true] }, // vec4 paths, several 64-row tiles of the weight gradient
];
const AUTO_CASES = [
  { batch: [1, 1], K: 1, N: 1, wTs: [true, false] },
  { batch: [4, 5, 3], K: 17, N: 3, wTs: [true, false] },
];

describe.each([...MATMUL_VARIANTS.map((v) => [v, CASES] as const), ['auto', AUTO_CASES] as const])(
  'linear backward (%s)',
  (variant, cases) => {
    it.each(cases)('x $batch × K=$K, N=$N: dx, dW and the fused bias gradient', async ({ batch, K, N, wTs }) => {
      const R = batch.reduce((a, b) => a * b, 1);
      for (const wT of wTs) {
        const xs = values(R * K, 1),
          ws = values(N * K, 2),
          bs = values(N, 3),
          seeds = values(R * N, 4);
        const x = nn.parameter(tensor(xs, [...batch, K])),
          w = nn.parameter(tensor(ws, wT ? [N, K] : [K, N])),
          b = nn.parameter(tensor(bs, [N]));
        const y = x.matmul(w, { transposeB: wT, bias: b, variant });
        const seed = tensor(seeds, [...batch, N]);
        const before = rt().dispatches;
        y.backward(seed);
        // x·Wᵀ: two products, the bias gradient inside the second; x·W: the bias by a reduction.
        expect(rt().dispatches - before, `launches of the backward (W ${wT ? '[N, K]' : '[K, N]'})`).toBe(wT ? 2 : 3);
        const ref = reference(xs, ws, seeds, R, K, N, wT);
        expectClose(await x.grad!.data(), ref.dx, { bound: ref.bound.dx }, 'dx');
        expectClose(await w.grad!.data(), ref.dw, { bound: ref.bound.dw }, 'dW');
        expectClose(await b.grad!.data(), ref.db, { bound: ref.bound.db }, 'db');
        expect(w.grad!.shape).toEqual(w.shape);
        for (const t of [x, w, b, y, seed] as Tensor[]) t.dispose();
      }
    });

    it.runIf(variant === 'auto')('with a residual and GELU the gradients still line up (x·Wᵀ + b → gelu, + r)', async () => {
      const [B, L, K, N] = [2, 3, 4, 5];
      const x = nn.parameter(tensor(values(B * L * K, 5), [B, L, K])),
        w = nn.parameter(tensor(values(N * K, 6), [N, K]));
      const b = nn.parameter(tensor(values(N, 7), [N])),
        r = nn.parameter(tensor(values(B * L * N, 8), [B, L, N]));
      const y = x.matmul(w, { transposeB: true, bias: b, activation: 'gelu', residual: r, variant });
      y.sum().backward();
      expect(Array.from(await r.grad!.data())).toEqual(new Array(B * L * N).fill(1));
      // Σ_rows of dz = gelu'(z): the bias gradient equals the column sums of the weight-free path.
      const z = await x.matmul(w, { transposeB: true, bias: b, variant }).geluGrad().data();
      const want = new Float64Array(N);
      for (let i = 0; i < B * L * N; i++) want[i % N] += z[i];
      expectClose(await b.grad!.data(), want, { atol: 1e-5, rtol: 1e-5 }, 'db');
      for (const t of [x, w, b, r, y]) t.dispose();
    });
  },
);
