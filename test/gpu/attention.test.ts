/**
 * Fused attention (engine/ops/attention.ts) against the f64 reference, against a second oracle
 * composed from GPU primitives (matmul → softmax → matmul, and its autograd), against central finite
 * differences of the reference, and for memory that grows linearly in T.
 *
 * Tolerances, from the arithmetic (u = 2⁻²⁴, γ_n = n·u/(1 − n·u); first order, per query row i):
 *   logits  s_ij = (q_i·k_j)·scale: |δs_ij| ≤ E_i = γ_D·scale·max_j Σ_d|q_id·k_jd| + u·max_j|s_ij|.
 *   softmax moving every logit by ≤ E moves each p_ij by ≤ p_ij·(e^{2E} − 1) ≈ 2E·p_ij.
 *   exp     WGSL allows (3 + 2|x|) ulp (ulp ≤ 2u) at x = s − m ≤ 0; weighted by p that is
 *           ≤ 2u·(3 + 2·Σ_j p_ij|x_ij|) ≤ 2u·(3 + 2 ln Tk), as Σ_j p_ij|x_ij| ≤ entropy(p_i) ≤ ln Tk.
 *           The rescale factors α = exp(m_old − m_new) multiply acc and l alike, so their error cancels
 *           in acc / l; their ⌈Tk/4⌉ roundings on each of acc and l do not: 2⌈Tk/4⌉u.
 *   sums    acc and l over Tk keys: 2γ_Tk; then 1/l and its product: 2u.
 *   ⇒ |o_id − ref| ≤ η_i·Σ_j p_ij|v_jd|, η_i = 2E_i + (6 + 4 ln Tk + 2⌈Tk/4⌉ + 2Tk + 2)u (the last
 *     2 for the two ulp of the end), where Σ_j p_ij|v_jd| is the reference attention of |v|.
 *   Backward: P = exp(s·scale − L) is recomputed with |δs| ≤ E, |δL| ≤ E + η + 2⁻²¹ + u|L| (WGSL's
 *     log: 2⁻²¹ absolute near 1, 3 ulp elsewhere) and exp's (3 + 2X)·2u, X = max_ij(L_i − s_ij);
 *     dP_ij = dO_i·v_j (γ_D), D_i = dO_i·o_i (γ_D, plus o's own η), the difference and product (2u),
 *     sums over T rows (γ_T), the scale (u). Every gradient element is then within
 *     η_b·(the reference's absDq/absDk/absDv: the sum of the magnitudes of all its products, see
 *     engine/reference/attention.ts), η_b = 2E + 2η + 2⁻²¹ + u·max|L| + (6 + 4X)u + γ_D + γ_T + 4u.
 *   The tests assert twice these first-order bounds (second-order terms, e^{2E} − 1 ≈ 2E). A wrong
 *   kernel (scale, mask, a missed block) is off by O(1)·Σp|v|; these bounds are ~1e-5 of that.
 *   Against the composition both sides err: the sum of the two bounds (the composition rounds the
 *   same dot products of lengths D and T, the same exp, one more multiply for the scale).
 *   Finite differences (central, f64, h = 1e-6·max(1, |x|), see gradcheck.test.ts) add ≤ 2e-7.
 * Measured (node, lavapipe; DEBUG=1 prints each): forward ≤ 0.033 of its bound (vs reference and vs
 * primitives), gradients ≤ 0.017 of bound + 2e-7 against differences and ≤ 0.001 against the f64
 * analytic gradients — the bounds are worst cases; errors of a wrong kernel are ≥ 1e3× larger.
 */
import { describe, it, expect } from 'vitest';
import {
  init,
  attention,
  chooseAttentionVariant,
  tensor,
  gradients,
  engine,
  scope,
  ShapeError,
  DTypeError,
  zeros,
  noGrad,
  type Tensor,
} from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { useEngine, randomPair, halfPair, expectClose, attentionLayouts, EPS as u } from './util.ts';

useEngine();
const HAS_F16 = (await init()).hasFeature('shader-f16');

const isBrowser = typeof window !== 'undefined';
const DEBUG = !isBrowser && Number(process.env.DEBUG ?? 0) > 0;
const gamma = (n: number) => (n * u) / (1 - n * u);

interface Bounds {
  /** Per output element of o: 2·η_i·Σ_j p_ij|v_jd|. */
  fwd: Float64Array;
  /** max_i η_i, and the backward's η_b. */
  eta: number;
  etaB: number;
}

/** The error bounds of the header for q [..., Tq, D], k and v [..., Tk, D]. */
function bounds(q: RefTensor, k: RefTensor, v: RefTensor, scale: number): Bounds {
  const r = q.shape.length,
    d = q.shape[r - 1],
    tq = q.shape[r - 2],
    tk = k.shape[r - 2];
  const batch = q.data.length / (tq * d);
  const absV = { shape: v.shape, data: v.data.map(Math.abs) };
  const pv = R.attention(q, k, absV, scale); // Σ_j p_ij|v_jd|
  const ref = R.attention(q, k, v, scale);
  const fwd = new Float64Array(q.data.length);
  let etaMax = 0,
    eMax = 0,
    xMax = 0,
    lMax = 0;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < tq; i++) {
      let absQK = 0,
        absS = 0,
        sMin = Infinity;
      for (let j = 0; j < tk; j++) {
        let s = 0,
          a = 0;
        for (let e = 0; e < d; e++) {
          const x = q.data[(b * tq + i) * d + e] * k.data[(b * tk + j) * d + e];
          s += x;
          a += Math.abs(x);
        }
        absQK = Math.max(absQK, a);
        absS = Math.max(absS, Math.abs(s * scale));
        sMin = Math.min(sMin, s * scale);
      }
      const L = ref.lse.data[b * tq + i];
      const E = gamma(d) * scale * absQK + u * absS;
      const eta = 2 * E + (6 + 4 * Math.log(tk) + 2 * Math.ceil(tk / 4) + 2 * tk + 2) * u;
      for (let e = 0; e < d; e++) fwd[(b * tq + i) * d + e] = 2 * eta * pv.data[(b * tq + i) * d + e];
      etaMax = Math.max(etaMax, eta);
      eMax = Math.max(eMax, E);
      xMax = Math.max(xMax, L - sMin);
      lMax = Math.max(lMax, Math.abs(L));
    }
  const etaB = 2 * eMax + 2 * etaMax + 2 ** -21 + u * lMax + (6 + 4 * xMax) * u + gamma(d) + gamma(Math.max(tq, tk)) + 4 * u;
  return { fwd, eta: etaMax, etaB };
}

/** |got − want| ≤ bound (+ atol) everywhere; returns the worst |error| / (bound + atol). */
function within(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, atol: number, label: string): number {
  expectClose(got, want, { atol, bound }, label);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (bound[i] + atol));
  if (DEBUG) console.log(`${label}: worst |error| / bound = ${worst.toExponential(2)}`);
  return worst;
}

/** The composition softmax(q kᵀ·scale) v from GPU primitives (the second oracle; quadratic memory). */
const composed = (q: Tensor, k: Tensor, v: Tensor, scale: number) => q.matmul(k, { transposeB: true }).mul(scale).softmax(-1).matmul(v);

/** [q shape, k/v shape, scale?]: awkward T and D (YOLOS: D = 64, nano 32, S-dWr 55), B and H > 1. */
type Case = [number[], number[], number?];
const sq = (s: number[]): Case => [s, s];
const FORWARD: Case[] = isBrowser
  ? [
      sq([1, 1, 1, 1]),
      sq([2, 3, 3, 8]),
      sq([2, 2, 17, 55]),
      sq([1, 2, 64, 32]),
      sq([1, 2, 64, 64]),
      sq([1, 1, 33, 128]),
      [[1, 2, 5, 8], [1, 2, 9, 8], 0.7],
      sq([2, 17, 8]),
    ]
  : [
      sq([1, 1, 1, 1]),
      sq([2, 3, 3, 8]),
      sq([1, 2, 17, 1]),
      sq([2, 2, 17, 55]),
      sq([1, 1, 64, 128]),
      sq([2, 3, 64, 64]),
      sq([1, 2, 127, 32]),
      sq([1, 1, 127, 55]),
      sq([2, 1, 200, 64]),
      sq([1, 1, 200, 8]),
      sq([1, 4, 3, 128]),
      sq([3, 2, 17, 32]),
      sq([1, 1, 5, 200]),
      [[1, 2, 5, 8], [1, 2, 9, 8], 0.7],
      [
        [2, 1, 130, 16],
        [2, 1, 3, 16],
      ],
      sq([2, 17, 8]),
      sq([17, 3]),
    ];

describe('attention forward', () => {
  it.each(FORWARD.map((c) => [JSON.stringify(c), ...c] as const))('%s', async (_n, qs, ks, sc) => {
    const Q = randomPair(qs, 1),
      K = randomPair(ks, 2),
      V = randomPair(ks, 3);
    const scale = sc ?? 1 / Math.sqrt(qs[qs.length - 1]);
    const want = R.attention(Q.r, K.r, V.r, scale);
    const b = bounds(Q.r, K.r, V.r, scale);
    const o = attention(Q.t, K.t, V.t, sc === undefined ? {} : { scale: sc });
    expect(o.shape).toEqual(qs);
    const got = await o.data();
    within(got, want.data, b.fwd, 0, 'vs reference');
    // Second oracle: the same from matmul + softmax + matmul on the GPU (errs as much again).
    const prim = await scope(() => composed(Q.t, K.t, V.t, scale)).data();
    within(
      got,
      prim,
      b.fwd.map((x) => 2 * x),
      0,
      'vs primitives',
    );
  });

  it('T = 1024 against the reference; peak memory linear in T (1024 vs 2048, forward + backward)', async (ctx) => {
    if (isBrowser) ctx.skip(); // SwiftShader: minutes at this size; the node project covers it
    const d = 64;
    const Q = randomPair([1, 1, 1024, d], 4),
      K = randomPair([1, 1, 1024, d], 5),
      V = randomPair([1, 1, 1024, d], 6);
    const got = await attention(Q.t, K.t, V.t).data();
    within(got, R.attention(Q.r, K.r, V.r).data, bounds(Q.r, K.r, V.r, 1 / Math.sqrt(d)).fwd, 0, 'T=1024');

    const peak = async (t: number) => {
      const ins = [7, 8, 9, 10].map((s) => randomPair([1, 2, t, d], s).t);
      const [q, k, v, g] = ins;
      for (const x of [q, k, v]) x.requiresGrad = true;
      await g.data();
      engine().pool.resetPeak();
      const base = engine().memory().liveBytes;
      const o = attention(q, k, v);
      const grads = gradients(o, g);
      await grads.get(q)!.data();
      const bytes = engine().memory().peakBytes - base;
      for (const x of [...grads.values(), o, ...ins]) x.dispose();
      return bytes;
    };
    const p1 = await peak(1024),
      p2 = await peak(2048);
    // Linear: ≈ 2 (o, L, dq, dk, dv, Dᵢ are O(T·D)); the composition's T×T matrices would give ≈ 4.
    if (DEBUG) console.log(`peak above inputs: T=1024 ${p1} B, T=2048 ${p2} B, ratio ${(p2 / p1).toFixed(2)}`);
    expect(p2 / p1).toBeLessThan(3);
    expect(p2).toBeLessThan(40 * 2 * 2048 * d * 4); // a few [2, 2048, 64] f32 tensors, never 2048² floats
  });
});

/** Σ W ∘ ref(q, k, v): the scalar whose gradient the GPU's backward with seed W computes. */
function lossRef(q: RefTensor, k: RefTensor, v: RefTensor, w: RefTensor, scale: number): number {
  const o = R.attention(q, k, v, scale);
  return o.data.reduce((s, x, i) => s + x * w.data[i], 0);
}

/** Central differences of lossRef with respect to each of q, k, v (as in gradcheck.test.ts). */
function finiteDifferences(ins: RefTensor[], w: RefTensor, scale: number): Float64Array[] {
  return ins.map((x, which) => {
    const g = new Float64Array(x.data.length);
    for (let i = 0; i < x.data.length; i++) {
      const x0 = x.data[i],
        h = 1e-6 * Math.max(1, Math.abs(x0));
      const at = (val: number) => {
        const moved = ins.map((t, n) => (n === which ? { shape: t.shape, data: Float64Array.from(t.data) } : t));
        moved[which].data[i] = val;
        return lossRef(moved[0], moved[1], moved[2], w, scale);
      };
      g[i] = (at(x0 + h) - at(x0 - h)) / (x0 + h - (x0 - h));
    }
    return g;
  });
}

/** GPU gradients of Σ W ∘ attention(q, k, v). */
async function gpuGrads(q: Tensor, k: Tensor, v: Tensor, w: Tensor, scale?: number): Promise<Float32Array[]> {
  for (const x of [q, k, v]) x.requiresGrad = true;
  const o = attention(q, k, v, scale === undefined ? {} : { scale });
  const grads = gradients(o, w);
  const out = [];
  for (const x of [q, k, v]) out.push((await grads.get(x)!.data()) as Float32Array);
  for (const g of [...grads.values(), o]) g.dispose();
  return out;
}

describe('attention backward', () => {
  const FD: Case[] = [sq([1, 2, 5, 3]), sq([1, 1, 17, 8]), [[1, 1, 4, 6], [1, 1, 7, 6], 0.7]];
  it.each(FD.map((c) => [JSON.stringify(c), ...c] as const))('vs finite differences of the f64 reference: %s', async (_n, qs, ks, sc) => {
    const Q = randomPair(qs, 11),
      K = randomPair(ks, 12),
      V = randomPair(ks, 13),
      W = randomPair(qs, 14);
    const scale = sc ?? 1 / Math.sqrt(qs[qs.length - 1]);
    const fd = finiteDifferences([Q.r, K.r, V.r], W.r, scale);
    const ref = R.attentionBackward(Q.r, K.r, V.r, W.r, scale);
    const b = bounds(Q.r, K.r, V.r, scale);
    const got = await gpuGrads(Q.t, K.t, V.t, W.t, sc);
    const abs = [ref.absDq, ref.absDk, ref.absDv];
    ['dq', 'dk', 'dv'].forEach((name, n) => {
      // The f64 analytic reference agrees with the differences to the oracle's error (≤ 2e-7).
      expectClose([ref.dq, ref.dk, ref.dv][n].data, fd[n], { atol: 2e-7 }, `reference ${name} vs differences`);
      within(
        got[n],
        fd[n],
        abs[n].map((a) => 2 * b.etaB * a),
        2e-7,
        `${name} vs differences`,
      );
    });
  });

  it('vs the gradient of the composition matmul → softmax → matmul (medium shape)', async () => {
    const shape = isBrowser ? [1, 2, 20, 16] : [2, 3, 48, 64];
    const Q = randomPair(shape, 21),
      K = randomPair(shape, 22),
      V = randomPair(shape, 23),
      W = randomPair(shape, 24);
    const scale = 1 / Math.sqrt(shape[3]);
    const got = await gpuGrads(Q.t, K.t, V.t, W.t);
    const grads = gradients(composed(Q.t, K.t, V.t, scale), W.t);
    const ref = R.attentionBackward(Q.r, K.r, V.r, W.r, scale);
    const b = bounds(Q.r, K.r, V.r, scale);
    const abs = [ref.absDq, ref.absDk, ref.absDv];
    for (const [n, x] of [Q.t, K.t, V.t].entries()) {
      const name = ['dq', 'dk', 'dv'][n];
      within(
        got[n],
        [ref.dq, ref.dk, ref.dv][n].data,
        abs[n].map((a) => 2 * b.etaB * a),
        0,
        `${name} vs reference`,
      );
      within(
        got[n],
        await grads.get(x)!.data(),
        abs[n].map((a) => 4 * b.etaB * a),
        0,
        `${name} vs primitives`,
      );
    }
    for (const g of grads.values()) g.dispose();
  });

  it('is deterministic, frees what it allocates, and skips inputs without requiresGrad', async () => {
    const shape = [2, 2, 13, 8];
    const Q = randomPair(shape, 31),
      K = randomPair(shape, 32),
      V = randomPair(shape, 33),
      W = randomPair(shape, 34);
    const first = await gpuGrads(Q.t, K.t, V.t, W.t);
    const before = engine().memory().tensors;
    const second = await gpuGrads(Q.t, K.t, V.t, W.t);
    expect(engine().memory().tensors).toBe(before);
    for (let n = 0; n < 3; n++) expect(Array.from(second[n])).toEqual(Array.from(first[n])); // bitwise: no atomics
    K.t.requiresGrad = false;
    const grads = gradients(attention(Q.t, K.t, V.t), W.t);
    expect(grads.has(K.t)).toBe(false);
    expect(Array.from(await grads.get(Q.t)!.data())).toEqual(Array.from(first[0]));
    for (const g of grads.values()) g.dispose();
  });

  it('Tq = 0: an empty output, and zero gradients for k and v', async () => {
    const q = zeros([1, 2, 0, 4]),
      k = randomPair([1, 2, 3, 4], 41).t,
      v = randomPair([1, 2, 3, 4], 42).t;
    const o = attention(q, k, v);
    expect(o.shape).toEqual([1, 2, 0, 4]);
    k.requiresGrad = v.requiresGrad = true;
    const grads = gradients(attention(q, k, v), zeros([1, 2, 0, 4]));
    expect(Array.from(await grads.get(k)!.data())).toEqual(new Array(24).fill(0));
    expect(Array.from(await grads.get(v)!.data())).toEqual(new Array(24).fill(0));
  });
});

describe('attention errors', () => {
  it('names the op and the shapes', () => {
    const z = (s: number[]) => zeros(s);
    expect(() => attention(z([2, 3, 4, 8]), z([2, 3, 4, 8]), z([2, 3, 5, 8]))).toThrow(ShapeError);
    expect(() => attention(z([2, 3, 4, 8]), z([2, 3, 4, 8]), z([2, 3, 5, 8]))).toThrow(
      /attention: k and v must have the same shape \[\.\.\., Tk, D\], got q=\[2,3,4,8\] k=\[2,3,4,8\] v=\[2,3,5,8\]/,
    );
    expect(() => attention(z([2, 3, 4, 8]), z([2, 2, 4, 8]), z([2, 2, 4, 8]))).toThrow(
      /attention: the leading \(batch, head\) axes of q and k differ: q=\[2,3,4,8\] k=\[2,2,4,8\]/,
    );
    expect(() => attention(z([1, 4, 8]), z([1, 4, 6]), z([1, 4, 6]))).toThrow(
      /attention: head dimensions differ: q=\[1,4,8\] k=\[1,4,6\] v=\[1,4,6\] \(8 vs 6\)/,
    );
    expect(() => attention(z([1, 4, 8]), z([1, 1, 4, 8]), z([1, 1, 4, 8]))).toThrow(/attention: q, k and v must have the same rank/);
    expect(() => attention(z([8]), z([8]), z([8]))).toThrow(/attention: q, k and v must have rank ≥ 2/);
    expect(() => attention(z([1, 4, 300]), z([1, 4, 300]), z([1, 4, 300]))).toThrow(
      /attention: head dimension D must be in 1\.\.256, got 300/,
    );
    expect(() => attention(z([1, 4, 8]), z([1, 0, 8]), z([1, 0, 8]))).toThrow(/attention: no keys to attend to \(Tk = 0\)/);
    expect(() => attention(z([1, 4, 8]), z([1, 4, 8]), z([1, 4, 8]), { scale: NaN })).toThrow(/attention: scale must be a finite number/);
    const i = tensor(new Int32Array(8), [1, 1, 8]);
    expect(() => attention(i, z([1, 1, 8]), z([1, 1, 8]))).toThrow(DTypeError);
    expect(() => attention(i, z([1, 1, 8]), z([1, 1, 8]))).toThrow(/attention: expected q of dtype f32, got i32\[1,1,8\]/);
  });
});

/**
 * f16 storage (adapters with 'shader-f16'). The reference runs on the f16-rounded inputs (what the
 * GPU holds); rows are widened to f32 on load, so every bound of the header holds unchanged. An f16
 * result is converted once more when stored, to either f16 neighbour (WGSL leaves the rounding
 * mode open): + 2⁻¹⁰·|o| (one f16 ulp, relative) and 2⁻²⁴ absolute (the f16 subnormal spacing).
 */
describe('attention with f16 storage', () => {
  type Kind = 'h' | 'f';
  const pair = (kind: Kind, shape: number[], seed: number) => (kind === 'h' ? halfPair(shape, seed) : randomPair(shape, seed));
  // [q shape, k/v shape, storage of q, k, v, result]: vec4 rows (D % 4 = 0) and guarded scalars (55, 5).
  const CASES: [number[], number[], string][] = [
    [[2, 3, 17, 64], [2, 3, 17, 64], 'hhhf'],
    [[1, 2, 13, 55], [1, 2, 13, 55], 'hhhh'],
    [[1, 2, 9, 8], [1, 2, 30, 8], 'hfhh'],
    [[3, 7, 5], [3, 4, 5], 'fhff'],
    [[1, 1, 1, 32], [1, 1, 1, 32], 'hhhh'],
  ];
  it.skipIf(!HAS_F16).each(CASES.map((c) => [c[2] + ' ' + JSON.stringify(c.slice(0, 2)), ...c] as const))(
    'forward %s',
    async (_n, qs, ks, kinds) => {
      const [Q, K, V] = [qs, ks, ks].map((s, n) => pair(kinds[n] as Kind, s, 51 + n));
      const scale = 1 / Math.sqrt(qs[qs.length - 1]);
      const want = R.attention(Q.r, K.r, V.r, scale);
      const b = bounds(Q.r, K.r, V.r, scale);
      const o = attention(Q.t, K.t, V.t, { outDtype: kinds[3] === 'h' ? 'f16' : 'f32' });
      expect(o.dtype).toBe(kinds[3] === 'h' ? 'f16' : 'f32');
      const bound = kinds[3] === 'h' ? b.fwd.map((e, i) => e + 2 ** -10 * (Math.abs(want.data[i]) + e)) : b.fwd;
      within(await o.data(), want.data, bound, kinds[3] === 'h' ? 2 ** -24 : 0, `f16 ${kinds}`);
    },
  );

  it.skipIf(!HAS_F16)('backward through f32 → f16 casts: f32 gradients within the f32 bounds', async () => {
    for (const [shape, kinds] of [
      [[1, 2, 21, 64], 'hhh'],
      [[2, 1, 10, 55], 'hfh'],
    ] as [number[], string][]) {
      // f32 leaves holding f16-exact values, cast to f16 where kinds says so (the cast passes g through).
      const leaves = [0, 1, 2].map((n) => {
        const h = halfPair(shape, 61 + n);
        const t = tensor(Float32Array.from(h.r.data), shape, { requiresGrad: true });
        h.t.dispose();
        return { t, r: h.r };
      });
      const W = randomPair(shape, 64);
      const scale = 1 / Math.sqrt(shape[shape.length - 1]);
      const ins = leaves.map((l, n) => (kinds[n] === 'h' ? l.t.cast('f16') : l.t));
      const o = attention(ins[0], ins[1], ins[2]);
      const grads = gradients(o, W.t);
      const ref = R.attentionBackward(leaves[0].r, leaves[1].r, leaves[2].r, W.r, scale);
      const b = bounds(leaves[0].r, leaves[1].r, leaves[2].r, scale);
      const abs = [ref.absDq, ref.absDk, ref.absDv];
      for (const [n, name] of ['dq', 'dk', 'dv'].entries()) {
        const g = grads.get(leaves[n].t)!;
        expect(g.dtype).toBe('f32');
        within(
          await g.data(),
          [ref.dq, ref.dk, ref.dv][n].data,
          abs[n].map((a) => 2 * b.etaB * a),
          0,
          `${name} ${kinds} ${shape}`,
        );
      }
      for (const t of [...grads.values(), o, ...ins, ...leaves.map((l) => l.t)]) t.dispose();
    }
  });

  it.skipIf(!HAS_F16)('an f16 result is not differentiable; outDtype is checked', () => {
    const q = randomPair([1, 4, 8], 71).t;
    q.requiresGrad = true;
    const h = q.cast('f16');
    expect(() => attention(h, h, h, { outDtype: 'f16' })).toThrow(/attention: an f16 result is not differentiable/);
    expect(() => attention(q, q, q, { outDtype: 'i32' as 'f16' })).toThrow(/attention: outDtype must be f32 or f16, got i32/);
  });

  it.skipIf(HAS_F16)('without shader-f16 (SwiftShader), f16 is refused with a DTypeError naming the adapter', () => {
    const z = zeros([1, 4, 8]);
    expect(() => attention(z, z, z, { outDtype: 'f16' })).toThrow(DTypeError);
    expect(() => attention(z, z, z, { outDtype: 'f16' })).toThrow(/attention: dtype f16 needs the WebGPU feature 'shader-f16'/);
  });
});

/**
 * The GPU layouts on this adapter: 'row' (one row per invocation) and 'tiled' (64 rows per workgroup,
 * the other sequence staged through workgroup memory; auto's choice on hardware adapters). The same
 * arithmetic in the same order as 'blocked', so the same bounds — and here the same bits. Awkward T
 * and D (tiles of 4 to 64 rows, the last one partial), Tq ≠ Tk, f16 storage.
 */
describe('attention, row and tiled layouts', () => {
  it('auto picks by adapter; an unknown variant is an error', () => {
    const { isSoftware, subgroupSize } = engine().adapter;
    expect(chooseAttentionVariant()).toBe(isSoftware ? (subgroupSize ? 'broadcast' : 'blocked') : 'tiled');
    const traits = (subgroupSize: number | null) => ({ adapter: { isSoftware: true, subgroupSize }, limits: engine().limits });
    expect(chooseAttentionVariant('auto', 64, traits(null))).toBe('blocked');
    expect(chooseAttentionVariant('auto', 64, traits(4))).toBe('broadcast');
    expect(() => chooseAttentionVariant('broadcast', 64, traits(null))).toThrow(/variant 'broadcast' needs the 'subgroups' feature/);
    expect(chooseAttentionVariant('tiled')).toBe('tiled');
    const z = zeros([1, 4, 8]);
    expect(() => attention(z, z, z, { variant: 'gpu' as 'tiled' })).toThrow(
      /attention: unknown variant 'gpu' \(expected auto, blocked, broadcast, row, tiled\)/,
    );
  });

  const CASES: Case[] = isBrowser
    ? [sq([1, 2, 17, 55]), [[1, 1, 9, 8], [1, 1, 5, 8], 0.7]]
    : [
        sq([2, 2, 17, 55]),
        sq([1, 2, 70, 64]),
        sq([1, 1, 5, 200]),
        [
          [2, 1, 130, 16],
          [2, 1, 3, 16],
        ],
        [
          [1, 1, 3, 32],
          [1, 1, 150, 32],
        ],
        sq([3, 7, 1]),
        sq([1, 1, 67, 128]),
      ];
  it.each(CASES.map((c) => [JSON.stringify(c), ...c] as const))(
    'forward and backward %s: within the bounds, and the same bits as blocked',
    async (_n, qs, ks, sc) => {
      const Q = randomPair(qs, 81),
        K = randomPair(ks, 82),
        V = randomPair(ks, 83),
        W = randomPair(qs, 84);
      const scale = sc ?? 1 / Math.sqrt(qs[qs.length - 1]);
      const b = bounds(Q.r, K.r, V.r, scale);
      const ref = R.attentionBackward(Q.r, K.r, V.r, W.r, scale);
      const abs = [ref.absDq, ref.absDk, ref.absDv];
      for (const x of [Q.t, K.t, V.t]) x.requiresGrad = true;
      const outputs: Record<string, Float32Array[]> = {};
      const layouts = attentionLayouts(engine());
      for (const variant of layouts) {
        const o = attention(Q.t, K.t, V.t, { scale, variant });
        // inference (no log-sum-exp written): the same output
        const plain = noGrad(() => attention(Q.t, K.t, V.t, { scale, variant }));
        const got = [(await o.data()) as Float32Array];
        expect(Array.from((await plain.data()) as Float32Array), `${variant}: inference vs training forward`).toEqual(Array.from(got[0]));
        plain.dispose();
        within(got[0], R.attention(Q.r, K.r, V.r, scale).data, b.fwd, 0, `${variant} forward`);
        const grads = gradients(o, W.t);
        for (const [n, x] of [Q.t, K.t, V.t].entries()) {
          got.push((await grads.get(x)!.data()) as Float32Array);
          within(
            got[n + 1],
            [ref.dq, ref.dk, ref.dv][n].data,
            abs[n].map((a) => 2 * b.etaB * a),
            0,
            `${variant} ${['dq', 'dk', 'dv'][n]}`,
          );
        }
        for (const g of [...grads.values(), o]) g.dispose();
        outputs[variant] = got;
      }
      for (const variant of layouts.slice(1)) {
        outputs[variant].forEach((a, n) =>
          expect(Array.from(a), `${variant} vs blocked, output ${n}`).toEqual(Array.from(outputs.blocked[n])),
        );
      }
    },
  );

  it.skipIf(!HAS_F16)('f16 storage', async () => {
    const Q = halfPair([1, 2, 13, 32], 91),
      K = halfPair([1, 2, 13, 32], 92),
      V = halfPair([1, 2, 13, 32], 93);
    const scale = 1 / Math.sqrt(32);
    const want = R.attention(Q.r, K.r, V.r, scale);
    const b = bounds(Q.r, K.r, V.r, scale);
    for (const variant of attentionLayouts(engine())) {
      const o = attention(Q.t, K.t, V.t, { variant, outDtype: 'f16' });
      within(
        await o.data(),
        want.data,
        b.fwd.map((e, i) => e + 2 ** -10 * (Math.abs(want.data[i]) + e)),
        2 ** -24,
        `${variant} f16`,
      );
    }
  });
});
