/** Softmax and log-softmax along an axis (last by default), with a fused backward kernel. */
import { Tensor } from '../tensor.ts';
import { normAxis } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d, gridRows } from '../kernels/wgsl/common.ts';
import {
  softmaxKernel,
  softmaxBackwardKernel,
  softmaxRowKernel,
  softmaxRowBackwardKernel,
  SOFTMAX_ROW_THREAD_MAX,
} from '../kernels/wgsl/softmax.wgsl.ts';
import { buf, checkTensor, checkFloat } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { permute, reshape } from './movement.ts';
import { useSubgroups } from './reduce.ts';

function lastAxis(op: string, x: Tensor, log: boolean): Tensor {
  const len = x.shape[x.rank - 1] ?? 1;
  const rows = len === 0 ? 0 : x.size / len;
  const out = Tensor.empty(x.shape, 'f32', op);
  // short rows: one invocation per row; long rows: a workgroup per row
  const perRow = len <= SOFTMAX_ROW_THREAD_MAX;
  if (rows > 0)
    rt().dispatch(
      perRow ? softmaxRowKernel(log) : softmaxKernel(log, useSubgroups()),
      new Params().u32(rows, len).bytes(),
      [buf(op, x), buf(op, out)],
      perRow ? grid1d(rows, 64) : gridRows(rows),
    );
  if (needsGrad(x)) {
    record(
      op,
      [x],
      out,
      (g, [y]) => {
        const dx = Tensor.empty(y.shape, 'f32', `${op}.backward`);
        if (rows > 0)
          rt().dispatch(
            perRow ? softmaxRowBackwardKernel(log) : softmaxBackwardKernel(log, useSubgroups()),
            new Params().u32(rows, len).bytes(),
            [buf(op, y), buf(op, g), buf(op, dx)],
            perRow ? grid1d(rows, 64) : gridRows(rows),
          );
        return [dx];
      },
      [out],
    );
  }
  return out;
}

function along(op: string, x: Tensor, axis: number, log: boolean): Tensor {
  checkTensor(op, x);
  checkFloat(op, x);
  if (x.rank === 0) {
    // Through reshape (not view) so that autograd follows; the result is 1 (0 for log), its gradient 0.
    const x1 = reshape(x, [1]);
    const y1 = lastAxis(op, x1, log);
    const out = reshape(y1, []);
    x1.dispose();
    y1.dispose();
    return out;
  }
  const a = normAxis(op, axis, x.rank);
  if (a === x.rank - 1) return lastAxis(op, x, log);
  // Other axes: move it last, apply, move back (autograd flows through the permutes).
  const perm = x.shape.map((_, i) => i);
  perm.splice(a, 1);
  perm.push(a);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  const moved = permute(x, perm);
  const y = lastAxis(op, moved, log);
  const out = permute(y, inv);
  moved.dispose();
  y.dispose();
  return out;
}

/** exp(x − max) / Σ exp(x − max) along `axis`. */
export const softmax = (x: Tensor, axis = -1) => along('softmax', x, axis, false);
/** x − max − log Σ exp(x − max) along `axis`. */
export const logSoftmax = (x: Tensor, axis = -1) => along('logSoftmax', x, axis, true);
