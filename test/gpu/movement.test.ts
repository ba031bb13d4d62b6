/** Shape and movement ops (exact copies: tolerance 0), gather and scatter-add against the reference. */
import { describe, it, expect } from 'vitest';
import { tensor, concat, gather, scatterAdd, permute, arange, type Tensor } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, intPair, expectTensor } from './util.ts';

useEngine();

describe('reshape', () => {
  it('shares storage and infers −1', async () => {
    const { t, r } = randomPair([2, 3, 4], 1);
    const y = t.reshape([4, -1]);
    expect(y.shape).toEqual([4, 6]);
    await expectTensor(y, { shape: [4, 6], data: r.data });
    expect(t.flatten().shape).toEqual([24]);
    expect(() => t.reshape([])).toThrow(/reshape: cannot reshape \[2,3,4\] \(24 elements\) into \[\]/);
  });
});

describe('permute / transpose', () => {
  const cases: [number[], number[]][] = [
    [[1], [0]],
    [
      [3, 17],
      [1, 0],
    ],
    [
      [2, 3, 5],
      [2, 0, 1],
    ],
    [
      [2, 3, 5, 7],
      [3, 1, 0, 2],
    ],
    [
      [257, 3],
      [1, 0],
    ],
    [
      [1, 5, 1, 3],
      [3, 2, 1, 0],
    ],
    [
      [2, 2, 2, 2, 2, 2, 2, 3],
      [7, 6, 5, 4, 3, 2, 1, 0],
    ],
    [
      [0, 4],
      [1, 0],
    ],
  ];
  it.each(cases.map(([s, a]) => [`${JSON.stringify(s)} → ${JSON.stringify(a)}`, s, a] as const))('%s', async (_n, shape, axes) => {
    const { t, r } = randomPair(shape, 2);
    await expectTensor(permute(t, axes), R.permute(r, axes));
  });
  it('transpose swaps the last two axes by default', async () => {
    const { t, r } = randomPair([2, 3, 5], 4);
    await expectTensor(t.transpose(), R.permute(r, [0, 2, 1]));
    await expectTensor(t.transpose(0, 2), R.permute(r, [2, 1, 0]));
  });
});

describe('slice', () => {
  const cases: [number[], number[], number[] | undefined, number[] | undefined][] = [
    [[10], [2], [7], undefined],
    [[10], [-3], undefined, undefined],
    [[10], [1], [9], [3]],
    [[5, 7], [1, 2], [4, -1], undefined],
    [[5, 7], [0], [5], [2]],
    [
      [257, 3],
      [100, 1],
      [-1, 3],
      [7, 1],
    ],
    [[4, 4], [3], [1], undefined],
    [
      [2, 3, 4],
      [0, 0, 1],
      [2, 3, 4],
      [1, 2, 2],
    ],
  ];
  it.each(cases.map((c) => [JSON.stringify(c), ...c] as const))('%s', async (_n, shape, b, e, s) => {
    const { t, r } = randomPair(shape, 3);
    await expectTensor(t.slice(b, e, s), R.slice(r, b, e, s));
  });
});

describe('concat and pad', () => {
  it.each([
    [
      [
        [2, 3],
        [4, 3],
        [1, 3],
      ],
      0,
    ],
    [
      [
        [2, 3],
        [2, 5],
      ],
      1,
    ],
    [
      [
        [2, 3, 4],
        [2, 1, 4],
        [2, 0, 4],
      ],
      1,
    ],
    [[[17], [257]], -1],
  ] as const)('concat %j axis %i', async (shapes, axis) => {
    const pairs = shapes.map((s, i) => randomPair([...s], 10 + i));
    await expectTensor(
      concat(
        pairs.map((p) => p.t),
        axis,
      ),
      R.concat(
        pairs.map((p) => p.r),
        axis,
      ),
    );
  });
  it.each([
    [[3], [[1, 2]]],
    [
      [2, 3],
      [
        [0, 1],
        [2, 0],
      ],
    ],
    [
      [2, 3, 4],
      [
        [1, 1],
        [0, 0],
        [3, 2],
      ],
    ],
    [
      [0, 2],
      [
        [1, 1],
        [1, 1],
      ],
    ],
  ] as const)('pad %j %j', async (shape, padding) => {
    const { t, r } = randomPair([...shape], 5);
    const p = padding.map((x) => [...x] as [number, number]);
    await expectTensor(t.pad(p, 0.5), R.pad(r, p, 0.5));
  });
  it('i32 tensors move bit-exactly', async () => {
    const { t, r } = intPair([3, 5], 1, -1e9, 1e9);
    await expectTensor(concat([t, t], 0), R.concat([r, r], 0));
    await expectTensor(t.transpose(), R.permute(r, [1, 0]));
  });
});

describe('broadcastTo / squeeze / expandDims / clone', () => {
  it('broadcastTo materialises', async () => {
    const { t, r } = randomPair([3, 1], 1);
    await expectTensor(t.broadcastTo([2, 3, 4]), R.broadcastTo(r, [2, 3, 4]));
  });
  it('squeeze and expandDims', () => {
    const t = tensor(new Float32Array(6), [1, 2, 1, 3]);
    expect(t.squeeze().shape).toEqual([2, 3]);
    expect(t.squeeze(2).shape).toEqual([1, 2, 3]);
    expect(t.expandDims(-1).shape).toEqual([1, 2, 1, 3, 1]);
    expect(t.expandDims(0).shape).toEqual([1, 1, 2, 1, 3]);
  });
  it('clone has its own storage', async () => {
    const { t, r } = randomPair([5], 1);
    const c = t.clone();
    t.dispose();
    await expectTensor(c, r);
  });
});

describe('gather and scatterAdd', () => {
  const cases: [number[], number[], number][] = [
    [[5], [3], 0],
    [[7, 3], [4], 0],
    [[2, 7, 3], [2, 5], 1],
    [[3, 257], [300], 1],
    [[4, 5], [0], 0],
    [[6, 2], [1], -2],
  ];
  it.each(cases.map((c) => [JSON.stringify(c), ...c] as const))('gather %s', async (_n, shape, ishape, axis) => {
    const { t, r } = randomPair(shape, 2);
    const d = shape[axis < 0 ? axis + shape.length : axis];
    const I = intPair(ishape, 3, -d, d); // negative indices count from the end
    await expectTensor(gather(t, I.t, axis), R.gather(r, I.r, axis));
  });
  it.each(cases.filter((c) => c[1].length === 1).map((c) => [JSON.stringify(c), ...c] as const))(
    'scatterAdd %s (repeated indices, fixed order)',
    async (_n, shape, ishape, axis) => {
      const a = axis < 0 ? axis + shape.length : axis;
      const d = shape[a];
      const srcShape = [...shape];
      srcShape[a] = ishape[0];
      const S = randomPair(srcShape, 4);
      const I = intPair(ishape, 5, 0, d);
      const y = scatterAdd(S.t, I.t, axis, d);
      // summation order is fixed (ascending j) so results are bit-identical run to run
      const y2 = scatterAdd(S.t, I.t, axis, d);
      expect(Array.from(await y.data())).toEqual(Array.from(await y2.data()));
      await expectTensor(y, R.scatterAdd(S.r, I.r, axis, d), { atol: 1e-6, rtol: 1e-6 });
    },
  );
  it('out-of-range indices are reported at readback, naming the op', async () => {
    const x = arange(10, undefined, 1, { dtype: 'f32' });
    const bad: Tensor = x.gather(tensor(new Int32Array([1, 10])));
    await expect(bad.data()).rejects.toThrow(/gather: index at position 1 is out of range for axis 0 of size 10/);
    // the assert is cleared once reported
    expect(Array.from(await x.gather(tensor(new Int32Array([-1]))).data())).toEqual([9]);
  });
});
