/**
 * Batched matmul against the reference, on every kernel variant (forced with `{ variant }`).
 *
 * Tolerance from the arithmetic: a serial f32 sum over K of products (possibly fused) satisfies
 * |C − C_exact| ≤ γ_K·Σ_k|a_ik·b_kj|, γ_K = K·u/(1 − K·u), u = 2⁻²⁴ (Higham, Accuracy and Stability,
 * §3.1); the reference returns Σ|a·b| per output. Every variant accumulates each output serially
 * over K in f32, so the one bound covers them all.
 *
 * Epilogue y = act(z) + r, z = a·b + bias: the bias add is one more rounding of the sum, so
 * |z̃ − z| ≤ e_z = γ_{K+1}·(Σ|a·b| + |bias|). ReLU is 1-Lipschitz and exact; GELU is 1.13-Lipschitz
 * (max |Φ(x) + xφ(x)| = 1.129) and its kernel adds ≤ 1e-6 + 4e-6·|gelu| (the elementwise test's
 * bound for gelu_f); the residual add rounds once more (u·|y|).
 *
 * f16 operands: the reference is computed from the f16-rounded inputs (what the GPU holds); their
 * products are exact in f32 (11 + 11 significant bits ≤ 24), so the same γ_K bound holds; an f16
 * result adds one conversion to binary16, which WGSL lets round to either neighbour (not only the
 * nearest): one f16 ulp, 2⁻¹⁰·|y| for normal values, plus 2⁻²⁴ (the subnormal spacing) near 0.
 */
import { describe, it, expect } from 'vitest';
import { init, matmul, tensor, ShapeError, DTypeError, type Tensor } from '../../engine/index.ts';
import { MATMUL_VARIANTS, chooseVariant, type MatmulVariant } from '../../engine/ops/matmul.ts';
import * as R from '../../engine/reference/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { useEngine, randomPair, halfPair, expectTensor, expectClose, rng, EPS } from './util.ts';

// Known before the tests are collected, for skipIf; useEngine() then returns this running engine.
const hasF16 = (await init()).hasFeature('shader-f16');
const getEngine = useEngine();

const gamma = (k: number) => (k * EPS) / (1 - k * EPS);

const CASES: [number[], number[], boolean, boolean][] = [
  [[1, 1], [1, 1], false, false],
  [[3, 17], [17, 257], false, false],
  [[33, 65], [65, 31], false, false],
  [[5, 7], [5, 4], true, false],
  [[5, 7], [4, 7], false, true],
  [[7, 5], [4, 7], true, true],
  [[2, 3, 17, 9], [9, 5], false, false],
  [[4, 1, 6, 8], [3, 8, 2], false, false],
  [[2, 64, 64], [2, 64, 64], false, true],
  [[17], [17, 3], false, false],
  [[3, 17], [17], false, false],
  [[17], [17], false, false],
  [[2, 5, 3], [3], false, false],
  [[1, 257], [257, 1], false, false],
  [[129, 1], [1, 130], false, false],
  [[0, 4], [4, 3], false, false],
  [[3, 0], [0, 2], false, false],
  // K = 1, M or N = 1, primes
  [[5, 1], [1, 7], false, false],
  [[1, 13], [19, 13], false, true],
  [[13, 17], [17, 19], false, false],
  // multiples of 4: the vec4 load paths (A along K or M, B along N or K, C along N), edges, batches
  [[8, 12], [12, 16], false, false],
  [[12, 8], [12, 16], true, false],
  [[8, 12], [16, 12], false, true],
  [[12, 8], [16, 12], true, true],
  [[3, 1, 20, 8], [2, 8, 36], false, false],
  [[2, 12, 36], [2, 44, 12], true, true],
  [[68, 4], [4, 68], false, false],
];

const VARIANTS: readonly MatmulVariant[] = MATMUL_VARIANTS;

describe.each(VARIANTS)('matmul (%s)', (variant) => {
  it.each(CASES.map((c) => [JSON.stringify(c), ...c] as const))('%s', async (_n, sa, sb, tA, tB) => {
    const A = randomPair(sa, 1),
      B = randomPair(sb, 2);
    const want = R.matmul(A.r, B.r, tA, tB);
    const K = tA ? sa[sa.length - 2] : sa[sa.length - 1];
    const y = matmul(A.t, B.t, { transposeA: tA, transposeB: tB, variant });
    await expectTensor(y, want, { bound: want.absProd.map((s) => gamma(K) * s + 1e-30) }, 'matmul');
  });

  it('a large product stays inside γ_K·Σ|a·b|', async () => {
    const A = randomPair([130, 300], 3),
      B = randomPair([300, 67], 4);
    const want = R.matmul(A.r, B.r);
    await expectTensor(A.t.matmul(B.t, { variant }), want, { bound: want.absProd.map((s) => gamma(300) * s) });
  });

  it('several tiles both ways (≥ 2 of 128), batched, both operands transposed', async () => {
    const A = randomPair([2, 33, 150], 5),
      B = randomPair([2, 270, 33], 6); // Aᵀ: M = 150, K = 33; Bᵀ: N = 270
    const want = R.matmul(A.r, B.r, true, true);
    await expectTensor(matmul(A.t, B.t, { transposeA: true, transposeB: true, variant }), want, {
      bound: want.absProd.map((s) => gamma(33) * s + 1e-30),
    });
  });

  it('K = 0 gives zeros', async () => {
    const A = randomPair([3, 0], 1),
      B = randomPair([0, 2], 2);
    expect(Array.from(await A.t.matmul(B.t, { variant }).data())).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('Inf and NaN propagate only to their own rows and columns', async () => {
    // Edge tiles clamp their loads into the matrix: a special value there must not leak into a
    // neighbouring output (it would with a 0·Inf mask).
    const a = new Float32Array(5 * 3).fill(1),
      b = new Float32Array(3 * 6).fill(1);
    a[4 * 3 + 1] = Infinity; // row 4
    b[2 * 6 + 5] = NaN; // column 5
    const y = await matmul(tensor(a, [5, 3]), tensor(b, [3, 6]), { variant }).data();
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 6; j++) {
        const v = y[i * 6 + j];
        if (j === 5) expect(v, `(${i},${j})`).toBeNaN();
        else expect(v, `(${i},${j})`).toBe(i === 4 ? Infinity : 3);
      }
  });
});

// ---------------------------------------------------------------------------------------------
// Fused epilogue

type Act = 'gelu' | 'relu' | undefined;
const LIP = { gelu: 1.13, relu: 1 };

/** y = act(a·op(b) + bias) + residual in f64, with the per-element error bound of the header. */
function epilogueRef(A: RefTensor, B: RefTensor, tA: boolean, tB: boolean, bias: RefTensor | null, act: Act, res: RefTensor | null) {
  const mm = R.matmul(A, B, tA, tB);
  const K = tA ? A.shape[A.shape.length - 2] : A.shape[A.shape.length - 1];
  const N = mm.shape[mm.shape.length - 1];
  const z = mm.data.map((v, i) => v + (bias ? bias.data[i % N] : 0));
  const y = z.map((v, i) => (act ? R.unary(act, R.ref([v], [])).data[0] : v) + (res ? res.data[i] : 0));
  const bound = mm.absProd.map((s, i) => {
    const ez = gamma(K + 1) * (s + (bias ? Math.abs(bias.data[i % N]) : 0));
    const ea = act === 'gelu' ? LIP.gelu * ez + 1e-6 + 4e-6 * Math.abs(y[i] - (res ? res.data[i] : 0)) : ez;
    return ea + EPS * Math.abs(y[i]) + 1e-30;
  });
  return { want: { shape: mm.shape, data: y }, z, bound };
}

const EPI_CASES: { a: number[]; b: number[]; tB: boolean; bias: boolean; act: Act; res: boolean }[] = [
  { a: [5, 7], b: [9, 7], tB: true, bias: true, act: 'gelu', res: true }, // N = 9: scalar epilogue
  { a: [2, 8, 12], b: [16, 12], tB: true, bias: true, act: 'relu', res: true }, // N = 16: vec4 epilogue
  { a: [3, 4], b: [4, 6], tB: false, bias: true, act: undefined, res: false },
  { a: [6, 3], b: [5, 3], tB: true, bias: false, act: 'gelu', res: false },
  { a: [1, 5], b: [1, 5], tB: true, bias: false, act: undefined, res: true }, // M = N = 1
  { a: [70, 9], b: [36, 9], tB: true, bias: true, act: 'gelu', res: true }, // several tiles
  { a: [4, 0], b: [8, 0], tB: true, bias: true, act: 'gelu', res: true }, // K = 0: gelu(bias) + residual
];

describe.each(VARIANTS)('matmul epilogue (%s)', (variant) => {
  it.each(EPI_CASES.map((c) => [JSON.stringify(c), c] as const))('%s', async (_n, c) => {
    const A = randomPair(c.a, 11),
      B = randomPair(c.b, 12);
    const N = c.tB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
    const outShape = [...c.a.slice(0, -1), N];
    const bias = c.bias ? randomPair([N], 13, -2, 2) : null;
    const res = c.res ? randomPair(outShape, 14) : null;
    const { want, bound } = epilogueRef(A.r, B.r, false, c.tB, bias?.r ?? null, c.act, res?.r ?? null);
    const y = matmul(A.t, B.t, { transposeB: c.tB, bias: bias?.t, activation: c.act, residual: res?.t, variant });
    await expectTensor(y, want, { bound }, 'epilogue');
  });

  it('gradients of a, b, bias and residual match central differences of the f64 reference', async () => {
    // Method and tolerance as in gradcheck.test.ts: L = Σ W ⊙ y, oracle by central differences in f64
    // (h = 1e-6·max(1,|x|): oracle error ≲ 2e-7·s), |g − fd| ≤ 1e-5·s + 1e-4·|fd| with s the input's
    // largest gradient: each GPU gradient entry is a chain of a few f32 roundings over sums of ≤ 9
    // terms bounded by s (≲ 1e-6·s). ReLU's kink: the smallest |z| here is checked ≥ 0.01 ≫ h.
    for (const act of ['gelu', 'relu'] as const) {
      const shapes = { a: [2, 3, 5], b: [7, 5], bias: [7], res: [2, 3, 7] };
      const ins = Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, randomPair(s, 40 + i)])) as Record<
        keyof typeof shapes,
        { t: Tensor; r: RefTensor }
      >;
      const next = rng(99);
      const W = Float64Array.from({ length: 42 }, () => Math.fround(next() * 2 - 1));
      const loss = (r: Record<string, RefTensor>) => {
        const { want } = epilogueRef(r.a, r.b, false, true, r.bias, act, r.res);
        return want.data.reduce((s, v, i) => s + v * W[i], 0);
      };
      const { z } = epilogueRef(ins.a.r, ins.b.r, false, true, ins.bias.r, act, ins.res.r);
      if (act === 'relu') expect(Math.min(...z.map(Math.abs))).toBeGreaterThan(0.01);
      for (const k of Object.keys(ins) as (keyof typeof ins)[]) ins[k].t.requiresGrad = true;
      const y = matmul(ins.a.t, ins.b.t, { transposeB: true, bias: ins.bias.t, activation: act, residual: ins.res.t, variant });
      y.mul(tensor(Float32Array.from(W), [2, 3, 7]))
        .sum()
        .backward();
      for (const k of Object.keys(ins) as (keyof typeof ins)[]) {
        const base = Object.fromEntries(Object.entries(ins).map(([n, v]) => [n, v.r]));
        const x = ins[k].r;
        const fd = x.data.map((v, i) => {
          const h = 1e-6 * Math.max(1, Math.abs(v));
          const plus = Float64Array.from(x.data),
            minus = Float64Array.from(x.data);
          plus[i] = v + h;
          minus[i] = v - h;
          return (
            (loss({ ...base, [k]: { shape: x.shape, data: plus } }) - loss({ ...base, [k]: { shape: x.shape, data: minus } })) /
            (plus[i] - minus[i])
          );
        });
        const s = Math.max(1, ...fd.map(Math.abs));
        expectClose(await ins[k].t.grad!.data(), fd, { atol: 1e-5 * s, rtol: 1e-4 }, `${act} d${k}`);
      }
    }
  });
});

describe('matmul epilogue: shapes, 1-D operands, errors', () => {
  it('a 1-D a with bias and residual of the squeezed output shape', async () => {
    const A = randomPair([6], 21),
      B = randomPair([5, 6], 22),
      bias = randomPair([5], 23),
      res = randomPair([5], 24);
    const { want, bound } = epilogueRef({ shape: [1, 6], data: A.r.data }, B.r, false, true, bias.r, 'gelu', {
      shape: [1, 5],
      data: res.r.data,
    });
    const y = matmul(A.t, B.t, { transposeB: true, bias: bias.t, activation: 'gelu', residual: res.t });
    expect(y.shape).toEqual([5]);
    expectClose(await y.data(), want.data, { bound }, '1-D epilogue');
  });

  it('rejects a bias or residual of the wrong shape, naming the shapes', () => {
    const a = randomPair([3, 4], 1).t,
      b = randomPair([5, 4], 2).t;
    expect(() => matmul(a, b, { transposeB: true, bias: randomPair([4], 3).t })).toThrow(ShapeError);
    expect(() => matmul(a, b, { transposeB: true, bias: randomPair([4], 3).t })).toThrow(/bias \[4\] must have shape \[5\]/);
    expect(() => matmul(a, b, { transposeB: true, residual: randomPair([5, 3], 3).t })).toThrow(
      /residual \[5,3\] must have the output's shape \[3,5\]/,
    );
    expect(() => matmul(a, b, { transposeB: true, variant: 'fast' as never })).toThrow(/unknown variant 'fast'/);
  });

  it('software adapters get a barrier-free kernel (broadcast with fixed-size subgroups), hardware a shared-memory one (128-wide tiles for large products)', () => {
    const { isSoftware: sw, subgroupSize } = getEngine().adapter;
    const cpu = subgroupSize ? /^broadcast$/ : /^register/;
    expect(chooseVariant(512, 512)).toMatch(sw ? cpu : /^shared$/);
    expect(chooseVariant(4096, 4096)).toMatch(sw ? cpu : /^shared128$/);
    if (sw) expect(chooseVariant(512, 8)).toMatch(/^register/); // fewer columns than a broadcast workgroup shares
    const traits = (subgroupSize: number | null) => ({ adapter: { isSoftware: true, subgroupSize }, limits: getEngine().limits });
    expect(chooseVariant(512, 512, 'auto', 1, traits(null))).toBe('register8x4');
    expect(chooseVariant(512, 512, 'auto', 1, traits(4))).toBe('broadcast');
    expect(() => chooseVariant(512, 512, 'broadcast', 1, traits(null))).toThrow(/variant 'broadcast' needs the 'subgroups' feature/);
  });
});

// ---------------------------------------------------------------------------------------------
// f16 operands (adapters with 'shader-f16')

describe('matmul with f16 storage', () => {
  it.skipIf(!hasF16).each(VARIANTS)('f16 × f16 → f32 (%s)', async (variant) => {
    for (const [sa, sb, tB] of [
      [[13, 17], [19, 17], true],
      [[2, 8, 12], [12, 16], false],
      [[1, 5], [5, 3], false],
    ] as [number[], number[], boolean][]) {
      const A = halfPair(sa, 31),
        B = halfPair(sb, 32);
      const want = R.matmul(A.r, B.r, false, tB);
      const K = sa[sa.length - 1];
      const y = matmul(A.t, B.t, { transposeB: tB, variant });
      expect(y.dtype).toBe('f32');
      await expectTensor(y, want, { bound: want.absProd.map((s) => gamma(K) * s + 1e-30) }, `f16 ${JSON.stringify([sa, sb])}`);
    }
  });

  it.skipIf(!hasF16).each(VARIANTS)('mixed f16/f32 operands, f16 epilogue inputs and an f16 result (%s)', async (variant) => {
    const A = halfPair([7, 12], 33),
      B = randomPair([10, 12], 34),
      bias = halfPair([10], 35),
      res = halfPair([7, 10], 36);
    const { want, bound } = epilogueRef(A.r, B.r, false, true, bias.r, 'gelu', res.r);
    const y32 = matmul(A.t, B.t, { transposeB: true, bias: bias.t, activation: 'gelu', residual: res.t, variant });
    await expectTensor(y32, want, { bound }, 'mixed → f32');
    const y16 = matmul(A.t, B.t, { transposeB: true, bias: bias.t, activation: 'gelu', residual: res.t, outDtype: 'f16', variant });
    expect(y16.dtype).toBe('f16');
    // One more rounding to binary16: u₁₆·(|y| + e) on top of the f32 bound e.
    await expectTensor(y16, want, { bound: bound.map((e, i) => e + 2 ** -10 * (Math.abs(want.data[i]) + e) + 2 ** -24) }, 'mixed → f16');
  });

  it.skipIf(!hasF16)('an f16 result is not differentiable', () => {
    const A = randomPair([2, 3], 1),
      B = randomPair([3, 2], 2);
    A.t.requiresGrad = true;
    expect(() => matmul(A.t, B.t, { outDtype: 'f16' })).toThrow(DTypeError);
  });

  it.skipIf(hasF16)('without shader-f16, f16 is refused with a DTypeError naming the adapter', () => {
    const a = randomPair([2, 3], 1).t,
      b = randomPair([3, 2], 2).t;
    expect(() => matmul(a, b, { outDtype: 'f16' })).toThrow(DTypeError);
    expect(() => matmul(a, b, { outDtype: 'f16' })).toThrow(new RegExp(`shader-f16.*${getEngine().adapter.source}`));
  });
});
