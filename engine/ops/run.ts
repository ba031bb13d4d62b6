/** Shared plumbing for ops: operand checks, scalars, strided launches. */
import { Tensor, type TensorLike } from '../tensor.ts';
import { DTypeError, EngineError, ShapeError, fmtShape } from '../errors.ts';
import { requireF16, type DType, type StoreType } from '../dtype.ts';
import { broadcastStrides, collapseDims, MAX_RANK, type Shape } from '../shape.ts';
import { rt, type KernelSpec } from '../runtime.ts';
import { keep } from '../scope.ts';
import { sizeClass } from '../pool.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';

/** Storage of an operand, with the op's name in the use-after-dispose error. */
export function buf(op: string, t: Tensor) {
  return t.storageFor(op).pb;
}

export function checkTensor(op: string, t: unknown, what = 'input'): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new DTypeError(`${op}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
  t.storageFor(op);
}

/**
 * f16 tensors (2-byte elements) are so far only read by cast, matmul and attention; ops that move or
 * combine 4-byte words must refuse them instead of computing garbage.
 */
export function checkNotF16(op: string, t: Tensor, what = 'input'): void {
  if (t.dtype === 'f16')
    throw new DTypeError(
      `${op}: f16 ${what} ${fmtShape(t.shape)} is not supported yet (f16 is storage for matmul and attention); cast it with .cast('f32')`,
    );
}

/**
 * A kernel variant forced by `forced` (an op option; 'auto' forces nothing) or else by the
 * environment variable `env` (Node); undefined when neither forces one. Unknown names are an error.
 */
export function forcedVariant<V extends string>(
  op: string,
  env: string,
  forced: 'auto' | V | undefined,
  allowed: readonly V[],
): V | undefined {
  const fromEnv = typeof process !== 'undefined' ? process.env?.[env] : undefined;
  const want = forced && forced !== 'auto' ? forced : fromEnv && fromEnv !== 'auto' ? fromEnv : undefined;
  if (want === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(want))
    throw new EngineError(`${op}: unknown variant '${want}' (expected auto, ${allowed.join(', ')})`);
  return want as V;
}

/** The storage type of a float operand of an op that reads f32 or f16 (f16 needs 'shader-f16'). */
export function checkStorage(op: string, t: Tensor, what = 'input'): StoreType {
  if (t.dtype === 'f32') return 'f32';
  if (t.dtype === 'f16') {
    requireF16(op);
    return 'f16';
  }
  throw new DTypeError(
    `${op}: expected ${what} of dtype f32, got ${t.dtype}${fmtShape(t.shape)} (f16 too, where the adapter has 'shader-f16'); cast it with .cast('f32')`,
  );
}

export function checkFloat(op: string, t: Tensor, what = 'input'): void {
  if (t.dtype !== 'f32')
    throw new DTypeError(`${op}: expected ${what} of dtype f32, got ${t.dtype}${fmtShape(t.shape)}; cast it with .cast('f32')`);
}

/**
 * Numbers used as operands become rank-0 constant tensors, uploaded once and cached (up to 512 per
 * engine), so `x.mul(2)` in a loop costs no upload. They are engine-owned: never dispose them. They
 * are not counted in memory().tensors (they are constants, not user tensors).
 */
const scalarCache = new Map<string, Tensor>();
let cacheOwner: unknown = null;
const CACHE_MAX = 512;

export function scalarTensor(v: number, dtype: DType): Tensor {
  const r = rt();
  if (cacheOwner !== r) {
    scalarCache.clear();
    cacheOwner = r;
  }
  const arr = dtype === 'f32' ? new Float32Array([v]) : dtype === 'i32' ? new Int32Array([v]) : new Uint32Array([v]);
  const key = `${dtype}:${new Uint32Array(arr.buffer)[0]}`;
  const hit = scalarCache.get(key);
  if (hit && !hit.disposed) return hit;
  if (scalarCache.size >= CACHE_MAX) {
    const [oldest, old] = scalarCache.entries().next().value as [string, Tensor];
    scalarCache.delete(oldest);
    r.liveTensors++;
    r.constantBytes -= sizeClass(4);
    r.pool.liveBytes += sizeClass(4);
    old.dispose();
  }
  const t = keep(Tensor.fromTyped(arr, [], dtype));
  // engine-owned constants are reported apart from the user's live tensors and bytes
  r.liveTensors--;
  r.pool.liveBytes -= sizeClass(4);
  r.constantBytes += sizeClass(4);
  scalarCache.set(key, t);
  return t;
}

/** Resolves two TensorLike operands (numbers become cached scalars) to tensors of one dtype. */
export function operands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new DTypeError(`${op}: at least one operand must be a Tensor`);
  const dtype = typeof a === 'number' ? (b as Tensor).dtype : a.dtype;
  const ta = typeof a === 'number' ? scalarTensor(a, dtype) : a;
  const tb = typeof b === 'number' ? scalarTensor(b, dtype) : b;
  checkTensor(op, ta, 'a');
  checkTensor(op, tb, 'b');
  checkNotF16(op, ta, 'a');
  checkNotF16(op, tb, 'b');
  if (ta.dtype !== tb.dtype) {
    throw new DTypeError(
      `${op}: dtypes differ: a is ${ta.dtype}${fmtShape(ta.shape)}, b is ${tb.dtype}${fmtShape(tb.shape)}; cast one with .cast()`,
    );
  }
  return [ta, tb];
}

/**
 * Launches a strided kernel (params: n, per-operand offsets, shape, per-operand strides) that writes
 * `out` (contiguous, shape `outShape`) from `ins` read at broadcast strides.
 */
export function launchStrided(
  op: string,
  make: (rank: number) => KernelSpec,
  ins: { t: Tensor; strides: number[]; offset?: number }[],
  out: Tensor,
  outShape: Shape,
): void {
  if (out.size === 0) return;
  const { shape, strides } = collapseDims(
    outShape,
    ins.map((i) => i.strides),
  );
  if (shape.length > MAX_RANK)
    throw new ShapeError(`${op}: rank ${shape.length} after collapsing exceeds ${MAX_RANK}: ${fmtShape(outShape)}`);
  const p = new Params().u32(out.size);
  for (const i of ins) p.u32(i.offset ?? 0);
  p.vec4Array(shape, 2);
  for (const s of strides) p.vec4Array(s, 2);
  rt().dispatch(make(shape.length), p.bytes(), [...ins.map((i) => buf(op, i.t)), buf(op, out)], grid1d(out.size));
}

export function bstrides(t: Tensor, outShape: Shape): number[] {
  return broadcastStrides(t.shape, outShape);
}
