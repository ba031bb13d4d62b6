/** Creating tensors: from host data, constants, ranges and the seeded GPU random generator. */
import { Tensor, type NestedArray } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { type DType, type AnyTypedArray, allocTypedArray, dtypeOfArray, f32ArrayToF16Bits, requireF16 } from '../dtype.ts';
import { checkShape, sizeOf, type Shape } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { randomKernel, type RandomKind } from '../kernels/wgsl/philox.wgsl.ts';
import { seedKey } from '../reference/random.ts';
import { buf } from './run.ts';
import { fillRaw, arangeRaw } from './movement.ts';
import { cast } from './elementwise.ts';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function checkDtype(op: string, dtype: string, f16 = false): asserts dtype is DType {
  if (f16 && dtype === 'f16') return requireF16(op);
  if (dtype !== 'f32' && dtype !== 'i32' && dtype !== 'u32')
    throw new DTypeError(`${op}: unknown dtype '${dtype}' (expected f32, i32${f16 ? ', u32 or f16' : ' or u32'})`);
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== 'number')
      throw new ShapeError(`tensor: ragged nested array: expected a number at depth ${dim} for shape ${fmtShape(shape)}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new ShapeError(`tensor: ragged nested array: expected ${shape[dim]} entries at depth ${dim} for shape ${fmtShape(shape)}`);
  }
  for (const v of data) flattenInto(v, shape, dim + 1, out);
}

/**
 * A tensor from a typed array (dtype from its type), a flat number array with a shape, nested
 * arrays (shape inferred) or a number (rank 0).
 * @example tensor([[1, 2, 3], [4, 5, 6]]); tensor(new Int32Array([1, 2]), [2]);
 */
export function tensor(data: AnyTypedArray | NestedArray, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: AnyTypedArray | number[];
  let s: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array || data instanceof Uint16Array)) {
      throw new DTypeError(
        `tensor: unsupported typed array ${(data as object).constructor.name} (use Float32Array, Int32Array, Uint32Array, or Uint16Array of f16 bits)`,
      );
    }
    flat = data;
    s = shape ? [...shape] : [data.length];
    dtype = opts.dtype ?? dtypeOfArray(data);
  } else if (typeof data === 'number') {
    flat = [data];
    s = shape ? [...shape] : [];
    dtype = opts.dtype ?? 'f32';
  } else if (Array.isArray(data)) {
    const inferred = inferShape(data);
    const values: number[] = [];
    flattenInto(data, inferred, 0, values);
    flat = values;
    s = shape ? [...shape] : inferred;
    dtype = opts.dtype ?? 'f32';
  } else {
    throw new DTypeError(`tensor: cannot make a tensor from ${typeof data}`);
  }
  checkDtype('tensor', dtype, true);
  checkShape('tensor', s);
  if (sizeOf(s) !== flat.length)
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(s)} (${sizeOf(s)} elements)`);
  let typed: AnyTypedArray;
  if (ArrayBuffer.isView(flat) && dtypeOfArray(flat) === dtype) typed = flat;
  else if (dtype === 'f16')
    typed = f32ArrayToF16Bits(flat); // values → f16 bits, round to nearest even
  else {
    typed = allocTypedArray(dtype, flat.length);
    typed.set(flat as ArrayLike<number>);
  }
  const t = Tensor.fromTyped(typed, s, dtype);
  if (opts.requiresGrad) requireFloatGrad('tensor', t);
  return t;
}

function requireFloatGrad(op: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new DTypeError(`${op}: only f32 tensors can require gradients, got ${t.dtype}`);
  t.requiresGrad = true;
}

function made(op: string, t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) requireFloatGrad(op, t);
  return t;
}

function shapeArg(op: string, shape: Shape): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`${op}: shape must be an array of integers, got ${JSON.stringify(shape)}`);
  checkShape(op, shape);
  return [...shape];
}

/** @example full([2, 3], 7) */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'f32';
  checkDtype('full', dtype, true);
  if (dtype !== 'f32' && dtype !== 'f16' && !Number.isInteger(value))
    throw new DTypeError(`full: ${value} is not an integer for dtype ${dtype}`);
  if (dtype === 'f16') {
    // filled in f32, then rounded to f16 by the cast kernel
    const f = fillRaw(shapeArg('full', shape), value, 'f32');
    const h = cast(f, 'f16');
    f.dispose();
    return made('full', h, opts);
  }
  return made('full', fillRaw(shapeArg('full', shape), value, dtype), opts);
}
export const zeros = (shape: Shape, opts: CreateOptions = {}) => full(shape, 0, opts);
export const ones = (shape: Shape, opts: CreateOptions = {}) => full(shape, 1, opts);
export const zerosLike = (t: Tensor) => full(t.shape, 0, { dtype: t.dtype });
export const onesLike = (t: Tensor) => full(t.shape, 1, { dtype: t.dtype });

/**
 * Values from `start` (inclusive) to `stop` (exclusive) by `step`, like NumPy's arange. With one
 * argument it is `stop`. dtype i32 when all arguments are integers and no dtype is given, else f32.
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dtype = opts.dtype ?? ([start, stop, step].every(Number.isInteger) ? 'i32' : 'f32');
  checkDtype('arange', dtype);
  return made('arange', arangeRaw(n, start, step, dtype), opts);
}

export interface RandomOptions extends CreateOptions {
  /** Same seed → same numbers on every run, adapter and runtime. Omitted: the global generator. */
  seed?: number;
}

let globalSeed = 0;
let globalStream = 1;

/** Re-seeds the global generator used by random calls without a seed. */
export function setSeed(seed: number): void {
  globalSeed = seed;
  globalStream = 1;
}

function random(op: string, kind: RandomKind, shape: Shape, scale: number, shift: number, opts: RandomOptions): Tensor {
  const s = shapeArg(op, shape);
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > Number.MAX_SAFE_INTEGER)) {
    throw new ShapeError(`${op}: seed must be a non-negative integer, got ${opts.seed}`);
  }
  const [key0, key1] = seedKey(opts.seed ?? globalSeed);
  const stream = opts.seed !== undefined ? 0 : globalStream++;
  const out = Tensor.empty(s, kind === 'bits' ? 'u32' : 'f32', op);
  const n = out.size;
  if (n > 0) {
    const p = new Params().u32(n, stream, key0, key1).f32(scale, shift).bytes();
    rt().dispatch(randomKernel(kind), p, [buf(op, out)], grid1d(Math.ceil(n / 4)));
  }
  return made(op, out, opts);
}

/** Uniform in [low, high) (default [0, 1)), f32, generated on the GPU. */
export function rand(shape: Shape, opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const low = opts.low ?? 0,
    high = opts.high ?? 1;
  return random('rand', 'uniform', shape, high - low, low, opts);
}

/** Normal with `mean` (0) and `std` (1), f32, generated on the GPU (Philox + Box–Muller). */
export function randn(shape: Shape, opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  return random('randn', 'normal', shape, opts.std ?? 1, opts.mean ?? 0, opts);
}

/** Raw Philox u32 words (for seeding, dropout masks and tests). */
export function randomBits(shape: Shape, opts: RandomOptions = {}): Tensor {
  return random('randomBits', 'bits', shape, 1, 0, opts);
}
