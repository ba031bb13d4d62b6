/**
 * attentionHeads: heads packed in the last axis ([B, T, H·D], a linear layer's layout). Without a
 * gradient it is one kernel on the packed rows; it must give the same bits as splitting the heads
 * with reshape + permute, attention() and merging them back, in every kernel layout, on awkward
 * shapes (D not a multiple of 4, Tq ≠ Tk, T not a multiple of the rows per invocation).
 */
import { describe, it, expect } from 'vitest';
import { attention, attentionHeads, tensor, gradients, noGrad, zeros, ShapeError, type Tensor } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { useEngine, randomPair, attentionLayouts } from './util.ts';

const getEngine = useEngine();

const split = (t: Tensor, h: number) => t.reshape([t.shape[0], t.shape[1], h, t.shape[2] / h]).permute([0, 2, 1, 3]);
const rs = (x: R.RefTensor, shape: number[]): R.RefTensor => ({ shape, data: x.data });
const merge = (t: Tensor) => t.permute([0, 2, 1, 3]).reshape([t.shape[0], t.shape[2], t.shape[1] * t.shape[3]]);

describe('attentionHeads', () => {
  // [B, Tq, Tk, H, D]
  const CASES = [
    [2, 17, 17, 3, 5],
    [1, 5, 130, 3, 16],
    [2, 1, 4, 1, 7],
  ] as const;
  it.each(CASES.map((c) => [c.join('×'), ...c] as const))(
    'B×Tq×Tk×H×D %s: the same bits as split → attention → merge, every layout',
    async (_n, B, tq, tk, h, d) => {
      const Q = randomPair([B, tq, h * d], 91),
        K = randomPair([B, tk, h * d], 92),
        V = randomPair([B, tk, h * d], 93);
      // the reference, per head: also checks the packed indexing against an independent implementation
      const want = merge(attention(split(Q.t, h), split(K.t, h), split(V.t, h)));
      const wantBits = (await want.data()) as Float32Array;
      const qh = R.permute(rs(Q.r, [B, tq, h, d]), [0, 2, 1, 3]),
        kh = R.permute(rs(K.r, [B, tk, h, d]), [0, 2, 1, 3]),
        vh = R.permute(rs(V.r, [B, tk, h, d]), [0, 2, 1, 3]);
      const ref = rs(R.permute(R.attention(qh, kh, vh, 1 / Math.sqrt(d)), [0, 2, 1, 3]), [B, tq, h * d]);
      ref.data.forEach((x, i) => expect(Math.abs(wantBits[i] - x)).toBeLessThan(1e-5));
      for (const variant of attentionLayouts(getEngine())) {
        const got = noGrad(() => attentionHeads(Q.t, K.t, V.t, h, { variant }));
        expect([...got.shape]).toEqual([B, tq, h * d]);
        const gotBits = (await got.data()) as Float32Array;
        const perHead = (await merge(attention(split(Q.t, h), split(K.t, h), split(V.t, h), { variant })).data()) as Float32Array;
        const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
        expect(bits(gotBits), `${variant}: not bit-identical to split → attention → merge`).toEqual(bits(perHead));
        got.dispose();
      }
      want.dispose();
    },
  );

  it('with a gradient it is the differentiable composition (same output, gradients flow)', async () => {
    const Q = randomPair([1, 9, 12], 5),
      K = randomPair([1, 9, 12], 6),
      V = randomPair([1, 9, 12], 7);
    for (const x of [Q.t, K.t, V.t]) x.requiresGrad = true;
    const o = attentionHeads(Q.t, K.t, V.t, 3);
    const plain = noGrad(() => attentionHeads(Q.t, K.t, V.t, 3));
    expect(Array.from((await o.data()) as Float32Array)).toEqual(Array.from((await plain.data()) as Float32Array));
    const g = gradients(o, tensor(new Float32Array(108).fill(1), [1, 9, 12]));
    for (const x of [Q.t, K.t, V.t]) expect(g.get(x)?.shape).toEqual([1, 9, 12]);
  });

  it('bad shapes name the op and the shapes', () => {
    const z = zeros([1, 4, 6]);
    expect(() => attentionHeads(z, z, z, 4)).toThrow(ShapeError);
    expect(() => attentionHeads(z, z, z, 4)).toThrow(/attentionHeads: the last axis \(6\) is not a multiple of heads \(4\)/);
    expect(() => attentionHeads(z, z, z, 0)).toThrow(/attentionHeads: heads must be a positive integer, got 0/);
    expect(() => attentionHeads(zeros([4, 6]), z, z, 2)).toThrow(/attentionHeads: q, k and v must be \[B, T, heads·D\], got q=\[4,6\]/);
    expect(() => attentionHeads(z, zeros([1, 4, 8]), z, 2)).toThrow(/expected q \[B, Tq, E\], k and v \[B, Tk, E\]/);
  });
});
