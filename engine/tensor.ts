/**
 * The Tensor: a shape, a dtype and contiguous row-major storage in a pooled GPU buffer. Methods are
 * thin wrappers over the op functions in `ops/`, so `x.gelu()` and `gelu(x)` are the same op.
 *
 * Import cycle: this file imports the ops and autograd/backward.ts, and they import `Tensor` from
 * here. ES modules allow that because neither side touches the other's exports while its module is
 * being evaluated: here the ops and `backward` are used only inside methods, there `Tensor` only
 * inside functions, i.e. at call time, when every module has finished loading. Never use an import
 * of the cycle at module evaluation — no `class X extends Tensor`, `instanceof Tensor`, tensor
 * creation or op call at the top level of an op or autograd file (nor a top-level call here into
 * them): whichever module loads first would see the other's bindings uninitialised.
 */
import { type DType, type AnyTypedArray, typedArrayFor, bytesPerElement } from './dtype.ts';
import { fmtShape, LimitError, ShapeError, UseAfterDisposeError } from './errors.ts';
import { type Shape, sizeOf } from './shape.ts';
import { Storage } from './storage.ts';
import { rt, DEBUG } from './runtime.ts';
import { track, untrack } from './scope.ts';
import type { GradNode } from './autograd/node.ts';
import { backward as backpropagate } from './autograd/backward.ts';
import * as ew from './ops/elementwise.ts';
import * as red from './ops/reduce.ts';
import * as mv from './ops/movement.ts';
import * as sm from './ops/softmax.ts';
import * as mm from './ops/matmul.ts';
import * as ga from './ops/gather.ts';
import * as ln from './ops/layernorm.ts';

let nextId = 1;

// Safety net: a tensor collected without dispose() gives its storage back (and says so under DEBUG).
const finalizer = new FinalizationRegistry<{ storage: Storage; label: string }>((held) => {
  if (DEBUG) console.warn(`[engine] tensor ${held.label} was garbage-collected without dispose()`);
  try {
    held.storage.release();
    rt().liveTensors--;
  } catch {
    /* engine already disposed */
  }
});

export type Scalar = number;
export type TensorLike = Tensor | number;
export type NestedArray = number | NestedArray[];

export class Tensor {
  readonly __isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  private _storage: Storage | null;
  /** Whether gradients flow to this tensor (leaf) or through it (op result). */
  requiresGrad = false;
  /** Accumulated gradient after `backward()` (leaves with requiresGrad). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, when recorded. */
  gradNode: GradNode | null = null;
  /** Bumped by in-place updates, so autograd can refuse stale saved tensors. */
  version = 0;
  label?: string;

  /** @internal Use the creation functions (tensor, zeros, randn…) instead. */
  constructor(shape: Shape, dtype: DType, storage: Storage) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this._storage = storage;
    const r = rt();
    r.liveTensors++;
    finalizer.register(this, { storage, label: `#${this.id} ${dtype}${fmtShape(shape)}` }, this);
    track(this);
  }

  /** Allocates an uninitialised tensor (internal: kernels fill it). */
  static empty(shape: Shape, dtype: DType, op = 'alloc'): Tensor {
    const r = rt();
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    checkBindingLimit(op, shape, dtype, bytes);
    return new Tensor(shape, dtype, new Storage(r.pool.acquire(bytes, `${op} ${dtype}${fmtShape(shape)}`), bytes));
  }

  /** Uploads host data into a new tensor. */
  static fromTyped(data: AnyTypedArray, shape: Shape, dtype: DType): Tensor {
    const r = rt();
    const bytes = sizeOf(shape) * bytesPerElement(dtype);
    checkBindingLimit('tensor', shape, dtype, bytes);
    const pb = r.acquireForUpload(bytes, `tensor ${dtype}${fmtShape(shape)}`);
    r.upload(pb, data);
    return new Tensor(shape, dtype, new Storage(pb, bytes));
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this._storage === null;
  }

  /** @internal The storage, checked for use after dispose. */
  storageFor(op: string): Storage {
    if (!this._storage) throw new UseAfterDisposeError(`${op}: tensor #${this.id} ${this.dtype}${fmtShape(this.shape)} was disposed`);
    return this._storage;
  }

  /** @internal A new handle on the same storage with another shape (same size). */
  view(shape: Shape): Tensor {
    const s = this.storageFor('view').retain();
    return new Tensor(shape, this.dtype, s);
  }

  /** Frees the GPU storage (when no other view or autograd node holds it). Idempotent. */
  dispose(): void {
    const s = this._storage;
    if (!s) return;
    this._storage = null;
    finalizer.unregister(this);
    untrack(this);
    s.release();
    rt().liveTensors--;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    // gradNode stays: a disposed intermediate still links its graph until backward frees it.
  }

  /** Copies the values to the host: Float32Array for f32, Int32Array for i32, Uint32Array for u32. */
  async data(): Promise<AnyTypedArray> {
    const s = this.storageFor('data');
    const buf = await rt().read(s.pb, this.size * bytesPerElement(this.dtype));
    return typedArrayFor(this.dtype, buf, 0, this.size);
  }

  /** The values as nested arrays (a number for rank 0). */
  async array(): Promise<NestedArray> {
    const d = await this.data();
    return nest(d, this.shape);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item: expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return (await this.data())[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}${fmtShape(this.shape)}${this.disposed ? ', disposed' : ''})`;
  }

  // Elementwise unary
  neg(): Tensor {
    return ew.neg(this);
  }
  abs(): Tensor {
    return ew.abs(this);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  rsqrt(): Tensor {
    return ew.rsqrt(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  gelu(): Tensor {
    return ew.gelu(this);
  }
  square(): Tensor {
    return ew.square(this);
  }
  sign(): Tensor {
    return ew.sign(this);
  }
  /** GELU's derivative Φ(x) + x·φ(x). */
  geluGrad(): Tensor {
    return ew.geluGrad(this);
  }
  cast(dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }
  // Elementwise binary (NumPy broadcasting; numbers are scalars of this tensor's dtype)
  add(b: TensorLike): Tensor {
    return ew.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    return ew.sub(this, b);
  }
  mul(b: TensorLike): Tensor {
    return ew.mul(this, b);
  }
  div(b: TensorLike): Tensor {
    return ew.div(this, b);
  }
  pow(b: TensorLike): Tensor {
    return ew.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    return ew.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    return ew.minimum(this, b);
  }
  eq(b: TensorLike): Tensor {
    return ew.eq(this, b);
  }
  ne(b: TensorLike): Tensor {
    return ew.ne(this, b);
  }
  lt(b: TensorLike): Tensor {
    return ew.lt(this, b);
  }
  le(b: TensorLike): Tensor {
    return ew.le(this, b);
  }
  gt(b: TensorLike): Tensor {
    return ew.gt(this, b);
  }
  ge(b: TensorLike): Tensor {
    return ew.ge(this, b);
  }
  where(a: TensorLike, b: TensorLike): Tensor {
    return ew.where(this, a, b);
  }
  // Reductions (axis: number, list, or undefined for all)
  sum(axis?: number | number[], keepDims = false): Tensor {
    return red.sum(this, axis, keepDims);
  }
  mean(axis?: number | number[], keepDims = false): Tensor {
    return red.mean(this, axis, keepDims);
  }
  max(axis?: number | number[], keepDims = false): Tensor {
    return red.max(this, axis, keepDims);
  }
  min(axis?: number | number[], keepDims = false): Tensor {
    return red.min(this, axis, keepDims);
  }
  variance(axis?: number | number[], keepDims = false, correction = 0): Tensor {
    return red.variance(this, axis, keepDims, correction);
  }
  argmax(axis?: number, keepDims = false): Tensor {
    return red.argmax(this, axis, keepDims);
  }
  argmin(axis?: number, keepDims = false): Tensor {
    return red.argmin(this, axis, keepDims);
  }
  softmax(axis = -1): Tensor {
    return sm.softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return sm.logSoftmax(this, axis);
  }
  // Shape and movement
  reshape(shape: number[]): Tensor {
    return mv.reshape(this, shape);
  }
  flatten(): Tensor {
    return mv.reshape(this, [this.size]);
  }
  permute(axes: number[]): Tensor {
    return mv.permute(this, axes);
  }
  transpose(axis0 = -2, axis1 = -1): Tensor {
    return mv.transpose(this, axis0, axis1);
  }
  slice(begin: number[], end?: number[], step?: number[]): Tensor {
    return mv.slice(this, begin, end, step);
  }
  pad(padding: [number, number][], value = 0): Tensor {
    return mv.pad(this, padding, value);
  }
  broadcastTo(shape: number[]): Tensor {
    return mv.broadcastTo(this, shape);
  }
  squeeze(axis?: number | number[]): Tensor {
    return mv.squeeze(this, axis);
  }
  expandDims(axis: number): Tensor {
    return mv.expandDims(this, axis);
  }
  clone(): Tensor {
    return mv.clone(this);
  }
  gather(indices: Tensor, axis = 0): Tensor {
    return ga.gather(this, indices, axis);
  }
  matmul(b: Tensor, opts?: mm.MatmulOptions): Tensor {
    return mm.matmul(this, b, opts);
  }
  layerNorm(weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
    return ln.layerNorm(this, weight, bias, eps);
  }
  detach(): Tensor {
    return this.view(this.shape);
  }
  backward(seed?: Tensor): void {
    backpropagate(this, seed);
  }
}

export function checkBindingLimit(op: string, shape: Shape, dtype: DType, bytes: number): void {
  const r = rt();
  const max = Math.min(r.limits.maxStorageBufferBindingSize, r.limits.maxBufferSize);
  if (bytes > max) {
    throw new LimitError(
      `${op}: a ${dtype} tensor of shape ${fmtShape(shape)} needs ${bytes} bytes, more than the adapter's storage binding limit of ${max} bytes`,
    );
  }
}

function nest(d: AnyTypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return d[0];
  const rec = (off: number, dim: number): NestedArray[] => {
    const n = shape[dim];
    const out: NestedArray[] = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = d[off + i];
      return out;
    }
    let step = 1;
    for (let k = dim + 1; k < shape.length; k++) step *= shape[k];
    for (let i = 0; i < n; i++) out[i] = rec(off + i * step, dim + 1);
    return out;
  };
  return rec(0, 0);
}
