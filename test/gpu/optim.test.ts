/** optim: AdamW and SGD against f64 references of PyTorch's formulas, gradient clipping, schedules, state dicts. */
import { describe, it, expect } from 'vitest';
import { tensor, zeros, nn, optim, type Tensor } from '../../engine/index.ts';
import { adamwStepRef, sgdStepRef, gradNormRef, clipCoefRef } from '../../engine/reference/optim.ts';
import { useEngine, rng, expectClose, EPS } from './util.ts';

useEngine();

/** A parameter with f32 values from a seeded generator, magnitudes in [0.25, 1] with random sign. */
function param(shape: number[], seed: number): { p: Tensor; ref: Float64Array } {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * (0.25 + 0.75 * next()));
  return { p: nn.parameter(tensor(v, shape)), ref: Float64Array.from(v) };
}

/** Gradients for step `k` of parameter `i`: f32 values in [−1, 1]. */
function gradValues(n: number, i: number, k: number): Float32Array {
  const next = rng(1000 * i + k);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}

function setGrad(p: Tensor, v: Float32Array): void {
  p.grad?.dispose();
  p.grad = tensor(v, [...p.shape]);
}

describe('AdamW', () => {
  // Per step the parameter is rounded twice (decay, update) — ≤ 2·2⁻²⁴|p| — and the update itself,
  // lr·m̂/(√v̂ + eps) ≤ lr·(1 + few·u), errs by ≈ 10u relative (sqrt, division, products): with
  // |p| ≥ 0.2 after 5 steps of lr ≤ 1e-2, 5 steps give ≤ 10·6e-8 + 5·lr·6e-7/0.2 < 1e-6 relative.
  // m and v carry ≤ 2u relative rounding per step plus the f32 β's: 16u of the largest |g| (or g²).
  it('matches PyTorch’s formula in f64 for 5 steps, with per-group lr and weight decay', async () => {
    const shapes = [[3, 5], [7], [4, 2]];
    const ps = shapes.map((s, i) => param(s, i + 1));
    const hyper = [
      { lr: 1e-2, wd: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8 },
      { lr: 1e-2, wd: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8 },
      { lr: 3e-3, wd: 0, b1: 0.8, b2: 0.99, eps: 1e-6 },
    ];
    const skipped = param([5], 9); // in the optimizer, never given a gradient
    const opt = new optim.AdamW(
      [
        { params: [ps[0].p, ps[1].p, skipped.p], weightDecay: 0.1 },
        { params: [ps[2].p], lr: 3e-3, weightDecay: 0, betas: [0.8, 0.99], eps: 1e-6 },
      ],
      { lr: 1e-2 },
    );
    const refs = ps.map((x) => ({
      p: Float64Array.from(x.ref),
      m: new Float64Array(x.ref.length),
      v: new Float64Array(x.ref.length),
      t: 0,
    }));
    const versions = ps.map((x) => x.p.version);
    for (let k = 0; k < 5; k++) {
      ps.forEach((x, i) => {
        const g = gradValues(x.p.size, i, k);
        setGrad(x.p, g);
        refs[i].t++;
        adamwStepRef(refs[i].p, g, refs[i].m, refs[i].v, refs[i].t, hyper[i]);
      });
      opt.step();
    }
    const sd = opt.stateDict();
    for (let i = 0; i < ps.length; i++) {
      expect(ps[i].p.version).toBe(versions[i] + 5);
      expectClose(await ps[i].p.data(), refs[i].p, { rtol: 1e-6 }, `param ${i}`);
      const gmax = 1;
      expectClose(await sd.state[i >= 2 ? 3 : i].buffers.m.data(), refs[i].m, { rtol: 1e-6, atol: 16 * EPS * gmax }, `m ${i}`);
      expectClose(await sd.state[i >= 2 ? 3 : i].buffers.v.data(), refs[i].v, { rtol: 1e-6, atol: 16 * EPS * gmax * gmax }, `v ${i}`);
      expect(sd.state[i >= 2 ? 3 : i].step).toBe(5);
    }
    expect(sd.state[2]).toBeUndefined();
    expect(Array.from(await skipped.p.data())).toEqual(Array.from(skipped.ref, Math.fround));
    expect(sd.paramGroups.map((g) => [g.lr, g.weightDecay, g.params])).toEqual([
      [1e-2, 0.1, [0, 1, 2]],
      [3e-3, 0, [3]],
    ]);
    opt.zeroGrad();
    expect(ps.every((x) => x.p.grad === null)).toBe(true);
    opt.dispose();
    for (const x of [...ps, skipped]) x.p.dispose();
  });

  it('stateDict → loadStateDict continues bit-identically', async () => {
    const a = param([6, 3], 21).p,
      b = param([6, 3], 21).p;
    const optA = new optim.AdamW([a], { lr: 5e-2, weightDecay: 0.05 });
    for (let k = 0; k < 3; k++) {
      setGrad(a, gradValues(18, 0, k));
      optA.step();
    }
    // b: a's values and a fresh optimizer given a's state (the hyper-parameters come with it).
    nn.copyInto(b, a);
    const optB = new optim.AdamW([b], { lr: 1 });
    optB.loadStateDict(optA.stateDict());
    expect(optB.paramGroups[0].lr).toBe(5e-2);
    for (let k = 3; k < 6; k++) {
      setGrad(a, gradValues(18, 0, k));
      optA.step();
      setGrad(b, gradValues(18, 0, k));
      optB.step();
    }
    expect(Array.from(new Uint32Array((await b.data()).buffer))).toEqual(Array.from(new Uint32Array((await a.data()).buffer)));
    expect(optB.stateDict().state[0].step).toBe(6);
    const wrong = new optim.AdamW([zeros([2], { requiresGrad: true })]);
    expect(() => wrong.loadStateDict(optA.stateDict())).toThrow(/state 0\.m: shape \[6,3\], parameter \[2\]/);
    for (const o of [optA, optB, wrong]) o.dispose();
    for (const p of [a, b, ...wrong.params()]) p.dispose();
  });

  it('rejects bad hyper-parameters and a parameter in two groups', () => {
    const p = zeros([2], { requiresGrad: true });
    expect(() => new optim.AdamW([p], { betas: [1, 0.9] })).toThrow(/betas/);
    expect(() => new optim.AdamW([{ params: [p] }, { params: [p] }])).toThrow(/appears twice/);
    expect(() => new optim.AdamW([p], { lr: -1 })).toThrow(/lr -1/);
    p.dispose();
  });
});

describe('SGD', () => {
  // Per step p is rounded by the update (≤ u|p|) and d, the buffer and lr·d carry a few u of the
  // largest gradient term: 5 steps stay below 1e-6 relative for |p| ≥ 0.2 and lr ≤ 0.1.
  it.each([
    { momentum: 0.9, dampening: 0, wd: 0.01, nesterov: false },
    { momentum: 0.9, dampening: 0, wd: 0, nesterov: true },
    { momentum: 0.5, dampening: 0.1, wd: 0.1, nesterov: false },
    { momentum: 0, dampening: 0, wd: 0.02, nesterov: false },
  ])('matches PyTorch’s formula in f64 for 5 steps (%j)', async (h) => {
    const x = param([5, 3], 31);
    const opt = new optim.SGD([x.p], { lr: 0.05, momentum: h.momentum, dampening: h.dampening, weightDecay: h.wd, nesterov: h.nesterov });
    const ref = { p: Float64Array.from(x.ref), buf: null as Float64Array | null };
    for (let k = 0; k < 5; k++) {
      const g = gradValues(15, 0, k);
      setGrad(x.p, g);
      ref.buf = sgdStepRef(ref.p, g, ref.buf, { lr: 0.05, ...h });
      opt.step();
    }
    expectClose(await x.p.data(), ref.p, { rtol: 1e-6 }, 'SGD param');
    if (h.momentum)
      expectClose(await opt.stateDict().state[0].buffers.momentum.data(), ref.buf!, { rtol: 1e-6, atol: 8 * EPS }, 'SGD momentum');
    else expect(opt.stateDict().state[0].buffers).toEqual({});
    opt.zeroGrad();
    opt.dispose();
    x.p.dispose();
  });

  it('rejects Nesterov without momentum', () => {
    const p = zeros([2], { requiresGrad: true });
    expect(() => new optim.SGD([p], { nesterov: true })).toThrow(/nesterov/);
    p.dispose();
  });
});

describe('clipGradNorm', () => {
  // The GPU sum of squares errs by ≤ ≈ 50u relative (cascaded sums, see clip.wgsl.ts), the norm by
  // half that; the coefficient maxNorm/(norm + 1e-6) adds a division (2.5 ulp) and each scaled
  // gradient one product: 4e-6 relative leaves a margin of > 4 over ≈ 50u + 4u.
  const sizes = [[40, 500], [17], [3, 3]]; // 20 000 elements: two chunks of the first pass
  const make = () =>
    sizes.map((s, i) => {
      const p = zeros(s, { requiresGrad: true });
      const g = gradValues(p.size, i, 7);
      setGrad(p, g);
      return { p, g };
    });

  it('computes the global norm and scales every gradient by maxNorm / (norm + 1e-6)', async () => {
    const ps = make();
    const noGrad = zeros([4], { requiresGrad: true }); // skipped: no gradient
    const want = gradNormRef(ps.map((x) => x.g));
    const maxNorm = 1.5;
    const norm = optim.clipGradNorm([...ps.map((x) => x.p), noGrad], maxNorm);
    expect(norm.shape).toEqual([]);
    expectClose(await norm.data(), [want], { rtol: 4e-6 }, 'norm');
    const coef = clipCoefRef(want, maxNorm);
    for (const x of ps)
      expectClose(
        await x.p.grad!.data(),
        Float64Array.from(x.g, (v) => v * coef),
        { rtol: 4e-6 },
        'clipped grad',
      );
    expect(noGrad.grad).toBeNull();
    for (const x of ps) x.p.dispose();
    for (const t of [norm, noGrad]) t.dispose();
  });

  it('sums many gradients (several launches of SUMSQ_GRADS, multi-chunk ones among them)', async () => {
    const shapes = [[1], [40_000], [3], [5, 7], [17_000], [2], [1], [33_000], [4, 4], [9], [1], [2, 3, 5], [20_000], [6]];
    const ps = shapes.map((sh, i) => {
      const p = zeros(sh, { requiresGrad: true });
      setGrad(p, gradValues(p.size, i, 3));
      return p;
    });
    const want = gradNormRef(ps.map((p, i) => gradValues(p.size, i, 3)));
    const norm = optim.gradNorm(ps);
    expectClose(await norm.data(), [want], { rtol: 4e-6 }, 'norm of 14 gradients');
    for (const t of [...ps, norm]) t.dispose();
  });

  it('leaves gradients bit-identical when the norm is below maxNorm', async () => {
    const ps = make();
    const norm = optim.clipGradNorm(
      ps.map((x) => x.p),
      1e6,
    );
    expectClose(await norm.data(), [gradNormRef(ps.map((x) => x.g))], { rtol: 4e-6 }, 'norm');
    for (const x of ps) expect(Array.from(await x.p.grad!.data())).toEqual(Array.from(x.g));
    for (const x of ps) x.p.dispose();
    norm.dispose();
  });

  it('counts a gradient shared by two parameters twice but scales it once; no gradients → 0', async () => {
    const a = zeros([3], { requiresGrad: true }),
      b = zeros([3], { requiresGrad: true });
    const g = tensor([3, 4, 12]); // |g| = 13, counted twice: 13·√2
    a.grad = g;
    b.grad = g;
    const norm = optim.clipGradNorm([a, b], 1);
    expectClose(await norm.data(), [13 * Math.SQRT2], { rtol: 4e-6 }, 'shared norm');
    const c = 1 / (13 * Math.SQRT2 + 1e-6);
    expectClose(await g.data(), [3 * c, 4 * c, 12 * c], { rtol: 4e-6 }, 'shared grad scaled once');
    const none = optim.clipGradNorm([zeros([2], { requiresGrad: true })], 1);
    expect(await none.item()).toBe(0);
    for (const t of [a, b, g, norm, none]) t.dispose();
  });
});

describe('AdamW.step({ clip }) with gradNorm', () => {
  it('gives the parameters of clipGradNorm then step(), bit for bit, and leaves .grad unclipped', async () => {
    for (const maxNorm of [0.5, 1e6]) {
      // clipping, and a norm below maxNorm
      const run = async (fused: boolean) => {
        const ps = [param([40, 500], 1), param([17], 2), param([3, 3], 3)].map((x) => x.p);
        const opt = new optim.AdamW(ps, { lr: 1e-2, weightDecay: 0.05 });
        const grads: number[][] = [];
        for (let k = 0; k < 3; k++) {
          ps.forEach((p, i) => setGrad(p, gradValues(p.size, i, k)));
          if (fused) {
            const norm = optim.gradNorm(ps);
            opt.step({ clip: { norm, maxNorm } });
            norm.dispose();
            grads.push(Array.from(await ps[1].grad!.data()));
          } else {
            optim.clipGradNorm(ps, maxNorm).dispose();
            opt.step();
          }
        }
        const out = await Promise.all(ps.map(async (p) => Array.from(await p.data())));
        for (const p of ps) p.dispose();
        return { out, grads };
      };
      const fused = await run(true),
        plain = await run(false);
      expect(fused.out).toEqual(plain.out);
      expect(fused.grads[2]).toEqual(Array.from(gradValues(17, 1, 2))); // .grad untouched
    }
  });

  it('gradNorm equals the norm clipGradNorm reports; bad clip arguments are errors', async () => {
    const ps = [param([5, 7], 4), param([3], 5)].map((x) => x.p);
    ps.forEach((p, i) => setGrad(p, gradValues(p.size, i, 1)));
    const n1 = optim.gradNorm(ps);
    const v1 = await n1.item();
    const n2 = optim.clipGradNorm(ps, 1e9);
    expect(v1).toBe(await n2.item());
    const opt = new optim.AdamW(ps);
    expect(() => opt.step({ clip: { norm: n1, maxNorm: -1 } })).toThrow(/AdamW.step: maxNorm must be a finite number ≥ 0, got -1/);
    const two = zeros([2]);
    expect(() => opt.step({ clip: { norm: two, maxNorm: 1 } })).toThrow(
      /AdamW.step: clip.norm must be a one-element f32 tensor \(from gradNorm\), got f32\[2\]/,
    );
    for (const t of [...ps, n1, n2, two]) t.dispose();
  });
});

describe('learning-rate schedules', () => {
  it('gives the known values', () => {
    const close = (got: number, want: number) => expect(got).toBeCloseTo(want, 12);
    close(optim.linearWarmup(0, { warmup: 10, base: 1e-3 }), 0);
    close(optim.linearWarmup(5, { warmup: 10, base: 1e-3 }), 5e-4);
    close(optim.linearWarmup(10, { warmup: 10, base: 1e-3 }), 1e-3);
    close(optim.linearWarmup(99, { warmup: 10, base: 1e-3 }), 1e-3);
    close(optim.cosine(0, { total: 100, base: 1 }), 1);
    close(optim.cosine(50, { total: 100, base: 1 }), 0.5);
    close(optim.cosine(25, { total: 100, base: 1, min: 0.2 }), 0.2 + (0.8 * (1 + Math.SQRT1_2)) / 2);
    close(optim.cosine(100, { total: 100, base: 1, min: 0.1 }), 0.1);
    close(optim.cosine(150, { total: 100, base: 1, min: 0.1 }), 0.1);
    close(optim.stepDecay(0, { base: 1, stepSize: 30 }), 1);
    close(optim.stepDecay(29, { base: 1, stepSize: 30 }), 1);
    close(optim.stepDecay(30, { base: 1, stepSize: 30 }), 0.1);
    close(optim.stepDecay(65, { base: 1, stepSize: 30, gamma: 0.5 }), 0.25);
    const wc = (s: number) => optim.warmupCosine(s, { warmup: 10, total: 110, base: 2, min: 0.5 });
    close(wc(0), 0);
    close(wc(5), 1);
    close(wc(10), 2);
    close(wc(60), 1.25);
    close(wc(110), 0.5);
    close(wc(1000), 0.5);
  });
});
