/** nn: layers against the CPU reference, parameter trees and state dicts, dropout, initialisers. */
import { describe, it, expect } from 'vitest';
import { tensor, zeros, ones, noGrad, nn, type Tensor } from '../../engine/index.ts';
import { truncatedNormal } from '../../engine/ops/truncnormal.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, expectClose, EPS } from './util.ts';

useEngine();

const f64 = async (t: Tensor) => Float64Array.from(await t.data());
const f32 = async (t: Tensor) => (await t.data()) as Float32Array;
const refOf = async (t: Tensor): Promise<R.RefTensor> => ({ shape: [...t.shape], data: await f64(t) });
const sameBits = async (a: Tensor, b: Tensor) =>
  expect(Array.from(new Uint32Array((await a.data()).buffer))).toEqual(Array.from(new Uint32Array((await b.data()).buffer)));

/** x·Wᵀ + b in f64, and the per-element scale Σ|x·w| + |b| of its f32 rounding error. */
function refLinear(x: R.RefTensor, w: R.RefTensor, b: R.RefTensor | null): { y: R.RefTensor; scale: Float64Array } {
  const mm = R.matmul(x, w, false, true);
  const y = b ? R.binary('add', mm, b) : mm;
  const n = w.shape[0];
  const scale = mm.absProd.map((s, i) => s + (b ? Math.abs(b.data[i % n]) : 0));
  return { y, scale };
}

describe('Linear, LayerNorm and MLP forward against the CPU reference', () => {
  // A K-term f32 dot product plus a bias add errs by ≤ (K + 1)·u·(Σ|x·w| + |b|) (Higham's γ_K);
  // the bound below uses K + 2 for the rounding of the product itself.
  it.each([[[3, 5]], [[2, 3, 5]], [[1, 5]]])('Linear(5, 4) on x %j', async (shape) => {
    const lin = new nn.Linear(5, 4, { seed: 11 });
    expect(lin.weight.shape).toEqual([4, 5]);
    expect(lin.bias!.shape).toEqual([4]);
    const { t: x, r: xr } = randomPair(shape, 3);
    const y = noGrad(() => lin.forward(x));
    const { y: want, scale } = refLinear(xr, await refOf(lin.weight), await refOf(lin.bias!));
    expectClose(await y.data(), want, { bound: scale.map((s) => (5 + 2) * EPS * s) }, 'Linear', y.shape);
    for (const t of [x, y]) t.dispose();
    lin.dispose();
  });

  it('Linear without bias has only a weight', async () => {
    const lin = new nn.Linear(3, 2, { bias: false, seed: 1 });
    expect(lin.namedParameters().map(([n]) => n)).toEqual(['weight']);
    const { t: x, r: xr } = randomPair([4, 3], 5);
    const y = noGrad(() => lin.forward(x));
    const { y: want, scale } = refLinear(xr, await refOf(lin.weight), null);
    expectClose(await y.data(), want, { bound: scale.map((s) => 5 * EPS * s) }, 'Linear no bias', y.shape);
    expect(() => lin.forward(tensor([[1, 2]]))).toThrow(/Linear\(in=3, out=2\): expected an input \[\.\.\., 3\], got \[1,2\]/);
    for (const t of [x, y]) t.dispose();
    lin.dispose();
  });

  // Layer norm of a row of d = 24 values of size O(1): mean and variance are f32 sums of d terms
  // (error ≤ d·u relative each), so the normalised values err by a few·d·u ≈ 1e-5·|x̂|; with a scale
  // and shift of O(1) an absolute 2e-5 bounds it.
  it('LayerNorm(24) with a learned scale and shift', async () => {
    const ln = new nn.LayerNorm(24, { eps: 1e-5 });
    expect(ln.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ['weight', [24]],
      ['bias', [24]],
    ]);
    nn.uniform(ln.weight, { low: 0.5, high: 1.5, seed: 1 });
    nn.uniform(ln.bias, { low: -0.5, high: 0.5, seed: 2 });
    const { t: x, r: xr } = randomPair([2, 3, 24], 9, -2, 3);
    const y = noGrad(() => ln.forward(x));
    const want = R.layerNorm(xr, await refOf(ln.weight), await refOf(ln.bias), 1e-5);
    expectClose(await y.data(), want, { atol: 2e-5 }, 'LayerNorm', y.shape);
    for (const t of [x, y]) t.dispose();
    ln.dispose();
  });

  // Three layers of the Linear bound each, plus GELU's erfc fit (1.2e-7 relative) between them; the
  // per-layer errors are propagated by weights ≤ 1/√fan_in in magnitude, so an absolute 1e-5 on
  // outputs of size O(1) leaves a factor of > 10 over the estimate.
  it.each(['gelu', 'relu'] as const)('MLP([6, 16, 8, 3]) with %s', async (activation) => {
    const mlp = new nn.MLP([6, 16, 8, 3], { activation, seed: 5 });
    const { t: x, r: xr } = randomPair([7, 6], 13, -2, 2);
    const y = noGrad(() => mlp.forward(x));
    let h = xr;
    for (let i = 0; i < 3; i++) {
      const l = mlp.layers[i];
      h = refLinear(h, await refOf(l.weight), await refOf(l.bias!)).y;
      if (i < 2) h = R.unary(activation, h);
    }
    expectClose(await y.data(), h, { atol: 1e-5 }, `MLP ${activation}`, y.shape);
    const withFinal = new nn.MLP([6, 4], { activation, finalActivation: true, seed: 5 });
    const z = noGrad(() => withFinal.forward(x));
    const zr = R.unary(activation, refLinear(xr, await refOf(withFinal.layers[0].weight), await refOf(withFinal.layers[0].bias!)).y);
    expectClose(await z.data(), zr, { atol: 1e-5 }, 'MLP final activation', z.shape);
    for (const t of [x, y, z]) t.dispose();
    mlp.dispose();
    withFinal.dispose();
  });
});

describe('Module: parameter trees and state dicts', () => {
  class Block extends nn.Module {
    norm = new nn.LayerNorm(4);
    gamma = nn.parameter(ones([4]));
    mlp = new nn.MLP([4, 8, 4], { seed: 2 });
    notAParam = tensor([1, 2]);
    constructor() {
      super();
      this.registerParameter('registered', zeros([2]));
    }
  }

  it('names parameters with dotted paths, own parameters first, in a deterministic order', () => {
    const mlp = new nn.MLP([2, 3, 4], { seed: 1 });
    expect(mlp.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ['layers.0.weight', [3, 2]],
      ['layers.0.bias', [3]],
      ['layers.1.weight', [4, 3]],
      ['layers.1.bias', [4]],
    ]);
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.LayerNorm(3), new nn.Dropout(0.1), new nn.Linear(3, 1, { bias: false }));
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '3.weight']);
    const block = new Block();
    const names = block.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'registered',
      'gamma',
      'norm.weight',
      'norm.bias',
      'mlp.layers.0.weight',
      'mlp.layers.0.bias',
      'mlp.layers.1.weight',
      'mlp.layers.1.bias',
    ]);
    expect(new Block().namedParameters().map(([n]) => n)).toEqual(names);
    expect(block.parameters().every((p) => p.requiresGrad && p.dtype === 'f32')).toBe(true);
    expect(block.numParameters()).toBe(2 + 4 + 8 + (8 * 4 + 8) + (4 * 8 + 4));
    expect(block.namedModules().map(([n]) => n)).toEqual(['', 'norm', 'mlp', 'mlp.layers.0', 'mlp.layers.1']);
    // A shared parameter is listed once, under its first name.
    const shared = new nn.Sequential(mlp.layers[0], mlp.layers[0]);
    expect(shared.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias']);
    for (const m of [mlp, seq, block]) m.dispose();
    block.notAParam.dispose();
  });

  it('train() and eval() set the flag on the whole tree', () => {
    const seq = new nn.Sequential(new nn.Dropout(0.5), new nn.MLP([2, 2], { seed: 1 }));
    expect(seq.eval()).toBe(seq);
    expect(seq.namedModules().every(([, m]) => !m.training)).toBe(true);
    seq.train();
    expect(seq.namedModules().every(([, m]) => m.training)).toBe(true);
    seq.dispose();
  });

  it('stateDict → loadStateDict copies values into the existing parameters', async () => {
    const a = new nn.MLP([3, 5, 2], { seed: 1 });
    const b = new nn.MLP([3, 5, 2], { seed: 2 });
    const before = b.parameters();
    const versions = before.map((p) => p.version);
    const sd = a.stateDict();
    expect([...sd.keys()]).toEqual(a.namedParameters().map(([n]) => n));
    expect(b.loadStateDict(sd)).toEqual({ missing: [], unexpected: [] });
    const after = b.parameters();
    after.forEach((p, i) => {
      expect(p).toBe(before[i]);
      expect(p.version).toBe(versions[i] + 1);
    });
    for (const [name, p] of b.namedParameters()) await sameBits(p, sd.get(name)!);
    // The copy is independent of the source, and a Record works as well as a Map.
    nn.zeros(a.layers[0].weight);
    expect(Array.from(await b.layers[0].weight.data()).some((v) => v !== 0)).toBe(true);
    const c = new nn.MLP([3, 5, 2], { seed: 3 });
    c.loadStateDict(Object.fromEntries(b.stateDict()));
    const { t: x } = randomPair([4, 3], 1);
    const [yb, yc] = noGrad(() => [b.forward(x), c.forward(x)]);
    await sameBits(yb, yc);
    for (const t of [x, yb, yc]) t.dispose();
    for (const m of [a, b, c]) m.dispose();
  });

  it('loadStateDict throws one error listing every missing, unexpected and mis-shaped key, and loads nothing', async () => {
    const m = new nn.MLP([3, 4, 2], { seed: 1 });
    const w0 = await m.layers[0].weight.data();
    const extra = zeros([1]);
    const wrong0 = zeros([3, 4]);
    const wrong1 = zeros([2, 4, 1]);
    const dict = new Map<string, Tensor>([
      ['layers.0.weight', wrong0], // model [4, 3]
      ['layers.0.bias', zeros([4])],
      ['layers.1.weight', wrong1], // model [2, 4]
      ['head.bias', extra], // unexpected
      ['layers.2.weight', extra], // unexpected
    ]); // missing: layers.1.bias
    let msg = '';
    try {
      m.loadStateDict(dict);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('missing keys (1): layers.1.bias');
    expect(msg).toContain('unexpected keys (2): head.bias, layers.2.weight');
    expect(msg).toContain('layers.0.weight: shape [3,4] in the dict, [4,3] in the model');
    expect(msg).toContain('layers.1.weight: shape [2,4,1] in the dict, [2,4] in the model');
    expect(Array.from(await m.layers[0].weight.data())).toEqual(Array.from(w0));
    // strict = false ignores missing and unexpected keys but never a shape mismatch.
    expect(() => m.loadStateDict(dict, { strict: false })).toThrow(/mismatched \(2\)/);
    dict.set('layers.0.weight', zeros([4, 3]));
    dict.set('layers.1.weight', zeros([2, 4]));
    expect(m.loadStateDict(dict, { strict: false })).toEqual({ missing: ['layers.1.bias'], unexpected: ['head.bias', 'layers.2.weight'] });
    expect(Array.from(await m.layers[1].weight.data())).toEqual(new Array(8).fill(0));
    for (const t of dict.values()) t.dispose();
    for (const t of [wrong0, wrong1]) t.dispose();
    m.dispose();
  });
});

describe('Dropout and DropPath', () => {
  const p = 0.25;
  const scale = Math.fround(1 / (1 - p));

  it('Dropout: values in {0, 1/(1−p)}, mean preserved, seeded and different at each call', async () => {
    const n = 8192;
    const x = ones([n]);
    const d1 = new nn.Dropout(p, { seed: 5 });
    const d2 = new nn.Dropout(p, { seed: 5 });
    const [a1, a2, b1] = [d1.forward(x), d1.forward(x), d2.forward(x)];
    const v1 = await f32(a1),
      v2 = await f32(a2);
    expect(new Set(v1)).toEqual(new Set([0, scale]));
    const zeros1 = v1.filter((v) => v === 0).length / n;
    // Seeded, so deterministic; the bounds are ≈ 5 standard errors (√(p(1−p)/n) = 0.0048 for the
    // dropped fraction, √(p/((1−p)n)) = 0.0064 for the mean) around the expectations.
    expect(Math.abs(zeros1 - p)).toBeLessThan(0.024);
    expect(Math.abs(v1.reduce((s, v) => s + v, 0) / n - 1)).toBeLessThan(0.032);
    await sameBits(a1, b1); // same seed, same call → same mask
    expect(Array.from(v2)).not.toEqual(Array.from(v1)); // the next call draws a new mask
    let agree = 0;
    for (let i = 0; i < n; i++) agree += (v1[i] === 0) === (v2[i] === 0) ? 1 : 0;
    expect(agree / n).toBeLessThan(0.7); // independent masks agree on p² + (1−p)² = 62.5 %
    for (const t of [x, a1, a2, b1]) t.dispose();
  });

  it('Dropout: gradient is the scaled mask; identity in eval mode and for p = 0', async () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], [8], { requiresGrad: true });
    const d = new nn.Dropout(0.5, { seed: 1 });
    const y = d.forward(x);
    y.sum().backward();
    const yv = await y.data(),
      gv = await x.grad!.data();
    for (let i = 0; i < 8; i++) expect(gv[i]).toBe(yv[i] === 0 ? 0 : 2);
    d.eval();
    const e = d.forward(x);
    expect(e).not.toBe(x);
    expect(Array.from(await e.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const z = new nn.Dropout(0).forward(x);
    expect(Array.from(await z.data())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => new nn.Dropout(1)).toThrow(/p must be in \[0, 1\)/);
    for (const t of [x, y, e, z]) t.dispose();
  });

  it('DropPath: one decision per sample, mean preserved, seeded; identity in eval mode', async () => {
    const B = 2048;
    const x = ones([B, 3, 2]);
    const dp = new nn.DropPath(p, { seed: 9 });
    const y = dp.forward(x);
    const v = await y.data();
    let dropped = 0,
      sum = 0;
    for (let b = 0; b < B; b++) {
      const row = v.slice(b * 6, b * 6 + 6);
      expect(new Set(row).size).toBe(1); // the whole sample is kept or dropped
      expect([0, scale]).toContain(row[0]);
      dropped += row[0] === 0 ? 1 : 0;
      sum += row[0];
    }
    // ≈ 5 standard errors: √(p(1−p)/B) = 0.0096, √(p/((1−p)B)) = 0.0128.
    expect(Math.abs(dropped / B - p)).toBeLessThan(0.048);
    expect(Math.abs(sum / B - 1)).toBeLessThan(0.064);
    const again = new nn.DropPath(p, { seed: 9 }).forward(x);
    await sameBits(y, again);
    const next = dp.forward(x);
    expect(Array.from(await next.data())).not.toEqual(Array.from(v));
    dp.eval();
    const e = dp.forward(x);
    expect(Array.from(await e.data()).every((t) => t === 1)).toBe(true);
    for (const t of [x, y, again, next, e]) t.dispose();
  });
});

describe('initialisers', () => {
  const stats = (v: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < v.length; i++) m += v[i];
    m /= v.length;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
    return { mean: m, std: Math.sqrt(s / v.length), min: Math.min(...Array.from(v)), max: Math.max(...Array.from(v)) };
  };
  const phi = (z: number) => Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
  const Phi = (z: number) => 0.5 * (1 + R.refErf(z / Math.SQRT2));

  it('truncNormal: within [a, b], the truncated std, seeded, in place', async () => {
    const std = 0.02;
    const w = nn.parameter(zeros([64, 256]));
    const version = w.version;
    expect(nn.truncNormal(w, { std, seed: 1 })).toBe(w);
    expect(w.version).toBe(version + 1);
    const s = stats(await w.data());
    expect(s.min).toBeGreaterThanOrEqual(-2 * std);
    expect(s.max).toBeLessThanOrEqual(2 * std);
    expect(s.min).toBeLessThan(-0.99 * 2 * std); // the tails reach the bounds
    // Standard deviation of N(0, σ²) truncated to ±2σ: σ·√(1 − 2·2φ(2)/(2Φ(2) − 1)) = 0.8796σ. With
    // n = 16 384 the sample std's standard error is ≈ 0.5 %, the mean's 0.0069σ; bounds ≈ 5 of them.
    const want = std * Math.sqrt(1 - (2 * 2 * phi(2)) / (2 * Phi(2) - 1));
    expect(Math.abs(s.std / want - 1)).toBeLessThan(0.025);
    expect(Math.abs(s.mean)).toBeLessThan(0.035 * std);
    const again = nn.truncNormal(nn.parameter(zeros([64, 256])), { std, seed: 1 });
    await sameBits(w, again);
    w.dispose();
    again.dispose();
  });

  // The GPU maps the same 24-bit uniforms as the CPU twin; the differences are f32 rounding of
  // v = u·(hi − lo) + lo (≤ 2u ≈ 1.2e-7 absolute), amplified by √2·erfinv′(v) = 1.2533·e^{z²/2}, and
  // Giles' erfinv approximation plus WGSL's log (a few 1e-7 relative). Bound: σ·(1.2533·e^{z²/2}·2.4e-7
  // + 2e-6·|z|) + a few ulp of the result, twice the first term for margin.
  it.each<[{ mean: number; std: number; a?: number; b?: number; seed: number }]>([
    [{ mean: 0, std: 1, seed: 3 }],
    [{ mean: 0.5, std: 0.02, a: 0.49, b: 0.55, seed: 4 }],
    [{ mean: 0, std: 1, a: -1, b: Infinity, seed: 5 }],
  ])('truncatedNormal matches its CPU twin (%j)', async (opts) => {
    const n = 4099;
    const t = truncatedNormal([n], opts);
    const got = await t.data();
    const want = R.refTruncatedNormal(n, opts);
    const bound = Array.from(want, (x) => {
      const z = (x - opts.mean) / opts.std;
      return opts.std * (1.2533 * Math.exp((z * z) / 2) * 2.4e-7 + 2e-6 * Math.abs(z)) + 4 * EPS * Math.abs(x);
    });
    expectClose(got, want, { bound }, 'truncatedNormal');
    const lo = opts.a ?? opts.mean - 2 * opts.std,
      hi = opts.b ?? opts.mean + 2 * opts.std;
    expect(got.every((x) => x >= Math.fround(lo) && x <= hi && Number.isFinite(x))).toBe(true);
    t.dispose();
  });

  it('kaimingUniform is PyTorch’s Linear init: weight and bias in U(±1/√fan_in)', async () => {
    const lin = new nn.Linear(50, 40, { seed: 3 });
    const bound = 1 / Math.sqrt(50);
    const w = stats(await lin.weight.data()),
      b = stats(await lin.bias!.data());
    for (const s of [w, b]) {
      expect(s.min).toBeGreaterThanOrEqual(-bound);
      expect(s.max).toBeLessThan(bound);
    }
    // 2000 uniforms: the extremes are within bound·(1 − 5/2000) w.p. ≈ 1 − 2e-6; std = bound/√3 ± ≈ 5 s.e. (1 %).
    expect(w.max).toBeGreaterThan(0.99 * bound);
    expect(w.min).toBeLessThan(-0.99 * bound);
    expect(Math.abs(w.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
    lin.dispose();
  });

  it('xavier, kaiming normal, normal, uniform, zeros and ones', async () => {
    const t = nn.parameter(zeros([96, 160]));
    // Uniform on ±B: std B/√3; normal: std σ. 15 360 samples: std within ≈ 5 standard errors (≤ 3 %).
    nn.xavierUniform(t, { seed: 1 });
    let s = stats(await t.data());
    const xb = Math.sqrt(6 / (96 + 160));
    expect(s.max).toBeLessThan(xb);
    expect(s.min).toBeGreaterThanOrEqual(-xb);
    expect(Math.abs(s.std / (xb / Math.sqrt(3)) - 1)).toBeLessThan(0.03);
    nn.xavierNormal(t, { gain: 2, seed: 2 });
    s = stats(await t.data());
    expect(Math.abs(s.std / (2 * Math.sqrt(2 / 256)) - 1)).toBeLessThan(0.03);
    nn.kaimingNormal(t, { nonlinearity: 'relu', seed: 3 });
    s = stats(await t.data());
    expect(Math.abs(s.std / (Math.SQRT2 / Math.sqrt(160)) - 1)).toBeLessThan(0.03);
    nn.normal(t, { mean: 1, std: 0.5, seed: 4 });
    s = stats(await t.data());
    expect(Math.abs(s.std / 0.5 - 1)).toBeLessThan(0.03);
    expect(Math.abs(s.mean - 1)).toBeLessThan((5 * 0.5) / Math.sqrt(96 * 160));
    nn.uniform(t, { low: 2, high: 3, seed: 5 });
    s = stats(await t.data());
    expect(s.min).toBeGreaterThanOrEqual(2);
    expect(s.max).toBeLessThan(3);
    nn.ones(t);
    expect((await t.data()).every((v) => v === 1)).toBe(true);
    nn.zeros(t);
    expect((await t.data()).every((v) => v === 0)).toBe(true);
    const bias = zeros([3]);
    expect(() => nn.xavierUniform(bias)).toThrow(/rank ≥ 2/);
    for (const x of [t, bias]) x.dispose();
  });
});
