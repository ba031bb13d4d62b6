/**
 * Cross-entropy over class logits with optional per-class weights and PyTorch's weighted-mean
 * reduction (F.cross_entropy(logits, target, weight)): one fused kernel each way.
 */
import { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d, gridRows } from '../kernels/wgsl/common.ts';
import { crossEntropyKernel, crossEntropyBackwardKernel } from '../kernels/wgsl/cross-entropy.wgsl.ts';
import { buf, checkTensor, checkFloat } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { sum } from './reduce.ts';
import { div } from './elementwise.ts';

export interface CrossEntropyOptions {
  /** Per-class weights [C] (no gradient flows to them, as in PyTorch). */
  weight?: Tensor;
}

/**
 * Σᵢ w[tᵢ]·(−log softmax(xᵢ)[tᵢ]) / Σᵢ w[tᵢ] for logits [N, C] and i32 class targets [N]; a rank-0
 * tensor. Without `weight` it is the plain mean. Like PyTorch, all-zero selected weights (or N = 0)
 * give 0/0 = NaN. A target outside [0, C) throws an IndexError at the next readback.
 * @example crossEntropy(logits, tensor(new Int32Array([2, 0])), { weight: tensor([1, 1, 0.1]) })
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkTensor(op, logits, 'logits');
  checkFloat(op, logits, 'logits');
  checkTensor(op, target, 'target');
  if (target.dtype !== 'i32') throw new DTypeError(`${op}: target must be i32 class indices, got ${target.dtype}${fmtShape(target.shape)}`);
  if (logits.rank !== 2 || logits.shape[1] === 0)
    throw new ShapeError(`${op}: logits must have shape [N,C] with C ≥ 1, got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (target.rank !== 1 || target.shape[0] !== n)
    throw new ShapeError(`${op}: target must have shape [${n}] for logits ${fmtShape(logits.shape)}, got ${fmtShape(target.shape)}`);
  const w = opts.weight;
  if (w) {
    checkTensor(op, w, 'weight');
    checkFloat(op, w, 'weight');
    if (w.rank !== 1 || w.shape[0] !== c)
      throw new ShapeError(`${op}: weight must have shape [${c}] for logits ${fmtShape(logits.shape)}, got ${fmtShape(w.shape)}`);
  }
  const rowLoss = Tensor.empty([n], 'f32', `${op}.rowLoss`);
  const rowWeight = Tensor.empty([n], 'f32', `${op}.rowWeight`);
  const rowLse = Tensor.empty([n], 'f32', `${op}.rowLse`);
  if (n > 0) {
    const code = rt().assertCode(`${op}: target at position {a} is outside the class range [0, ${c})`);
    const ins = w ? [logits, target, w] : [logits, target];
    rt().dispatch(
      crossEntropyKernel(!!w),
      new Params().u32(n, c, code).bytes(),
      [...ins, rowLoss, rowWeight, rowLse].map((t) => buf(op, t)),
      gridRows(n),
    );
  }
  const num = sum(rowLoss);
  const total = sum(rowWeight);
  const out = div(num, total);
  if (needsGrad(logits)) {
    record(
      op,
      [logits],
      out,
      (g, [x, t, rw, lse, tot]) => {
        const dx = Tensor.empty(x.shape, 'f32', `${op}.backward`);
        if (x.size > 0) {
          rt().dispatch(
            crossEntropyBackwardKernel(),
            new Params().u32(x.size, c).bytes(),
            [x, t, rw, lse, g, tot, dx].map((v) => buf(`${op}.backward`, v)),
            grid1d(x.size),
          );
        }
        return [dx];
      },
      [logits, target, rowWeight, rowLse, total],
    );
  }
  for (const t of [rowLoss, rowWeight, rowLse, num, total]) t.dispose();
  return out;
}
