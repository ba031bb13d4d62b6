/** Elementwise ops on the GPU from the table in elementwise.table.ts, with autograd. */
import { Tensor, type TensorLike } from '../tensor.ts';
import { DTypeError, fmtShape } from '../errors.ts';
import { type DType, requireF16 } from '../dtype.ts';
import { broadcastShapes } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { unaryKernel, binaryKernel, whereKernel } from '../kernels/wgsl/elementwise.wgsl.ts';
import { UNARY, BINARY, type UnaryOp, type BinaryOp } from './elementwise.table.ts';
import { buf, checkTensor, checkNotF16, operands, launchStrided, bstrides, scalarTensor } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { sumToShape } from './reduce.ts';

export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkTensor(op, x);
  const def = UNARY[op];
  if (def.floatOnly && x.dtype !== 'f32') throw new DTypeError(`${op}: expected a float tensor (f32), got ${x.dtype}${fmtShape(x.shape)}`);
  if (x.dtype === 'u32' && (op === 'neg' || op === 'abs' || op === 'sign')) throw new DTypeError(`${op}: not defined for u32 tensors`);
  const out = Tensor.empty(x.shape, x.dtype, op);
  if (x.size > 0) {
    rt().dispatch(
      unaryKernel(op, def.wgsl, x.dtype, x.dtype),
      new Params().u32(x.size).bytes(),
      [buf(op, x), buf(op, out)],
      grid1d(x.size),
    );
  }
  const grad = def.grad;
  if (grad !== 'none' && needsGrad(x)) {
    record(op, [x], out, (g, [xs, ys]) => [grad(xs, ys, g)], [x, out]);
  }
  return out;
}

export function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands(op, a, b);
  const def = BINARY[op];
  if (def.floatOnly && ta.dtype !== 'f32') throw new DTypeError(`${op}: expected float tensors (f32), got ${ta.dtype}`);
  const outShape = broadcastShapes(op, ta.shape, tb.shape);
  const outDtype: DType = def.compare ? 'f32' : ta.dtype;
  const body = ta.dtype !== 'f32' && def.wgslInt ? def.wgslInt : def.wgsl;
  const out = Tensor.empty(outShape, outDtype, op);
  launchStrided(
    op,
    (rank) => binaryKernel(op, body, ta.dtype, outDtype, rank),
    [
      { t: ta, strides: bstrides(ta, outShape) },
      { t: tb, strides: bstrides(tb, outShape) },
    ],
    out,
    outShape,
  );
  const grad = def.grad;
  if (grad !== 'none' && needsGrad(ta, tb)) {
    record(
      op,
      [ta, tb],
      out,
      (g, [sa, sb, y]) => {
        const [ga, gb] = grad(sa, sb, y, g);
        return [ga && sumToShape(ga, sa.shape), gb && sumToShape(gb, sb.shape)];
      },
      [ta, tb, out],
    );
  }
  return out;
}

/** `cond ? a : b` elementwise with broadcasting; cond of any dtype (non-zero is true). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor('where', cond, 'cond');
  checkNotF16('where', cond, 'cond');
  const [ta, tb] = operands('where', a, b);
  const outShape = broadcastShapes('where', cond.shape, ta.shape, tb.shape);
  const out = Tensor.empty(outShape, ta.dtype, 'where');
  launchStrided(
    'where',
    (rank) => whereKernel(cond.dtype, ta.dtype, rank),
    [
      { t: cond, strides: bstrides(cond, outShape) },
      { t: ta, strides: bstrides(ta, outShape) },
      { t: tb, strides: bstrides(tb, outShape) },
    ],
    out,
    outShape,
  );
  if (needsGrad(ta, tb)) {
    record(
      'where',
      [ta, tb],
      out,
      (g, [c, sa, sb]) => {
        const zero = scalarTensor(0, g.dtype);
        return [sumToShape(where(c, g, zero), sa.shape), sumToShape(where(c, zero, g), sb.shape)];
      },
      [cond, ta, tb],
    );
  }
  return out;
}

/**
 * Converts to another dtype (f32 → int truncates toward zero, saturating). Casts between f32 and
 * f16 carry the gradient straight through (d cast(x)/dx = 1; gradients stay f32, f16 being storage
 * only), so f32 parameters can feed f16 operands of matmul and attention; integer tensors cannot
 * require one.
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', x);
  if (!['f32', 'i32', 'u32', 'f16'].includes(dtype)) throw new DTypeError(`cast: unknown dtype '${dtype}' (expected f32, i32, u32 or f16)`);
  if (x.dtype === dtype) {
    // The identity: a view, but on the graph (a bare view would silently detach it).
    const same = x.view(x.shape);
    if (needsGrad(x)) record('cast', [x], same, (g) => [g.view(g.shape)]);
    return same;
  }
  const half = dtype === 'f16' || x.dtype === 'f16';
  if (half) requireF16('cast');
  const out = Tensor.empty(x.shape, dtype, 'cast');
  const spec = unaryKernel(`cast`, `${dtype}(x)`, x.dtype, dtype);
  if (half) {
    const code = spec.code;
    spec.code = () => `enable f16;\n${code()}`;
  } // f32 → f16: the driver rounds to a neighbour
  if (x.size > 0) rt().dispatch(spec, new Params().u32(x.size).bytes(), [buf('cast', x), buf('cast', out)], grid1d(x.size));
  const floats = (t: DType) => t === 'f32' || t === 'f16';
  if (floats(x.dtype) && floats(dtype) && needsGrad(x))
    record('cast', [x], out, (g) => [g.dtype === 'f32' ? g.view(g.shape) : cast(g, 'f32')]);
  return out;
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const sign = (x: Tensor): Tensor => unary('sign', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const geluGrad = (x: Tensor): Tensor => unary('geluGrad', x);
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', a, b);
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', a, b);
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', a, b);
