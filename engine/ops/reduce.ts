/** Reductions along any axes (or all): sum, mean, max, min, variance, argmax, argmin — with autograd. */
import { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { normAxes, normAxis, sameShape, sizeOf, type Shape } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d, gridRows } from '../kernels/wgsl/common.ts';
import { reduceKernel, type ReduceKind } from '../kernels/wgsl/reduce.wgsl.ts';
import { buf, checkTensor, checkFloat, checkNotF16 } from './run.ts';
import { record, needsGrad, noGrad } from '../autograd/node.ts';
import { permuteRaw, broadcastTo, fillRaw } from './movement.ts';
import * as ew from './elementwise.ts';

/**
 * Whether row kernels use subgroup operations (key suffix '/sg'): the adapter feature 'subgroups'
 * (not disabled by init) and WGSL's `subgroup_id` builtin, which numbers subgroups portably.
 */
export function useSubgroups(): boolean {
  const r = rt();
  if (!r.hasFeature('subgroups')) return false;
  const gpu = r.instance as { wgslLanguageFeatures?: ReadonlySet<string> } | null;
  return !!gpu?.wgslLanguageFeatures?.has('subgroup_id');
}

/** Rows of ≤ this length use one thread per row (see reduce.wgsl.ts). */
const THREAD_PER_ROW_MAX = 32;

/** Reduces `x` over `axes` (sorted, normalised): moves them last (copy if needed), then row-reduces. */
function reduceRaw(kind: ReduceKind, x: Tensor, axes: number[], correction = 0): { out: Tensor; keptShape: number[] } {
  checkNotF16(kind, x);
  const keep = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const keptShape = keep.map((d) => x.shape[d]);
  const len = axes.reduce((n, d) => n * x.shape[d], 1);
  const rows = sizeOf(keptShape);
  const outDtype = kind === 'argmax' || kind === 'argmin' ? 'i32' : x.dtype;
  if (len === 0 && (kind === 'max' || kind === 'min' || kind === 'argmax' || kind === 'argmin') && rows > 0) {
    throw new ShapeError(`${kind}: cannot reduce a zero-size axis of shape ${fmtShape(x.shape)} (no identity)`);
  }
  const out = Tensor.empty(keptShape, outDtype, kind);
  if (rows === 0) return { out, keptShape };
  // A contiguous block of axes is the middle of an [outer, len, inner] view: no copy. Otherwise
  // the reduced axes are moved last first.
  const contiguous = axes.length === 0 || axes.every((d, i) => d === axes[0] + i);
  const src = contiguous ? x : permuteRaw(x, [...keep, ...axes]);
  const inner = contiguous && axes.length ? sizeOf(x.shape.slice(axes[axes.length - 1] + 1)) : 1;
  try {
    // One invocation per row when rows are short, or plentiful and not too long: a 256-thread
    // workgroup per row mostly waits in barriers on CPU adapters (bias gradients, [64 rows × 432]:
    // 1.1 ms per reduction as workgroups).
    const perThread = len <= THREAD_PER_ROW_MAX || (rows >= 64 && len <= 4096);
    const p = new Params().u32(rows, len).f32(correction).u32(inner).bytes();
    rt().dispatch(
      reduceKernel(kind, x.dtype, perThread, useSubgroups()),
      p,
      [buf(kind, src), buf(kind, out)],
      perThread ? grid1d(rows) : gridRows(rows),
    );
  } finally {
    if (src !== x) src.dispose();
  }
  return { out, keptShape };
}

function keptDimsShape(shape: Shape, axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/**
 * The reduced tensor in its final shape (size-1 axes kept when keepDims). Ops record their backward
 * on this result, not on the raw one: a view made after record() would leave the graph behind.
 */
function finish(out: Tensor, x: Tensor, axes: number[], keepDims: boolean): Tensor {
  if (!keepDims) return out;
  const r = out.view(keptDimsShape(x.shape, axes));
  out.dispose();
  return r;
}

/** The gradient of a reduction's output broadcast back to the input's shape. */
function expandGrad(g: Tensor, x: Shape, axes: number[]): Tensor {
  const gk = g.view(keptDimsShape(x, axes));
  try {
    return broadcastTo(gk, [...x]);
  } finally {
    gk.dispose();
  }
}

/** Sum of elements over `axis` (number, list, or all when omitted). */
export function sum(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  checkTensor('sum', x);
  const axes = normAxes('sum', axis, x.rank);
  const out = finish(reduceRaw('sum', x, axes).out, x, axes, keepDims);
  if (needsGrad(x)) record('sum', [x], out, (g) => [expandGrad(g, x.shape, axes)]);
  return out;
}

export function mean(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  checkTensor('mean', x);
  checkFloat('mean', x);
  const axes = normAxes('mean', axis, x.rank);
  const out = finish(reduceRaw('mean', x, axes).out, x, axes, keepDims);
  const n = axes.reduce((a, d) => a * x.shape[d], 1);
  if (needsGrad(x))
    record('mean', [x], out, (g) => {
      const e = expandGrad(g, x.shape, axes);
      const r = e.div(n);
      e.dispose();
      return [r];
    });
  return out;
}

function extreme(kind: 'max' | 'min', x: Tensor, axis: number | number[] | undefined, keepDims: boolean): Tensor {
  checkTensor(kind, x);
  const axes = normAxes(kind, axis, x.rank);
  const out = finish(reduceRaw(kind, x, axes).out, x, axes, keepDims);
  if (needsGrad(x)) {
    // The gradient is shared evenly among the elements equal to the extreme (like torch.amax).
    record(
      kind,
      [x],
      out,
      (g, [xs, y]) => {
        const ye = expandGrad(y, xs.shape, axes);
        const mask = xs.eq(ye);
        const count = expandGrad(sum(mask, axes), xs.shape, axes);
        const ge = expandGrad(g, xs.shape, axes);
        return [ge.mul(mask).div(count)];
      },
      [x, out],
    );
  }
  return out;
}

export const max = (x: Tensor, axis?: number | number[], keepDims = false) => extreme('max', x, axis, keepDims);
export const min = (x: Tensor, axis?: number | number[], keepDims = false) => extreme('min', x, axis, keepDims);

/** Variance with NumPy's `ddof` as `correction` (0: population variance; 1: sample variance). */
export function variance(x: Tensor, axis?: number | number[], keepDims = false, correction = 0): Tensor {
  checkTensor('variance', x);
  checkFloat('variance', x);
  const axes = normAxes('variance', axis, x.rank);
  const out = finish(reduceRaw('variance', x, axes, correction).out, x, axes, keepDims);
  const n = axes.reduce((a, d) => a * x.shape[d], 1);
  if (needsGrad(x)) {
    // d var / dx = 2 (x − mean) / (n − correction)
    record(
      'variance',
      [x],
      out,
      (g, [xs]) => {
        const m = expandGrad(
          noGrad(() => mean(xs, axes)),
          xs.shape,
          axes,
        );
        return [
          expandGrad(g, xs.shape, axes)
            .mul(xs.sub(m))
            .mul(2 / Math.max(n - correction, 0)),
        ];
      },
      [x],
    );
  }
  return out;
}

function argExtreme(kind: 'argmax' | 'argmin', x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  checkTensor(kind, x);
  if (axis === undefined) {
    const flat = x.view([x.size]);
    try {
      return reduceRaw(kind, flat, [0]).out;
    } finally {
      flat.dispose();
    }
  }
  const a = normAxis(kind, axis, x.rank);
  return finish(reduceRaw(kind, x, [a]).out, x, [a], keepDims);
}

/** Index (i32) of the largest element along `axis` (of the flattened tensor when omitted); first wins ties. */
export const argmax = (x: Tensor, axis?: number, keepDims = false) => argExtreme('argmax', x, axis, keepDims);
export const argmin = (x: Tensor, axis?: number, keepDims = false) => argExtreme('argmin', x, axis, keepDims);

/** Sums a broadcast gradient back to `shape` (the adjoint of broadcasting). Always a new tensor. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g.view(shape);
  const lead = g.rank - shape.length;
  if (lead < 0) throw new ShapeError(`sumToShape: gradient ${fmtShape(g.shape)} has lower rank than ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let d = 0; d < g.rank; d++) if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) axes.push(d);
  const s = noGrad(() => sum(g, axes, false));
  const r = s.view(shape);
  s.dispose();
  return r;
}

/** A tensor of `shape` filled with `value` (internal helper for reductions of empty axes). */
export function full(shape: Shape, value: number, dtype: Tensor['dtype'] = 'f32'): Tensor {
  if (dtype !== 'f32' && !Number.isInteger(value)) throw new DTypeError(`full: ${value} is not an integer for dtype ${dtype}`);
  return fillRaw(shape, value, dtype);
}

void ew;
