/**
 * gather: index-select along an axis, `out.shape = x.shape[:axis] + indices.shape + x.shape[axis+1:]`
 * (negative indices count from the end, like NumPy's take). scatterAdd is its adjoint, and its backward.
 */
import { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { normAxis, sizeOf } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { gatherKernel, scatterAddKernel } from '../kernels/wgsl/gather.wgsl.ts';
import { buf, checkTensor, checkFloat, checkNotF16 } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';

function checkIndices(op: string, indices: Tensor): void {
  checkTensor(op, indices, 'indices');
  if (indices.dtype !== 'i32') throw new DTypeError(`${op}: indices must be i32, got ${indices.dtype}${fmtShape(indices.shape)}`);
}

/** Selects `indices` (i32, any shape) along `axis` of `x`. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  checkTensor('gather', x);
  checkNotF16('gather', x);
  checkIndices('gather', indices);
  if (x.rank === 0) throw new ShapeError('gather: cannot index a rank-0 tensor');
  const a = normAxis('gather', axis, x.rank);
  const outer = sizeOf(x.shape.slice(0, a)),
    d = x.shape[a],
    inner = sizeOf(x.shape.slice(a + 1));
  const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const out = Tensor.empty(outShape, x.dtype, 'gather');
  if (out.size > 0) {
    if (d === 0) throw new ShapeError(`gather: axis ${a} of ${fmtShape(x.shape)} is empty but ${indices.size} indices were given`);
    const code = rt().assertCode(`gather: index at position {a} is out of range for axis ${a} of size ${d} of ${fmtShape(x.shape)}`);
    const p = new Params().u32(out.size, inner, d, indices.size, code).bytes();
    rt().dispatch(gatherKernel(), p, [buf('gather', x), buf('gather', indices), buf('gather', out)], grid1d(out.size));
  }
  void outer;
  if (needsGrad(x)) {
    record(
      'gather',
      [x],
      out,
      (g, [idx]) => [scatterAdd(g.view([...x.shape.slice(0, a), idx.size, ...x.shape.slice(a + 1)]), idx.view([idx.size]), a, d)],
      [indices],
    );
  }
  return out;
}

/**
 * Sums slices of `src` into a zero tensor whose `axis` has `size` entries: out[…, indices[j], …] +=
 * src[…, j, …]. Deterministic (fixed summation order). `indices` is 1-D i32 of src.shape[axis].
 */
export function scatterAdd(src: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  checkTensor('scatterAdd', src, 'src');
  checkFloat('scatterAdd', src, 'src');
  checkIndices('scatterAdd', indices);
  const a = normAxis('scatterAdd', axis, src.rank);
  if (indices.rank !== 1 || indices.size !== src.shape[a]) {
    throw new ShapeError(
      `scatterAdd: indices ${fmtShape(indices.shape)} must be 1-D with ${src.shape[a]} entries (axis ${a} of src ${fmtShape(src.shape)})`,
    );
  }
  if (!Number.isInteger(size) || size < 0) throw new ShapeError(`scatterAdd: size ${size} must be a non-negative integer`);
  const inner = sizeOf(src.shape.slice(a + 1));
  const outShape = [...src.shape.slice(0, a), size, ...src.shape.slice(a + 1)];
  const out = Tensor.empty(outShape, 'f32', 'scatterAdd');
  if (out.size > 0) {
    const code = rt().assertCode(`scatterAdd: index at position {a} is out of range for an axis of size ${size}`);
    const p = new Params().u32(out.size, inner, size, indices.size, code).bytes();
    rt().dispatch(scatterAddKernel(), p, [buf('scatterAdd', src), buf('scatterAdd', indices), buf('scatterAdd', out)], grid1d(out.size));
  }
  if (needsGrad(src)) record('scatterAdd', [src], out, (g, [idx]) => [gather(g, idx, a)], [indices]);
  return out;
}
