/**
 * Reductions and softmax against the CPU reference.
 *
 * Tolerance of sums: in the workgroup kernel each thread adds its strided slice in a cascade (16
 * terms, 16 partials, then the running total: ≤ (32 + ⌈n/65 536⌉)·u·Σ|x|) and a pairwise tree of 8
 * levels combines 256 partials: ≤ (41 + ⌈n/65 536⌉)·u·Σ|x|. Rows of ≤ 4 096 may run one thread per
 * row: one cascade over n terms, ≤ (32 + ⌈n/256⌉)·u·Σ|x| ≤ 48·u·Σ|x|. Both are within
 * (48 + ⌈n/65 536⌉)·u·Σ|x| per output, u = 2⁻²⁴ — nearly independent of the row length, where a
 * serial loop's bound is n·u·Σ|x|. max/min/argmax are
 * exact. Mean adds one division (rtol 2⁻²³); variance's two compensated passes are bounded the same way
 * relative to Σ(x − μ)². Softmax: exp (≤ 3 + 2|x| ulp) and one division per element: rtol 2e-6.
 */
import { describe, it, expect } from 'vitest';
import { tensor, softmax, logSoftmax, exp, sum } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, intPair, expectTensor, expectClose, EPS } from './util.ts';

useEngine();

const CASES: [number[], number | number[] | undefined][] = [
  [[1], 0],
  [[3], undefined],
  [[17], -1],
  [[257], 0],
  [[65_537], 0],
  [[300_001], undefined],
  [[3, 70_001], 1],
  [[70_001, 3], 0],
  [[17, 257], 0],
  [[17, 257], 1],
  [
    [2, 3, 5],
    [0, 2],
  ],
  [[2, 3, 5], 1],
  [
    [2, 3, 5],
    [1, 2],
  ],
  [[2, 3, 5], undefined],
  [[4, 1, 6], 1],
  [[5, 33], 1],
  [[5, 31], 1],
  [
    [1, 1, 1],
    [0, 1, 2],
  ],
];

describe('reductions', () => {
  for (const kind of ['sum', 'mean', 'max', 'min', 'variance'] as const) {
    it.each(CASES.map(([s, a]) => [`${JSON.stringify(s)} axis ${JSON.stringify(a)}`, s, a] as const))(
      `${kind} %s`,
      async (_n, shape, axis) => {
        const { t, r } = randomPair(shape, 5, -1, 3);
        const y = t[kind](axis as number);
        const want = R.reduce(kind, r, axis);
        const scale = kind === 'variance' ? R.reduce('sum', { shape: r.shape, data: r.data.map((v) => v * v) }, axis) : R.absSum(r, axis);
        const n = r.data.length / Math.max(1, want.data.length);
        const c = (48 + Math.ceil(n / 65_536)) * EPS;
        const bound = scale.data.map((s) => (kind === 'sum' ? c * s : kind === 'mean' || kind === 'variance' ? (2 * c * s) / n : 0));
        await expectTensor(y, want, { rtol: kind === 'max' || kind === 'min' ? 0 : 2 * EPS, bound }, kind);
      },
    );
  }

  it.each(CASES.map(([s, a]) => [`${JSON.stringify(s)} axis ${JSON.stringify(a)}`, s, a] as const))(
    'argmax/argmin %s',
    async (_n, shape, axis) => {
      const { t, r } = intPair(shape, 9, -20, 20); // many ties: the first index must win
      const tf = t.cast('f32');
      const ax = Array.isArray(axis) ? axis[0] : axis;
      for (const kind of ['argmax', 'argmin'] as const) {
        const y = tf[kind](ax);
        expect(y.dtype).toBe('i32');
        await expectTensor(y, R.reduce(kind, r, ax), {}, kind);
      }
    },
  );

  it('keepDims keeps size-1 axes', async () => {
    const { t, r } = randomPair([2, 3, 4], 1);
    const y = t.sum([0, 2], true);
    expect(y.shape).toEqual([1, 3, 1]);
    await expectTensor(y, R.reduce('sum', r, [0, 2], true), { atol: 1e-6 });
    expect(t.argmax(1, true).shape).toEqual([2, 1, 4]);
  });

  it('integer sums, max and min stay i32; argmax/argmin of i32', async () => {
    const { t, r } = intPair([7, 300], 4, -1000, 1000);
    for (const kind of ['argmax', 'argmin'] as const) await expectTensor(t[kind](1), R.reduce(kind, r, 1), {}, kind);
    await expectTensor(t.argmax(0), R.reduce('argmax', r, 0), {}, 'argmax axis 0');
    for (const kind of ['sum', 'max', 'min'] as const) {
      const y = t[kind](1);
      expect(y.dtype).toBe('i32');
      await expectTensor(y, R.reduce(kind, r, 1), {}, kind);
    }
  });

  it('NaN propagates through max/min and wins argmax, like NumPy', async () => {
    const x = tensor([1, NaN, 3, 2]);
    expect(await x.max().item()).toBeNaN();
    expect(await x.min().item()).toBeNaN();
    expect(await x.argmax().item()).toBe(1);
  });

  it('empty tensors: sum of nothing is 0, mean is NaN, max throws', async () => {
    const e = tensor(new Float32Array(0), [0, 3]);
    expect(Array.from(await e.sum(0).data())).toEqual([0, 0, 0]);
    expect(Array.from(await e.mean(0).data()).every(Number.isNaN)).toBe(true);
    expect(() => e.max(0)).toThrow(/max: cannot reduce a zero-size axis of shape \[0,3\]/);
    expect(Array.from(await e.sum(1).data())).toEqual([]);
  });

  it('a long row of equal values sums without drift (compensated accumulation)', async () => {
    const n = 1 << 20;
    const x = tensor(new Float32Array(n).fill(0.1));
    const s = await x.sum().item();
    expect(Math.abs(s - n * Math.fround(0.1))).toBeLessThan((48 + 16) * EPS * n * 0.1);
  });

  it('variance with correction (ddof) 1', async () => {
    const { t, r } = randomPair([4, 9], 2);
    await expectTensor(t.variance(1, false, 1), R.reduce('variance', r, 1, false, 1), { rtol: 1e-6 });
  });
});

describe('softmax and logSoftmax', () => {
  const shapes: [number[], number][] = [
    [[1], -1],
    [[3], -1],
    [[17, 257], -1],
    [[6, 164, 164], -1],
    [[2, 70_001], -1],
    [[5, 7, 3], 1],
    [[5, 7, 3], 0],
    [[4, 1], -1],
  ];
  it.each(shapes.map(([s, a]) => [`${JSON.stringify(s)} axis ${a}`, s, a] as const))('%s', async (_n, shape, axis) => {
    const { t, r } = randomPair(shape, 3, -30, 30);
    await expectTensor(softmax(t, axis), R.softmax(r, axis), { atol: 1e-9, rtol: 2e-6 }, 'softmax');
    await expectTensor(logSoftmax(t, axis), R.softmax(r, axis, true), { atol: 2e-6, rtol: 2e-6 }, 'logSoftmax');
  });

  it('is stable for huge logits (no overflow) and matches a second oracle built from primitives', async () => {
    const x = tensor([
      [1000, 1001, 1002],
      [-1000, -1000, -1000],
    ]);
    const y = await x.softmax().data();
    expect(y.every(Number.isFinite)).toBe(true);
    // second oracle: exp(x − max) / Σ, composed from GPU primitives
    const m = x.max(-1, true);
    const e = exp(x.sub(m));
    const prim = await e.div(sum(e, -1, true)).data();
    expectClose(y, prim, { atol: 1e-7, rtol: 1e-6 }, 'softmax vs primitives');
  });
});
