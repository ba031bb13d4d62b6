/**
 * Shape and movement ops: reshape (free: shares storage), permute/transpose, slice, concat, pad,
 * broadcastTo, squeeze/expandDims — all copies through the one strided-copy kernel — with autograd.
 */
import { Tensor } from '../tensor.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import type { DType } from '../dtype.ts';
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  collapseDims,
  MAX_RANK,
  normAxis,
  normAxes,
  sizeOf,
  stridesOf,
  type Shape,
} from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { copyKernel, fillKernel, COPY_RUN } from '../kernels/wgsl/copy.wgsl.ts';
import { buf, checkTensor, checkNotF16 } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { sumToShape } from './reduce.ts';

/** Copies the region `shape` from src (offset, strides) to dst (offset, strides). */
export function copyRegion(
  op: string,
  src: Tensor,
  srcOff: number,
  srcStrides: number[],
  dst: Tensor,
  dstOff: number,
  dstStrides: number[],
  shape: Shape,
): void {
  checkNotF16(op, src); // the kernel moves 4-byte words
  const n = sizeOf(shape);
  if (n === 0) return;
  const c = collapseDims(shape, [srcStrides, dstStrides]);
  if (c.shape.length > MAX_RANK) throw new ShapeError(`${op}: rank ${c.shape.length} exceeds ${MAX_RANK}`);
  const rank = c.shape.length,
    last = c.shape[rank - 1];
  // CPU adapters: runs along the innermost axis when it is long enough to amortise the division.
  const run = rt().adapter.isSoftware && last >= COPY_RUN / 2;
  const invocations = run ? (n / last) * Math.ceil(last / COPY_RUN) : n;
  const p = new Params().u32(invocations, srcOff, dstOff).vec4Array(c.shape, 2).vec4Array(c.strides[0], 2).vec4Array(c.strides[1], 2);
  rt().dispatch(copyKernel(rank, run), p.bytes(), [buf(op, src), buf(op, dst)], grid1d(invocations));
}

/** A new tensor of `shape` with every element `value`. */
export function fillRaw(shape: Shape, value: number, dtype: DType): Tensor {
  const out = Tensor.empty(shape, dtype, 'fill');
  const n = out.size;
  if (n === 0) return out;
  const bits = new Uint32Array(1);
  if (dtype === 'f32') new Float32Array(bits.buffer)[0] = value;
  else if (dtype === 'i32') new Int32Array(bits.buffer)[0] = value;
  else bits[0] = value >>> 0;
  const p = new Params().u32(n, bits[0], 0, 0).bytes();
  rt().dispatch(fillKernel('fill', 'u32'), p, [buf('fill', out)], grid1d(n));
  return out;
}

/** start, start + step, … (n values) in dtype f32 or i32. */
export function arangeRaw(n: number, start: number, step: number, dtype: DType): Tensor {
  const out = Tensor.empty([n], dtype, 'arange');
  if (n === 0) return out;
  const p = new Params().u32(n, 0);
  if (dtype === 'f32') p.f32(start, step);
  else if (dtype === 'i32') p.i32(start, step);
  else p.u32(start, step);
  rt().dispatch(fillKernel('arange', dtype), p.bytes(), [buf('arange', out)], grid1d(n));
  return out;
}

/** Same data, new shape (one dimension may be −1). Shares storage: no copy. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  checkTensor('reshape', x);
  const s = [...shape];
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError(`reshape: at most one -1 allowed in ${fmtShape(shape)}`);
  if (neg === 1) {
    const rest = s.reduce((a, d) => (d === -1 ? a : a * d), 1);
    if (rest === 0 || x.size % rest !== 0)
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
    s[s.indexOf(-1)] = x.size / rest;
  }
  checkShape('reshape', s);
  if (sizeOf(s) !== x.size)
    throw new ShapeError(
      `reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${sizeOf(s)} elements)`,
    );
  const out = x.view(s);
  if (needsGrad(x)) record('reshape', [x], out, (g) => [g.view(x.shape)]);
  return out;
}

/** Permutation without autograd (internal). */
export function permuteRaw(x: Tensor, axes: number[]): Tensor {
  const outShape = axes.map((a) => x.shape[a]);
  const out = Tensor.empty(outShape, x.dtype, 'permute');
  const st = stridesOf(x.shape);
  copyRegion(
    'permute',
    x,
    0,
    axes.map((a) => st[a]),
    out,
    0,
    stridesOf(outShape),
    outShape,
  );
  return out;
}

/** Reorders axes: `out.shape[i] = x.shape[axes[i]]`. */
export function permute(x: Tensor, axes: number[]): Tensor {
  checkTensor('permute', x);
  if (axes.length !== x.rank)
    throw new ShapeError(`permute: ${axes.length} axes given for a tensor of rank ${x.rank} ${fmtShape(x.shape)}`);
  const norm = axes.map((a) => normAxis('permute', a, x.rank));
  if (new Set(norm).size !== norm.length) throw new ShapeError(`permute: axes ${JSON.stringify(axes)} are not a permutation`);
  const out = permuteRaw(x, norm);
  if (needsGrad(x)) {
    const inverse = new Array<number>(norm.length);
    norm.forEach((a, i) => (inverse[a] = i));
    record('permute', [x], out, (g) => [permuteRaw(g, inverse)]);
  }
  return out;
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  checkTensor('transpose', x);
  if (x.rank < 2 && axis0 === -2 && axis1 === -1)
    return permute(
      x,
      x.shape.map((_, i) => i),
    );
  const a = normAxis('transpose', axis0, x.rank),
    b = normAxis('transpose', axis1, x.rank);
  const axes = x.shape.map((_, i) => i);
  [axes[a], axes[b]] = [axes[b], axes[a]];
  return permute(x, axes);
}

/**
 * NumPy-style basic slicing per axis: `begin`, `end` (exclusive; negative counts from the end;
 * clamped like Python) and `step` ≥ 1. Missing trailing axes are taken whole.
 * @example x.slice([0, 1], [2, -1]) // x[0:2, 1:-1]
 */
export function slice(x: Tensor, begin: number[], end?: number[], step?: number[]): Tensor {
  checkTensor('slice', x);
  if (begin.length > x.rank || (end && end.length > x.rank) || (step && step.length > x.rank)) {
    throw new ShapeError(`slice: more indices than the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  const starts: number[] = [],
    sizes: number[] = [],
    steps: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d];
    const st = step?.[d] ?? 1;
    if (!Number.isInteger(st) || st < 1) throw new ShapeError(`slice: step ${st} on axis ${d} must be a positive integer`);
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const b = clamp(begin[d] ?? 0);
    const e = clamp(end?.[d] ?? n);
    starts.push(b);
    steps.push(st);
    sizes.push(Math.max(0, Math.ceil((e - b) / st)));
  }
  const out = Tensor.empty(sizes, x.dtype, 'slice');
  const st = stridesOf(x.shape);
  const off = starts.reduce((a, s, d) => a + s * st[d], 0);
  copyRegion(
    'slice',
    x,
    off,
    st.map((s, d) => s * steps[d]),
    out,
    0,
    stridesOf(sizes),
    sizes,
  );
  if (needsGrad(x)) {
    record('slice', [x], out, (g) => {
      const gx = fillRaw(x.shape, 0, g.dtype);
      copyRegion(
        'slice.backward',
        g,
        0,
        stridesOf(sizes),
        gx,
        off,
        st.map((s, d) => s * steps[d]),
        sizes,
      );
      return [gx];
    });
  }
  return out;
}

/** Joins tensors along an existing axis. */
export function concat(tensors: Tensor[], axis = 0): Tensor {
  if (!tensors.length) throw new ShapeError('concat: needs at least one tensor');
  tensors.forEach((t, i) => checkTensor('concat', t, `tensor ${i}`));
  const first = tensors[0];
  const ax = normAxis('concat', axis, first.rank);
  for (const t of tensors) {
    if (t.dtype !== first.dtype) throw new ShapeError(`concat: dtypes differ (${first.dtype} and ${t.dtype})`);
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${tensors.map((u) => fmtShape(u.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  const outShape = [...first.shape];
  outShape[ax] = tensors.reduce((a, t) => a + t.shape[ax], 0);
  const out = Tensor.empty(outShape, first.dtype, 'concat');
  const ost = stridesOf(outShape);
  let pos = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(pos);
    copyRegion('concat', t, 0, stridesOf(t.shape), out, pos * ost[ax], ost, t.shape);
    pos += t.shape[ax];
  }
  if (needsGrad(...tensors)) {
    record('concat', tensors, out, (g) =>
      tensors.map((t, i) => {
        const begin = outShape.map((_, d) => (d === ax ? offsets[i] : 0));
        const end = outShape.map((n, d) => (d === ax ? offsets[i] + t.shape[ax] : n));
        return slice(g, begin, end);
      }),
    );
  }
  return out;
}

/** Pads each axis with `[before, after]` elements of `value` (constant mode). */
export function pad(x: Tensor, padding: [number, number][], value = 0): Tensor {
  checkTensor('pad', x);
  if (padding.length !== x.rank || padding.some((p) => p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ShapeError(`pad: expected ${x.rank} pairs of non-negative integers for ${fmtShape(x.shape)}, got ${JSON.stringify(padding)}`);
  }
  const outShape = x.shape.map((d, i) => d + padding[i][0] + padding[i][1]);
  const out = fillRaw(outShape, value, x.dtype);
  const ost = stridesOf(outShape);
  const off = padding.reduce((a, p, d) => a + p[0] * ost[d], 0);
  copyRegion('pad', x, 0, stridesOf(x.shape), out, off, ost, x.shape);
  if (needsGrad(x)) {
    record('pad', [x], out, (g) => [
      slice(
        g,
        padding.map((p) => p[0]),
        x.shape.map((d, i) => padding[i][0] + d),
      ),
    ]);
  }
  return out;
}

/** Materialises NumPy broadcasting of `x` to `shape`. */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  checkTensor('broadcastTo', x);
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  const out = Tensor.empty(shape, x.dtype, 'broadcastTo');
  copyRegion('broadcastTo', x, 0, broadcastStrides(x.shape, shape), out, 0, stridesOf(shape), shape);
  if (needsGrad(x)) record('broadcastTo', [x], out, (g) => [sumToShape(g, x.shape)]);
  return out;
}

/** Drops size-1 axes (the given ones, or all). */
export function squeeze(x: Tensor, axis?: number | number[]): Tensor {
  checkTensor('squeeze', x);
  const axes = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes('squeeze', axis, x.rank);
  for (const a of axes)
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** Inserts a size-1 axis at `axis` (−1 appends). */
export function expandDims(x: Tensor, axis: number): Tensor {
  checkTensor('expandDims', x);
  const a = normAxis('expandDims', axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** A copy with its own storage. */
export function clone(x: Tensor): Tensor {
  checkTensor('clone', x);
  checkNotF16('clone', x);
  const out = Tensor.empty(x.shape, x.dtype, 'clone');
  if (x.size) rt().copyBuffer(buf('clone', x), 0, buf('clone', out), 0, x.size * 4);
  if (needsGrad(x)) record('clone', [x], out, (g) => [g.view(g.shape)]);
  return out;
}
