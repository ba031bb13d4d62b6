/**
 * Box ops and cross-entropy against the f64 CPU reference (engine/reference/box.ts,
 * cross-entropy.ts), hand-computed values, a second oracle built from GPU primitives, central finite
 * differences of the reference (ties and degenerate boxes included), validation mode and errors.
 * (test/gpu/gradcheck.test.ts also checks every op's gradient on random valid boxes.)
 *
 * Tolerances (u = 2⁻²⁴):
 *   - conversion: each output is one rounding of an exact f64 value (0.5·w is exact): rtol u.
 *   - IoU/GIoU values: areas and the intersection are products of differences (≤ 3 roundings each);
 *     the union A + B − I has no cancellation (U ≥ max(A, B) ≥ I), so IoU is good to ~10u relative;
 *     (C − U)/C may cancel but its absolute error is ≤ ~8u·(C + U)/C ≤ 16u: atol 4e-6 covers both.
 *   - gradients vs finite differences of the reference (h = 1e-6, error ~1e-9 — see gradcheck.test.ts):
 *     each GPU entry is ~30 roundings over terms bounded by s = max |grad|, plus a serial sum over
 *     ≤ 7 pairs: |err| ≤ 1e-5·s + 1e-4·|fd| is a wide bound (a wrong rule is off by O(s)).
 */
import { describe, it, expect } from 'vitest';
import {
  tensor,
  engine,
  scope,
  grad,
  minimum,
  maximum,
  gather,
  logSoftmax,
  IndexError,
  ShapeError,
  DTypeError,
  boxCxcywhToXyxy,
  boxXyxyToCxcywh,
  boxIou,
  generalizedBoxIou,
  elementwiseGiou,
  elementwiseIou,
  crossEntropy,
  setValidation,
  validationEnabled,
  type Tensor,
} from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import type { RefTensor } from '../../engine/reference/index.ts';
import { useEngine, rng, expectClose, expectTensor, EPS } from './util.ts';

useEngine();

/** n valid xyxy boxes, f32-exact: corners in [0, 1), sides in [lo, hi). */
function randomBoxes(n: number, seed: number, lo = 0.05, hi = 0.6): RefTensor {
  const next = rng(seed);
  const d = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const [x, y, w, h] = [next(), next(), lo + (hi - lo) * next(), lo + (hi - lo) * next()];
    d.set([x, y, x + w, y + h].map(Math.fround), 4 * i);
  }
  return { shape: [n, 4], data: d };
}
const gpu = (r: RefTensor, requiresGrad = false): Tensor => tensor(Float32Array.from(r.data), r.shape, { requiresGrad });

/** Central differences of f at x (f64), step h. */
function fdGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  return Float64Array.from(x, (xi, i) => {
    const p = x.slice(),
      m = x.slice();
    p[i] = xi + h;
    m[i] = xi - h;
    return (f(p) - f(m)) / (p[i] - m[i]);
  });
}
const dot = (w: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
};
/** |g − fd| ≤ 1e-5·max(1, max|fd|) + 1e-4·|fd| (header). */
function expectGradClose(g: ArrayLike<number>, fd: Float64Array, label: string): void {
  const s = Math.max(1, ...Array.from(fd, Math.abs));
  expectClose(g, fd, { atol: 1e-5 * s, rtol: 1e-4 }, label);
}

describe('box conversion', () => {
  it.each([[[1, 4]], [[7, 4]], [[2, 3, 4]], [[0, 4]], [[4]]])('cxcywh ↔ xyxy %j', async (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const next = rng(n + 1);
    const r: RefTensor = { shape, data: Float64Array.from({ length: n }, () => Math.fround(2 * next() - 0.5)) };
    const t = gpu(r);
    const x = boxCxcywhToXyxy(t);
    expect(x.shape).toEqual(shape);
    await expectTensor(x, R.boxConvert(r, 'xyxy'), { rtol: EPS }, 'cxcywh→xyxy');
    await expectTensor(boxXyxyToCxcywh(t), R.boxConvert(r, 'cxcywh'), { rtol: EPS }, 'xyxy→cxcywh');
    // The round trip returns the input up to two roundings.
    await expectTensor(boxXyxyToCxcywh(x), r, { atol: 4 * EPS * 2, rtol: 4 * EPS }, 'round trip');
  });

  it('a hand example and its gradient (the transposed linear map)', async () => {
    const b = tensor([[0.5, 0.5, 0.2, 0.4]], undefined, { requiresGrad: true });
    expect(Array.from(await boxCxcywhToXyxy(b).data())).toEqual([0.4, 0.3, 0.6, 0.7].map(Math.fround));
    // d/d(cx, cy, w, h) of Σ g ⊙ (cx − w/2, cy − h/2, cx + w/2, cy + h/2) with g = (1, 2, 3, 4):
    // (1 + 3, 2 + 4, (3 − 1)/2, (4 − 2)/2) = (4, 6, 1, 1)
    const [d] = grad((x: Tensor) =>
      boxCxcywhToXyxy(x)
        .mul(tensor([1, 2, 3, 4]))
        .sum(),
    )(b);
    expect(Array.from(await d.data())).toEqual([4, 6, 1, 1]);
    // xyxy → cxcywh with g = (1, 2, 3, 4): (1/2 − 3, 2/2 − 4, 1/2 + 3, 2/2 + 4)
    const [e] = grad((x: Tensor) =>
      boxXyxyToCxcywh(x)
        .mul(tensor([1, 2, 3, 4]))
        .sum(),
    )(b);
    expect(Array.from(await e.data())).toEqual([-2.5, -3, 3.5, 5]);
  });

  it('rejects a last axis other than 4 and non-float boxes', () => {
    expect(() => boxCxcywhToXyxy(tensor([[1, 2, 3]]))).toThrow(ShapeError);
    expect(() => boxCxcywhToXyxy(tensor([[1, 2, 3]]))).toThrow(/boxCxcywhToXyxy: boxes must have shape \[\.\.\.,4\], got \[1,3\]/);
    expect(() => boxXyxyToCxcywh(tensor(new Int32Array(4), [1, 4]))).toThrow(DTypeError);
  });
});

describe('IoU and generalised IoU', () => {
  it('hand-computed pairs', async () => {
    const a = tensor([
      [0, 0, 2, 2],
      [0, 0, 1, 1],
      [0, 0, 4, 4],
    ]);
    const b = tensor([
      [1, 1, 3, 3],
      [2, 2, 3, 3],
      [1, 1, 2, 2],
    ]);
    // [0,0,2,2]·[1,1,3,3]: I = 1, U = 4 + 4 − 1 = 7, C = 3·3 = 9 → IoU 1/7, GIoU 1/7 − 2/9.
    // [0,0,1,1]·[2,2,3,3]: disjoint, U = 2, C = 9 → IoU 0, GIoU −7/9.
    // [0,0,4,4]·[1,1,2,2]: contained, I = 1, U = 16 = C → IoU = GIoU = 1/16.
    const iou = [1 / 7, 0, 1 / 16],
      giou = [1 / 7 - 2 / 9, -7 / 9, 1 / 16];
    expectClose(await elementwiseIou(a, b).data(), iou, { atol: 4e-7 }, 'elementwise IoU');
    expectClose(await elementwiseGiou(a, b).data(), giou, { atol: 4e-7 }, 'elementwise GIoU');
    const full = await generalizedBoxIou(a, b).data();
    expectClose([full[0], full[4], full[8]], giou, { atol: 4e-7 }, 'pairwise GIoU diagonal');
    expectClose(
      await boxIou(a, a).data(),
      R.boxPair('iou', R.ref(await a.data(), [3, 4]), R.ref(await a.data(), [3, 4]), true),
      { atol: 4e-7 },
      'IoU with itself',
    );
  });

  it.each([
    [7, 5],
    [1, 1],
    [3, 0],
    [0, 3],
    [17, 9],
  ])('pairwise [%i,4] × [%i,4] against the reference', async (n, m) => {
    const A = randomBoxes(n, 10 + n),
      B = randomBoxes(m, 20 + m);
    const [a, b] = [gpu(A), gpu(B)];
    const iou = boxIou(a, b),
      giou = generalizedBoxIou(a, b);
    expect(giou.shape).toEqual([n, m]);
    await expectTensor(iou, R.boxPair('iou', A, B, true), { atol: 4e-6 }, 'boxIou');
    await expectTensor(giou, R.boxPair('giou', A, B, true), { atol: 4e-6 }, 'generalizedBoxIou');
  });

  it('elementwise GIoU equals the diagonal of the pairwise matrix', async () => {
    const A = randomBoxes(6, 3),
      B = randomBoxes(6, 4);
    const full = await generalizedBoxIou(gpu(A), gpu(B)).data();
    const diag = Array.from({ length: 6 }, (_, i) => full[i * 6 + i]);
    expect(Array.from(await elementwiseGiou(gpu(A), gpu(B)).data())).toEqual(diag);
  });

  it('degenerate boxes give finite documented values, never NaN, and finite gradients', async () => {
    const a = [
      [0.2, 0.2, 0.2, 0.2],
      [0, 0, 0, 1],
      [0, 0, 0, 1],
      [0.5, 0.5, 0.5, 0.5],
      [0, 0, 1, 0],
      [0, 0, 1, 1],
    ];
    const b = [
      [0.2, 0.2, 0.2, 0.2],
      [0, 0, 0, 1],
      [1, 0, 1, 1],
      [0.7, 0.5, 0.7, 0.5],
      [0, 0, 1, 0],
      [0, 0, 0, 0],
    ];
    // 0: identical points: union 0 and enclosing area 0 → IoU 0, GIoU 0 (DETR: NaN).
    // 1: identical zero-width segments: the same, 0 and 0.
    // 2: two parallel zero-width segments 1 apart: union 0 → IoU 0; C = 1·1 → GIoU = 0 − (1 − 0)/1 = −1.
    // 3: two points on a horizontal line: C has zero height → both 0.
    // 4: identical zero-height segments: 0 and 0.
    // 5: the unit square and a point at its corner: U = 1, I = 0, C = 1 → IoU 0, GIoU 0.
    const ta = tensor(a, undefined, { requiresGrad: true }),
      tb = tensor(b, undefined, { requiresGrad: true });
    const y = elementwiseGiou(ta, tb);
    expect(Array.from(await y.data())).toEqual([0, 0, -1, 0, 0, 0]);
    expect(Array.from(await elementwiseIou(ta, tb).data())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(await R.boxPair('giou', R.ref(a.flat(), [6, 4]), R.ref(b.flat(), [6, 4]), false).data)).toEqual([0, 0, -1, 0, 0, 0]);
    y.sum().backward();
    const [ga, gb] = [await ta.grad!.data(), await tb.grad!.data()];
    expect([...ga, ...gb].every(Number.isFinite)).toBe(true);
    // Both areas below 2⁻¹²⁶: the value is the constant 0 there, so the gradient is exactly 0.
    expect(Array.from(ga.subarray(0, 8)).every((v) => v === 0)).toBe(true);
    const pw = await generalizedBoxIou(tensor(a), tensor(b)).data();
    expect(pw.every(Number.isFinite)).toBe(true);
    expectClose(pw, R.boxPair('giou', R.ref(a.flat(), [6, 4]), R.ref(b.flat(), [6, 4]), true), { atol: 4e-6 }, 'pairwise degenerate');
  });

  it('gradients match central differences of the reference: pairwise IoU/GIoU and elementwise GIoU', async () => {
    const A = randomBoxes(7, 31, 0.1, 0.7),
      B = randomBoxes(5, 32, 0.1, 0.7);
    const W = Float64Array.from({ length: 35 }, rng(33)).map((v) => Math.fround(2 * v - 1));
    for (const kind of ['iou', 'giou'] as const) {
      const [a, b] = [gpu(A, true), gpu(B, true)];
      const op = kind === 'iou' ? boxIou : generalizedBoxIou;
      scope(() =>
        op(a, b)
          .mul(tensor(Float32Array.from(W), [7, 5]))
          .sum()
          .backward(),
      );
      const fa = fdGrad((x) => dot(W, R.boxPair(kind, { shape: [7, 4], data: x }, B, true).data), A.data);
      const fb = fdGrad((x) => dot(W, R.boxPair(kind, A, { shape: [5, 4], data: x }, true).data), B.data);
      expectGradClose(await a.grad!.data(), fa, `${kind} d/dboxes1`);
      expectGradClose(await b.grad!.data(), fb, `${kind} d/dboxes2`);
      a.dispose();
      b.dispose();
    }
  });

  it('at ties (identical or aligned boxes) the gradient splits in half, which is what central differences see', async () => {
    // 0: identical boxes; 1: same left and top edges; 2: b inside a, sharing the right edge.
    // (An overlap width of exactly 0 — boxes edge to edge — follows PyTorch's clamp(min=0), which
    // passes the whole gradient there: that one matches a one-sided difference, not a central one.)
    const A: RefTensor = {
      shape: [3, 4],
      data: Float64Array.from([0.1, 0.2, 0.5, 0.6, 0.1, 0.2, 0.5, 0.6, 0.1, 0.1, 0.9, 0.5].map(Math.fround)),
    };
    const B: RefTensor = {
      shape: [3, 4],
      data: Float64Array.from([0.1, 0.2, 0.5, 0.6, 0.1, 0.2, 0.75, 0.3, 0.5, 0.2, 0.9, 0.3].map(Math.fround)),
    };
    const W = [0.5, -1, 0.75];
    const [a, b] = [gpu(A, true), gpu(B, true)];
    scope(() => elementwiseGiou(a, b).mul(tensor(W)).sum().backward());
    const h = 1e-7; // below every gap between distinct coordinates here, so each side stays on one branch
    expectGradClose(
      await a.grad!.data(),
      fdGrad((x) => dot(W, R.boxPair('giou', { shape: [3, 4], data: x }, B, false).data), A.data, h),
      'ties d/da',
    );
    expectGradClose(
      await b.grad!.data(),
      fdGrad((x) => dot(W, R.boxPair('giou', A, { shape: [3, 4], data: x }, false).data), B.data, h),
      'ties d/db',
    );
    a.dispose();
    b.dispose();
  });

  it('a second oracle from GPU primitives (slice, minimum, maximum, …) agrees on values and gradients', async () => {
    const A = randomBoxes(9, 41),
      B = randomBoxes(9, 42);
    const col = (t: Tensor, i: number) => t.slice([0, i], [t.shape[0], i + 1]).reshape([t.shape[0]]);
    const composed = (a: Tensor, b: Tensor) => {
      const [ax0, ay0, ax1, ay1] = [0, 1, 2, 3].map((i) => col(a, i));
      const [bx0, by0, bx1, by1] = [0, 1, 2, 3].map((i) => col(b, i));
      const areaA = ax1.sub(ax0).mul(ay1.sub(ay0)),
        areaB = bx1.sub(bx0).mul(by1.sub(by0));
      const inter = minimum(ax1, bx1)
        .sub(maximum(ax0, bx0))
        .maximum(0)
        .mul(minimum(ay1, by1).sub(maximum(ay0, by0)).maximum(0));
      const union = areaA.add(areaB).sub(inter);
      const area = maximum(ax1, bx1)
        .sub(minimum(ax0, bx0))
        .mul(maximum(ay1, by1).sub(minimum(ay0, by0)));
      return inter.div(union).sub(area.sub(union).div(area));
    };
    const W = tensor(Float32Array.from({ length: 9 }, rng(43)));
    const [fa, fb] = [gpu(A), gpu(B)];
    const fused = grad((a: Tensor, b: Tensor) => elementwiseGiou(a, b).mul(W).sum())(fa, fb);
    const prim = grad((a: Tensor, b: Tensor) => composed(a, b).mul(W).sum())(fa, fb);
    expectClose(await elementwiseGiou(fa, fb).data(), await scope(() => composed(fa, fb)).data(), { atol: 4e-6 }, 'value');
    for (let k = 0; k < 2; k++) {
      const p = await prim[k].data();
      expectClose(await fused[k].data(), p, { atol: 1e-5 * Math.max(1, ...Array.from(p, Math.abs)), rtol: 1e-4 }, `grad ${k}`);
    }
  });

  it('validation mode: an invalid xyxy box throws at the next readback, naming the op and the box', async () => {
    const good = tensor([
      [0, 0, 1, 1],
      [0.2, 0.2, 0.4, 0.5],
    ]);
    const bad = tensor([
      [0, 0, 1, 1],
      [0.5, 0, 0.4, 1],
      [0, 0, 1, 1],
    ]); // box 1: x1 < x0
    const nan = tensor([[0, 0, 1, NaN]]);
    const was = validationEnabled();
    try {
      setValidation(false);
      expect((await generalizedBoxIou(good, bad).data()).length).toBe(6); // no check: a number comes out
      setValidation(true);
      await expect(generalizedBoxIou(good, bad).data()).rejects.toThrow(IndexError);
      await expect(generalizedBoxIou(good, bad).data()).rejects.toThrow(/generalizedBoxIou: box 1 of boxes2 is not a valid xyxy box/);
      await expect(boxIou(bad, good).data()).rejects.toThrow(/boxIou: box 1 of boxes1 is not a valid xyxy box/);
      await expect(elementwiseGiou(nan, tensor([[0, 0, 1, 1]])).data()).rejects.toThrow(/elementwiseGiou: box 0 of boxes1/);
      // The report is cleared once thrown; valid boxes pass, degenerate (zero-area) ones are valid.
      expect(Array.from(await elementwiseGiou(tensor([[0.3, 0.3, 0.3, 0.3]]), tensor([[0.3, 0.3, 0.3, 0.3]])).data())).toEqual([0]);
      expect((await generalizedBoxIou(good, good).data()).length).toBe(4);
    } finally {
      setValidation(was);
    }
  });

  it('shape errors name the op and the shapes', () => {
    const a = tensor([[0, 0, 1, 1]]);
    expect(() => boxIou(a, tensor([[0, 0, 1, 1, 1]]))).toThrow(/boxIou: boxes2 must have shape \[N,4\], got \[1,5\]/);
    expect(() => generalizedBoxIou(tensor([0, 0, 1, 1]), a)).toThrow(/generalizedBoxIou: boxes1 must have shape \[N,4\], got \[4\]/);
    expect(() =>
      elementwiseGiou(
        a,
        tensor([
          [0, 0, 1, 1],
          [0, 0, 1, 1],
        ]),
      ),
    ).toThrow(/elementwiseGiou: boxes1 \[1,4\] and boxes2 \[2,4\] must have the same number of boxes/);
  });

  it('forward and backward leak no tensors', () => {
    const before = engine().memory().tensors;
    const [a, b] = [gpu(randomBoxes(4, 1), true), gpu(randomBoxes(3, 2), true)];
    scope(() => {
      generalizedBoxIou(boxCxcywhToXyxy(a), boxXyxyToCxcywh(b)).sum().add(elementwiseGiou(a, a).sum()).backward();
    });
    expect(a.grad!.shape).toEqual([4, 4]);
    // No await before the count: in the browser, garbage left by other tests is finalised at awaits.
    a.dispose();
    b.dispose();
    expect(engine().memory().tensors).toBe(before);
  });
});

describe('crossEntropy (PyTorch weighted mean)', () => {
  /**
   * lse per row: exp has ≤ 3 + 2|x − max| ulp (≤ 43 for |x| ≤ 10), the Σ exp adds ≤ ~(6 + C/64)·u,
   * log adds a few ulp: |Δlse| ≲ 60u·max(1, |lse|) ≈ 4e-6·|lse|; the weighted mean then adds the
   * reductions' ≤ ~50u relative. atol 1e-5, rtol 1e-5.
   */
  const TOL = { atol: 1e-5, rtol: 1e-5 };

  function logitsAndTargets(n: number, c: number, seed: number) {
    const next = rng(seed);
    const x: RefTensor = { shape: [n, c], data: Float64Array.from({ length: n * c }, () => Math.fround(20 * next() - 10)) };
    const t = Int32Array.from({ length: n }, () => Math.floor(next() * c));
    const w = Float32Array.from({ length: c }, () => 0.1 + next());
    return { x, t, w };
  }

  it.each([
    [7, 5],
    [1, 1],
    [300, 92],
    [3, 130],
  ])('[%i,%i] with and without class weights, against the reference', async (n, c) => {
    const { x, t, w } = logitsAndTargets(n, c, n + c);
    const xs = gpu(x),
      ts = tensor(t);
    const plain = crossEntropy(xs, ts),
      weighted = crossEntropy(xs, ts, { weight: tensor(w) });
    expect(plain.shape).toEqual([]);
    expectClose([await plain.item()], [R.crossEntropy(x, t)], TOL, 'plain');
    expectClose([await weighted.item()], [R.crossEntropy(x, t, w)], TOL, 'weighted');
  });

  it('a hand example: DETR-style no-object weight', async () => {
    // logits log(p) with p = (1/2, 1/4, 1/4) in each row; targets 0, 2 and 2, weights (1, 1, 0.1):
    // (1·ln 2 + 0.1·ln 4 + 0.1·ln 4) / (1 + 0.1 + 0.1) = (ln 2 + 0.4 ln 2) / 1.2 = 1.4 ln 2 / 1.2
    const row = [Math.log(0.5), Math.log(0.25), Math.log(0.25)];
    const loss = crossEntropy(tensor([row, row, row]), tensor(new Int32Array([0, 2, 2])), { weight: tensor([1, 1, 0.1]) });
    expectClose([await loss.item()], [(1.4 * Math.LN2) / 1.2], { atol: 1e-6 }, 'hand');
  });

  it('the gradient is (g/W)·w[t]·(softmax − onehot): analytic in f64 on [300,92], finite differences on [5,4]', async () => {
    const { x, t, w } = logitsAndTargets(300, 92, 5);
    const xs = gpu(x, true);
    crossEntropy(xs, tensor(t), { weight: tensor(w) }).backward();
    const want = new Float64Array(300 * 92);
    const W = Array.from(t).reduce((a, ti) => a + w[ti], 0);
    for (let i = 0; i < 300; i++) {
      const row = x.data.subarray(i * 92, (i + 1) * 92);
      const m = Math.max(...row),
        s = row.reduce((a, v) => a + Math.exp(v - m), 0);
      for (let j = 0; j < 92; j++) want[i * 92 + j] = (w[t[i]] / W) * (Math.exp(row[j] - m) / s - (j === t[i] ? 1 : 0));
    }
    // Each entry: softmax to ~60u relative (above) times w/W to ~50u: |err| ≤ 1e-5·max|want|.
    expectClose(await xs.grad!.data(), want, { atol: 1e-5 * Math.max(...Array.from(want, Math.abs)) }, 'analytic');
    const small = logitsAndTargets(5, 4, 6);
    const ys = gpu(small.x, true);
    crossEntropy(ys, tensor(small.t), { weight: tensor(small.w) }).backward();
    const fd = fdGrad((v) => R.crossEntropy({ shape: [5, 4], data: v }, small.t, small.w), small.x.data);
    expectGradClose(await ys.grad!.data(), fd, 'finite differences');
    xs.dispose();
    ys.dispose();
  });

  it('a second oracle from primitives (logSoftmax, gather, sums) agrees on value and gradient', async () => {
    const { x, t, w } = logitsAndTargets(11, 6, 7);
    const xs = gpu(x),
      ts = tensor(t),
      ws = tensor(w);
    const flat = tensor(Int32Array.from(t, (ti, i) => i * 6 + ti));
    const composed = (v: Tensor) => {
      const picked = gather(logSoftmax(v).reshape([66]), flat); // log p[i, tᵢ]
      const wt = gather(ws, ts);
      return picked.mul(wt).sum().neg().div(wt.sum());
    };
    const [gf] = grad((v: Tensor) => crossEntropy(v, ts, { weight: ws }))(xs);
    const [gp] = grad(composed)(xs);
    expectClose([await crossEntropy(xs, ts, { weight: ws }).item()], [await scope(() => composed(xs)).item()], TOL, 'value');
    expectClose(await gf.data(), await gp.data(), { atol: 1e-6 }, 'gradient');
  });

  it('is stable for huge logits', async () => {
    const loss = crossEntropy(
      tensor([
        [1000, 1001, 1002],
        [-1000, -1000, -1000],
      ]),
      tensor(new Int32Array([0, 1])),
    );
    // row 0: lse = 1002 + ln(1 + e⁻¹ + e⁻²) → loss 2 + ln(1.5032…); row 1: ln 3.
    const want = (2 + Math.log(1 + Math.exp(-1) + Math.exp(-2)) + Math.log(3)) / 2;
    expectClose([await loss.item()], [want], { atol: 1e-4 }, 'huge logits'); // |x| = 1000: one ulp is 6e-5
  });

  it('errors: a target out of range throws at readback; shapes and dtypes are checked at once', async () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    await expect(crossEntropy(x, tensor(new Int32Array([0, 3]))).data()).rejects.toThrow(
      /crossEntropy: target at position 1 is outside the class range \[0, 3\)/,
    );
    expect(() => crossEntropy(x, tensor([0, 1]))).toThrow(/crossEntropy: target must be i32 class indices, got f32\[2\]/);
    expect(() => crossEntropy(x, tensor(new Int32Array([0])))).toThrow(
      /crossEntropy: target must have shape \[2\] for logits \[2,3\], got \[1\]/,
    );
    expect(() => crossEntropy(x, tensor(new Int32Array([0, 1])), { weight: tensor([1, 1]) })).toThrow(
      /crossEntropy: weight must have shape \[3\]/,
    );
    expect(() => crossEntropy(tensor([1, 2]), tensor(new Int32Array([0])))).toThrow(ShapeError);
  });

  it('forward and backward leak no tensors', () => {
    const before = engine().memory().tensors;
    const { x, t, w } = logitsAndTargets(4, 3, 9);
    const xs = gpu(x, true);
    scope(() => crossEntropy(xs, tensor(t), { weight: tensor(w) }).backward());
    expect(xs.grad!.shape).toEqual([4, 3]);
    xs.dispose(); // no await before the count (see above)
    expect(engine().memory().tensors).toBe(before);
  });
});
