/**
 * engine/playground.ts (the kernel playground's logic, shared by the web page): the built-in kernels
 * pass their reference check, an edited kernel runs in place of the op's main kernel with the same
 * params and grid (a wrong one is caught, a right one passes), bad WGSL throws KernelError.
 */
import { describe, it, expect } from 'vitest';
import { KernelError, ShapeError } from '../../engine/index.ts';
import { PLAYGROUND_OPS, runKernel, kernelsOf, kernelLayout, isMainKernel, PlaygroundError } from '../../engine/playground.ts';
import { validate, describeValidation } from '../../engine/validate.ts';
import { useEngine } from './util.ts';

const engine = useEngine();

describe('kernel playground', () => {
  it.each([
    ['gelu', [[37, 5]]],
    [
      'add',
      [
        [3, 1, 7],
        [4, 7],
      ],
    ],
    [
      'matmul',
      [
        [5, 13],
        [13, 9],
      ],
    ],
    ['softmax', [[3, 70]]],
    ['logSoftmax', [[2, 700]]],
    ['sum', [[6, 33]]],
    ['layerNorm', [[5, 24]]],
  ] as [string, number[][]][])('%s on %j: the built-in kernel passes', async (op, shapes) => {
    const r = await runKernel({ op, shapes, repeats: 0 });
    expect(r.check.pass, JSON.stringify(r.check)).toBe(true);
    expect(isMainKernel(PLAYGROUND_OPS[op], r.main!.spec.key), r.kernels.map((k) => k.spec.key).join()).toBe(true);
    expect(r.user).toBe(false);
    expect(engine().kernelOverride).toBeNull();
  });

  it('f16 storage for matmul and attention (where the adapter has shader-f16): f16 kernels pass on f16-rounded inputs', async () => {
    if (!engine().hasFeature('shader-f16')) {
      await expect(
        runKernel({
          op: 'matmul',
          shapes: [
            [5, 13],
            [13, 9],
          ],
          dtype: 'f16',
          repeats: 0,
        }),
      ).rejects.toThrow(/shader-f16/);
      return;
    }
    for (const [op, shapes] of [
      [
        'matmul',
        [
          [5, 13],
          [13, 9],
        ],
      ],
      ['attention', [[1, 2, 19, 12]]],
    ] as [string, number[][]][]) {
      const r = await runKernel({ op, shapes, dtype: 'f16', repeats: 0 });
      expect(r.check.pass, JSON.stringify(r.check)).toBe(true);
      expect(r.main!.spec.key, op).toMatch(op === 'matmul' ? /f16f16>f32/ : /\/hhhf(\/nolse)?$/);
    }
    await expect(runKernel({ op: 'softmax', shapes: [[3, 7]], dtype: 'f16', repeats: 0 })).rejects.toThrow(
      /softmax does not run on f16 here/,
    );
  });

  it('an edited kernel replaces the main one: a wrong edit is caught, a right one passes and is timed', async () => {
    const { main } = await kernelsOf({ op: 'gelu', shapes: [[300]] });
    const code = main!.spec.code();
    expect(kernelLayout(code).some((l) => l.includes('@binding(2)'))).toBe(true);
    expect(code).toContain('ys[i] = f(xs[i]);');
    const wrong = await runKernel({
      op: 'gelu',
      shapes: [[300]],
      wgsl: code.replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + 0.01;'),
      repeats: 0,
    });
    expect(wrong.user).toBe(true);
    expect(wrong.check.pass).toBe(false);
    expect(wrong.check.bad).toBe(300); // 0.01 ≫ the tolerance 1e-6 + 1e-5·|ref| for |ref| ≲ 4
    expect(wrong.check.maxAbs).toBeCloseTo(0.01, 5);
    // x·Φ(x) through tanh instead of erf: within ~1e-3 of GELU, far outside its 1e-5 relative tolerance
    const tanhGelu = code.replace(
      'ys[i] = f(xs[i]);',
      'let x = xs[i]; ys[i] = 0.5 * x * (1.0 + tanh_f(0.7978845608 * (x + 0.044715 * x * x * x)));',
    );
    const approx = await runKernel({ op: 'gelu', shapes: [[300]], wgsl: tanhGelu, repeats: 0 });
    expect(approx.check.pass).toBe(false);
    expect(approx.check.maxAbs).toBeLessThan(2e-3);
    const same = await runKernel({
      op: 'gelu',
      shapes: [[300]],
      wgsl: code.replace('ys[i] = f(xs[i]);', 'let y = f(xs[i]); ys[i] = y;'),
      repeats: 3,
    });
    expect(same.check.pass).toBe(true);
    expect(same.timing!.samples.length).toBe(3);
    expect(same.timing!.ms).toBeGreaterThan(0);
    expect(engine().kernelOverride).toBeNull();
  });

  it("a kernel that writes nothing fails: the check does not read an earlier run's result from the pool", async () => {
    const { main } = await kernelsOf({ op: 'gelu', shapes: [[300]] });
    // never true for the seeded normal inputs (|x| < 10), so ys is left as the pool handed it over;
    // the write stays in the code so that the kernel keeps the op's bindings
    const none = main!.spec.code().replace('ys[i] = f(xs[i]);', 'if (xs[i] > 1e30) { ys[i] = f(xs[i]); }');
    const r = await runKernel({ op: 'gelu', shapes: [[300]], wgsl: none, repeats: 0 });
    expect(r.user).toBe(true);
    expect(r.check.pass).toBe(false);
    expect(r.check.bad).toBe(300);
    // the same for a tiled kernel that returns at once (matmul: every output element unwritten)
    const mm = await kernelsOf({
      op: 'matmul',
      shapes: [
        [5, 13],
        [13, 9],
      ],
    });
    const body = mm.main!.spec.code();
    const entry = body.indexOf('fn main(');
    const open = body.indexOf('{', entry);
    const mmNone = `${body.slice(0, open + 1)}\n  if (p.M > 0u) { return; }${body.slice(open + 1)}`;
    const r2 = await runKernel({
      op: 'matmul',
      shapes: [
        [5, 13],
        [13, 9],
      ],
      wgsl: mmNone,
      repeats: 0,
    });
    expect(r2.check.pass).toBe(false);
    expect(r2.check.bad).toBe(45);
    expect(engine().kernelOverride).toBeNull();
  });

  it('bad WGSL throws KernelError with the compiler message; bad requests say why', async () => {
    const { main } = await kernelsOf({ op: 'gelu', shapes: [[10]] });
    const bad = main!.spec.code().replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + undefined_name;');
    await expect(runKernel({ op: 'gelu', shapes: [[10]], wgsl: bad, repeats: 0 })).rejects.toThrow(KernelError);
    await expect(runKernel({ op: 'gelu', shapes: [[10]], wgsl: bad, repeats: 0 })).rejects.toThrow(/undefined_name/);
    expect(engine().kernelOverride).toBeNull();
    await expect(runKernel({ op: 'nope' })).rejects.toThrow(PlaygroundError);
    await expect(runKernel({ op: 'matmul', shapes: [[2, 3]] })).rejects.toThrow(/takes 2 shape/);
    await expect(
      runKernel({
        op: 'matmul',
        shapes: [
          [2, 3],
          [4, 5],
        ],
        repeats: 0,
      }),
    ).rejects.toThrow(ShapeError);
  });

  it('validate (the one comparator): NaN matches NaN, errors are located and counted', () => {
    const c = validate([1, NaN, 3.5, 4], [1, NaN, 3, 4], () => 0.1);
    expect(c).toMatchObject({ maxAbs: 0.5, worst: 2, got: 3.5, want: 3, bad: 1, n: 4, pass: false });
    expect(c.maxRel).toBeCloseTo(0.5 / 3, 12);
    expect(c.mismatches).toEqual([{ index: 2, got: 3.5, want: 3, err: 0.5, tol: 0.1 }]);
    expect(describeValidation(c, 'gelu')).toMatch(
      /^gelu: 1 of 4 elements outside tolerance.*\n  \[2\] got 3\.5, want 3, \|diff\| 0\.5, tol 0\.1$/s,
    );
    expect(validate([1, 2], [1, 2], () => 0).pass).toBe(true);
    expect(validate([1, 2], [1, 2.5], { atol: 0.1, rtol: 0.2 }).pass).toBe(true); // 0.5 ≤ 0.1 + 0.2·2.5
  });

  it('validate: a wrong infinity, a NaN result or a length mismatch never passes, whatever the tolerance', () => {
    // an infinite reference with rtol > 0 gives an infinite tolerance: it must still match exactly
    expect(validate([5, Infinity], [Infinity, Infinity], { rtol: 1 })).toMatchObject({ bad: 1, worst: 0, pass: false });
    expect(validate([-Infinity], [Infinity], { atol: Infinity }).pass).toBe(false);
    expect(validate([NaN], [1], { atol: Infinity }).pass).toBe(false);
    expect(() => validate([1, 2], [1], {})).toThrow(/validate: the result has 2 elements, the reference 1/);
  });
});
