/** Bad input throws an Error that names the op, the shapes and what was expected. */
import { describe, it, expect } from 'vitest';
import {
  tensor,
  zeros,
  concat,
  matmul,
  ShapeError,
  DTypeError,
  UseAfterDisposeError,
  LimitError,
  KernelError,
  engine,
} from '../../engine/index.ts';
import { useEngine } from './util.ts';

useEngine();

describe('errors', () => {
  it('mismatched shapes', () => {
    expect(() => zeros([2, 3]).add(zeros([4]))).toThrow(ShapeError);
    expect(() => zeros([2, 3]).add(zeros([4]))).toThrow(/add: shapes \[2,3\] and \[4\] cannot be broadcast/);
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/matmul: inner dimensions differ: a=\[2,3\] b=\[4,5\]/);
    expect(() => concat([zeros([2, 3]), zeros([2, 4])], 0)).toThrow(/concat: shapes \[2,3\], \[2,4\] differ outside axis 0/);
    expect(() => zeros([6]).reshape([4, 2])).toThrow(/reshape: cannot reshape \[6\] \(6 elements\) into \[4,2\]/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/tensor: 3 values do not fill shape \[2,2\]/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => zeros([2, -1])).toThrow(/zeros|full: invalid shape/);
  });

  it('bad axes', () => {
    expect(() => zeros([2, 3]).sum(2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => zeros([2, 3]).softmax(-3)).toThrow(/softmax: axis -3 is out of range/);
    expect(() => zeros([2, 3]).permute([0, 0])).toThrow(/permute: axes \[0,0\] are not a permutation/);
    expect(() => zeros([2, 3]).sum([1, 1])).toThrow(/repeated axis/);
    expect(() => zeros([2, 3]).squeeze(0)).toThrow(/squeeze: axis 0 of \[2,3\] has size 2, not 1/);
  });

  it('wrong dtypes', () => {
    const i = tensor(new Int32Array([1, 2]));
    expect(() => i.exp()).toThrow(DTypeError);
    expect(() => i.exp()).toThrow(/exp: expected a float tensor \(f32\), got i32\[2\]/);
    expect(() => i.add(zeros([2]))).toThrow(/add: dtypes differ: a is i32\[2\], b is f32\[2\]/);
    expect(() => zeros([3]).gather(zeros([1]))).toThrow(/gather: indices must be i32, got f32\[1\]/);
    expect(() => matmul(i, i)).toThrow(/matmul: expected a of dtype f32, got i32/);
    expect(() => tensor([1], undefined, { dtype: 'f64' as never })).toThrow(/unknown dtype 'f64'/);
    expect(() => tensor(new Int32Array([1]), undefined, { requiresGrad: true })).toThrow(/only f32 tensors can require gradients/);
  });

  it('reading or using a disposed tensor', async () => {
    const t = zeros([2]);
    t.dispose();
    t.dispose(); // idempotent
    await expect(t.data()).rejects.toThrow(UseAfterDisposeError);
    await expect(t.data()).rejects.toThrow(/data: tensor #\d+ f32\[2\] was disposed/);
    expect(() => t.add(1)).toThrow(/add: tensor #\d+ f32\[2\] was disposed/);
  });

  it('a tensor bigger than the adapter binding limit', () => {
    const max = Math.min(engine().limits.maxStorageBufferBindingSize, engine().limits.maxBufferSize);
    const n = Math.floor(max / 4) + 1;
    expect(() => zeros([n])).toThrow(LimitError);
    expect(() => zeros([n])).toThrow(
      new RegExp(`fill: a f32 tensor of shape \\[${n}\\] needs ${n * 4} bytes, more than the adapter's storage binding limit`),
    );
  });

  it('a WGSL compile error names the kernel and quotes the compiler', async () => {
    const spec = {
      key: 'test/broken-kernel',
      inputs: 0,
      outputs: 1,
      code: () => '@compute @workgroup_size(1) fn main() { let x: f32 = undefined_thing; }',
    };
    await expect(engine().compile(spec)).rejects.toThrow(KernelError);
    await expect(engine().compile(spec)).rejects.toThrow(/kernel 'test\/broken-kernel' failed to compile[\s\S]*undefined_thing/);
  });

  it('backward errors', async () => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(
      /backward: the output has shape \[3\]; backward without a seed gradient needs a single element/,
    );
    expect(() => zeros([1]).backward()).toThrow(/backward: tensor \[1\] has no graph/);
    const y = x.mul(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(/already freed by an earlier backward/);
  });
});
