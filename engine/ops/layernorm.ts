/** Layer norm over the last axis, one fused kernel each way (see kernels/wgsl/layernorm.wgsl.ts). */
import { Tensor } from '../tensor.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d, gridRows } from '../kernels/wgsl/common.ts';
import {
  layerNormKernel,
  layerNormBackwardKernel,
  layerNormParamGradKernel,
  layerNormRowKernel,
  layerNormRowBackwardKernel,
  ROW_THREAD_MAX,
} from '../kernels/wgsl/layernorm.wgsl.ts';
import { buf, checkTensor, checkFloat } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { useSubgroups } from './reduce.ts';

/**
 * (x − mean) / sqrt(var + eps) · weight + bias over the last axis; weight and bias are [D] (or null).
 * @example x.layerNorm(gamma, beta, 1e-6)
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkTensor('layerNorm', x);
  checkFloat('layerNorm', x);
  if (x.rank === 0) throw new ShapeError('layerNorm: input must have rank ≥ 1');
  const d = x.shape[x.rank - 1];
  const affine = weight !== null || bias !== null;
  if (affine && (!weight || !bias)) throw new ShapeError('layerNorm: give both weight and bias, or neither');
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (!t) continue;
    checkTensor('layerNorm', t, name);
    checkFloat('layerNorm', t, name);
    if (t.rank !== 1 || t.shape[0] !== d)
      throw new ShapeError(`layerNorm: ${name} must have shape [${d}] for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`);
  }
  if (!(eps >= 0)) throw new ShapeError(`layerNorm: eps must be ≥ 0, got ${eps}`);
  const rows = d === 0 ? 0 : x.size / d;
  const out = Tensor.empty(x.shape, 'f32', 'layerNorm');
  const mean = Tensor.empty([rows], 'f32', 'layerNorm.mean');
  const rstd = Tensor.empty([rows], 'f32', 'layerNorm.rstd');
  if (rows > 0) {
    const ins = affine ? [x, weight!, bias!] : [x];
    const perRow = d <= ROW_THREAD_MAX;
    rt().dispatch(
      perRow ? layerNormRowKernel(affine) : layerNormKernel(affine, useSubgroups()),
      new Params().u32(rows, d).f32(eps).bytes(),
      [...ins, out, mean, rstd].map((t) => buf('layerNorm', t)),
      perRow ? grid1d(rows, 64) : gridRows(rows),
    );
  }
  const inputs = affine ? [x, weight!, bias!] : [x];
  if (needsGrad(...inputs)) {
    record(
      'layerNorm',
      inputs,
      out,
      (g, [xs, m, r, w]) => {
        const dx = Tensor.empty(xs.shape, 'f32', 'layerNorm.dx');
        if (rows > 0) {
          const ins = affine ? [xs, g, m, r, w] : [xs, g, m, r];
          const perRow = d <= ROW_THREAD_MAX;
          rt().dispatch(
            perRow ? layerNormRowBackwardKernel(affine) : layerNormBackwardKernel(affine, useSubgroups()),
            new Params().u32(rows, d).bytes(),
            [...ins, dx].map((t) => buf('layerNorm.backward', t)),
            perRow ? grid1d(rows, 64) : gridRows(rows),
          );
        }
        if (!affine) return [dx];
        const dw = Tensor.empty([d], 'f32', 'layerNorm.dw');
        const db = Tensor.empty([d], 'f32', 'layerNorm.db');
        if (d > 0)
          rt().dispatch(
            layerNormParamGradKernel(),
            new Params().u32(rows, d).bytes(),
            [xs, g, m, r, dw, db].map((t) => buf('layerNorm.backward', t)),
            grid1d(d),
          );
        return [dx, dw, db];
      },
      affine ? [x, mean, rstd, weight!] : [x, mean, rstd],
    );
  }
  mean.dispose();
  rstd.dispose();
  return out;
}
