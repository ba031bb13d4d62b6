/**
 * The public kernel door: a user-written WGSL kernel runs through `launch` (imported from the
 * engine's public entry only) and matches a CPU reference; bad specs, counts, tensors, params and
 * grids throw naming the kernel. saxpy in f32 is one fused multiply-add per element, so the tolerance
 * is a few ulps of |a·x| + |y| (≤ 2⁻²²·4 for |x|, |y| < 1, a = 2.5).
 */
import { describe, it, expect } from 'vitest';
import {
  launch,
  assertCode,
  Params,
  grid1d,
  wgsl,
  tensor,
  zeros,
  IndexError,
  LimitError,
  DTypeError,
  UseAfterDisposeError,
  EngineError,
  type KernelSpec,
} from '../../engine/index.ts';
import { useEngine, rng } from '../gpu/util.ts';

useEngine();

const saxpy: KernelSpec = {
  key: 'test/saxpy',
  inputs: 2,
  outputs: 1,
  code: () => /* wgsl */ `
${wgsl.FLAT_INDEX}
struct Params { n: u32, a: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flatIndex(gid, nwg);
  if (i < p.n) { out[i] = p.a * x[i] + y[i]; }
}`,
};

function random(n: number, seed: number): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: n }, () => 2 * next() - 1);
}

describe('launch', () => {
  it('runs a user-defined saxpy kernel and matches the CPU result', async () => {
    const n = 1000,
      a = 2.5; // 1000: not a multiple of the workgroup size, so the tail guard matters
    const xs = random(n, 1),
      ys = random(n, 2);
    const x = tensor(xs),
      y = tensor(ys),
      out = zeros([n]);
    launch(saxpy, new Params().u32(n).f32(a), [x, y], [out], grid1d(n));
    const got = (await out.data()) as Float32Array;
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] - (a * xs[i] + ys[i])));
    expect(worst).toBeLessThanOrEqual(4 * 2 ** -22);
    for (const t of [x, y, out]) t.dispose();
  });

  it('reports a device-side assert from a user kernel at the next readback', async () => {
    const check: KernelSpec = {
      key: 'test/assert-positive',
      inputs: 1,
      outputs: 0,
      asserts: true,
      code: () => /* wgsl */ `
struct Params { n: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> asserts: array<atomic<u32>, 4>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < p.n && x[gid.x] <= 0.0) { atomicMax(&asserts[0], p.code); atomicMax(&asserts[1], gid.x); }
}`,
    };
    const x = tensor([1, 2, -3, 4]);
    launch(check, new Params().u32(4, assertCode('test/assert-positive: x[{a}] is not positive')), [x], [], 1);
    await expect(x.data()).rejects.toThrow(IndexError);
    await expect(x.data()).resolves.toBeDefined(); // the assert is cleared once reported
    x.dispose();
  });

  it('launches nothing for a grid with a 0 dimension', async () => {
    const out = zeros([4]);
    launch(saxpy, new Params().u32(4).f32(1), [tensor([1, 1, 1, 1]), tensor([1, 1, 1, 1])], [out], [0, 1]);
    expect(Array.from((await out.data()) as Float32Array)).toEqual([0, 0, 0, 0]);
  });

  describe('validates its arguments, naming the kernel', () => {
    const x = () => zeros([4]);
    const p = () => new Params().u32(4).f32(1);
    it.each<[string, () => void, RegExp, typeof EngineError]>([
      [
        'no spec',
        () => launch(null as unknown as KernelSpec, p(), [], [], 1),
        /^launch: expected a kernel spec \{ key, code, inputs, outputs \}, got null/,
        EngineError,
      ],
      [
        'no key',
        () => launch({ ...saxpy, key: '' }, p(), [x(), x()], [x()], 1),
        /^launch: spec\.key must be a non-empty string naming the kernel, got ''/,
        EngineError,
      ],
      [
        'code a string',
        () => launch({ ...saxpy, code: 'fn main() {}' as unknown as () => string }, p(), [x(), x()], [x()], 1),
        /^launch 'test\/saxpy': spec\.code must be a function returning the WGSL text, got a string \(write code: \(\) => text\)/,
        EngineError,
      ],
      [
        'inputs 1.5',
        () => launch({ ...saxpy, inputs: 1.5 }, p(), [x(), x()], [x()], 1),
        /^launch 'test\/saxpy': spec\.inputs must be a non-negative integer .*got number 1\.5/,
        EngineError,
      ],
      [
        'too many bindings',
        () => launch({ ...saxpy, inputs: 100 }, p(), [], [x()], 1),
        /^launch 'test\/saxpy': 101 storage bindings exceed the adapter's \d+ per shader stage/,
        LimitError,
      ],
      [
        'one input short',
        () => launch(saxpy, p(), [x()], [x()], 1),
        /^launch 'test\/saxpy': got 1 input tensor; the spec declares inputs: 2/,
        EngineError,
      ],
      [
        'an extra output',
        () => launch(saxpy, p(), [x(), x()], [x(), x()], 1),
        /^launch 'test\/saxpy': got 2 output tensors; the spec declares outputs: 1/,
        EngineError,
      ],
      [
        'a number as input',
        () => launch(saxpy, p(), [x(), 3 as never], [x()], 1),
        /^launch 'test\/saxpy': input 1 must be a Tensor, got number 3/,
        DTypeError,
      ],
      [
        'an output that is an input',
        () => {
          const t = x();
          launch(saxpy, p(), [x(), t], [t], 1);
        },
        /^launch 'test\/saxpy': input 1 Tensor\(f32\[4\]\) shares its storage with an output/,
        EngineError,
      ],
      [
        'a reshaped input as output',
        () => {
          const t = zeros([2, 2]);
          launch(saxpy, p(), [t, x()], [t.reshape([4])], 1);
        },
        /shares its storage with an output/,
        EngineError,
      ],
      [
        'a disposed output',
        () => {
          const t = x();
          t.dispose();
          launch(saxpy, p(), [x(), x()], [t], 1);
        },
        /^launch 'test\/saxpy': output 0: tensor #\d+ f32\[4\] was disposed/,
        UseAfterDisposeError,
      ],
      [
        'params of 300 bytes',
        () => launch(saxpy, new Uint8Array(300), [x(), x()], [x()], 1),
        /^launch 'test\/saxpy': params of 300 bytes exceed the 256-byte uniform slot/,
        LimitError,
      ],
      [
        'params a number',
        () => launch(saxpy, 4 as never, [x(), x()], [x()], 1),
        /^launch 'test\/saxpy': params must be a Params, an ArrayBuffer or a typed array, got number 4/,
        EngineError,
      ],
      [
        'a fractional grid',
        () => launch(saxpy, p(), [x(), x()], [x()], [1.5]),
        /^launch 'test\/saxpy': grid \[1\.5,1,1\] must hold non-negative integer workgroup counts/,
        EngineError,
      ],
      [
        'a negative grid',
        () => launch(saxpy, p(), [x(), x()], [x()], [1, -1]),
        /must hold non-negative integer workgroup counts/,
        EngineError,
      ],
      [
        'a 4-D grid',
        () => launch(saxpy, p(), [x(), x()], [x()], [1, 1, 1, 1] as never),
        /^launch 'test\/saxpy': grid must be a workgroup count or \[x, y\?, z\?\], got \[1, 1, 1, 1\]/,
        EngineError,
      ],
      [
        'a grid over the limit',
        () => launch(saxpy, p(), [x(), x()], [x()], 70000),
        /^launch 'test\/saxpy': grid \[70000,1,1\] exceeds the adapter's 65535 workgroups per dimension/,
        LimitError,
      ],
    ])('%s', (_, run, message, type) => {
      expect(run).toThrow(type);
      expect(run).toThrow(message);
    });
  });

  it('assertCode refuses an empty message', () => {
    expect(() => assertCode('')).toThrow(/^assertCode: expected a non-empty message, got ''/);
  });
});
