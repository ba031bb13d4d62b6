/**
 * Elementwise kernels against the CPU reference, for every op of the table, on awkward shapes: the
 * domains, tolerances and cases are the op table's (engine/ops/registry.ts `OPS[op].check`).
 *
 * Tolerances: inputs are f32-exact, so + − × are correctly rounded (≤ 0.5 ulp: rtol 2⁻²⁴); WGSL's
 * division is ≤ 2.5 ulp (rtol 3·2⁻²³). exp/log/sqrt have a few ulp in the WGSL spec (exp: 3 + 2|x|
 * ulp) and the helpers (sigmoid, tanh, erfc-GELU) add < 1.2e-7 relative from their fits: rtol 4e-6
 * with an atol of 1e-6 for results near 0 (e.g. GELU of negative inputs, log near 1).
 */
import { describe, it, expect } from 'vitest';
import { where, tensor, type Tensor } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { UNARY, BINARY, type UnaryOp, type BinaryOp } from '../../engine/ops/elementwise.table.ts';
import { OPS } from '../../engine/ops/registry.ts';
import { useEngine, randomPair, seededPair, intPair, expectTensor, EPS } from './util.ts';

useEngine();

describe('unary ops', () => {
  for (const op of Object.keys(UNARY) as UnaryOp[]) {
    it.each(OPS[op].check.cases.map(([s]) => [JSON.stringify(s), s] as const))(`${op} %s`, async (_n, shape) => {
      const { domains, tol } = OPS[op].check;
      const { t, r } = seededPair(shape, 7 + shape.length, domains[0]);
      const y = (t as unknown as Record<UnaryOp, () => Tensor>)[op]();
      await expectTensor(y, R.unary(op, r), tol, op);
      t.dispose();
      y.dispose();
    });
  }

  it('integer unary ops on i32', async () => {
    const { t, r } = intPair([257], 3, -50, 50);
    for (const op of ['neg', 'abs', 'sign', 'square'] as const) {
      const y = t[op]();
      expect(y.dtype).toBe('i32');
      await expectTensor(y, R.unary(op, r), {}, op);
    }
  });

  it('special values: relu/sigmoid/tanh/gelu at ±Inf and NaN, large |x|', async () => {
    const x = tensor([-Infinity, Infinity, NaN, -1e30, 1e30, 0, -0]);
    expect(Array.from(await x.relu().data())).toEqual([0, Infinity, NaN, 0, 1e30, 0, 0].map((v) => Math.fround(v)));
    expect(Array.from(await x.sigmoid().data())).toEqual([0, 1, NaN, 0, 1, 0.5, 0.5]);
    expect(Array.from(await x.tanh().data())).toEqual([-1, 1, NaN, -1, 1, 0, -0]);
    const g = await tensor([-40, -10, 40]).gelu().data();
    expect(Math.abs(g[0])).toBe(0);
    expect(Math.abs(g[1])).toBeLessThan(1e-20);
    expect(g[2]).toBe(40);
  });
});

describe('binary ops with broadcasting', () => {
  for (const op of Object.keys(BINARY) as BinaryOp[]) {
    const { domains, tol, cases } = OPS[op].check;
    it.each(cases.map(([a, b]) => [`${JSON.stringify(a)}⊕${JSON.stringify(b)}`, a, b] as const))(`${op} %s`, async (_n, sa, sb) => {
      const A = seededPair(sa, 11, domains[0]),
        B = seededPair(sb, 12, domains[1]);
      const y = (A.t as unknown as Record<BinaryOp, (b: Tensor) => Tensor>)[op](B.t);
      await expectTensor(y, R.binary(op, A.r, B.r), tol, op);
      if (BINARY[op].compare) expect(y.dtype).toBe('f32');
    });
  }

  it('comparisons see equal values (ties) and integer inputs', async () => {
    const A = intPair([3, 17], 1, -3, 3),
      B = intPair([17], 2, -3, 3);
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'maximum', 'minimum', 'add', 'sub', 'mul'] as const) {
      await expectTensor(A.t[op](B.t), R.binary(op, A.r, B.r), {}, op);
    }
  });

  it('integer division truncates and gives 0 for a zero divisor', async () => {
    const y = await tensor(new Int32Array([7, -7, 7, 5]))
      .div(tensor(new Int32Array([2, 2, -2, 0])))
      .data();
    expect(Array.from(y)).toEqual([3, -3, -3, 0]);
  });

  it('pow: negative bases with integer exponents, zero bases, NaN', async () => {
    const a = tensor([-2, -2, -2, 0, 0, 0, 4, NaN]);
    const b = tensor([2, 3, 0.5, 0, 2, -1, 0.5, 0]);
    const y = Array.from(await a.pow(b).data());
    expect(y.slice(0, 2)).toEqual([4, -8]);
    expect(y[2]).toBeNaN();
    expect(y.slice(3)).toEqual([1, 0, Infinity, 2, 1]);
  });

  it('scalars on either side', async () => {
    const { t, r } = randomPair([5], 3);
    await expectTensor(t.add(2), R.binary('add', r, R.ref([2], [])), { rtol: EPS });
    await expectTensor(t.mul(-0.5), R.binary('mul', r, R.ref([-0.5], [])), { rtol: EPS });
  });
});

describe('where', () => {
  it.each([
    [[3, 4], [4], [3, 1]],
    [[], [5], [5]],
    [[257], [257], []],
    [[2, 1, 3], [1, 4, 1], [3]],
  ] as const)('cond %j a %j b %j', async (sc, sa, sb) => {
    const C = intPair([...sc], 5, 0, 2),
      A = randomPair([...sa], 6),
      B = randomPair([...sb], 7);
    await expectTensor(where(C.t, A.t, B.t), R.where(C.r, A.r, B.r), {}, 'where');
    const Cf = C.t.cast('f32');
    await expectTensor(Cf.where(A.t, B.t), R.where(C.r, A.r, B.r), {}, 'where f32 cond');
  });
});

describe('cast', () => {
  // f32 → int truncates toward zero and saturates (WGSL): 3e9 → the largest f32 below 2³¹.
  it('f32 ↔ i32 ↔ u32', async () => {
    const x = tensor([1.7, -1.7, 0, 3e9, -5]);
    expect(Array.from(await x.cast('i32').data())).toEqual([1, -1, 0, 2147483520, -5]);
    expect(
      Array.from(
        await tensor(new Int32Array([-3, 4]))
          .cast('f32')
          .data(),
      ),
    ).toEqual([-3, 4]);
    expect(
      Array.from(
        await tensor(new Uint32Array([7, 4000000000]))
          .cast('f32')
          .data(),
      ),
    ).toEqual([7, 4000000000]);
  });
});
