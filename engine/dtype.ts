/**
 * Element types a tensor can hold. f32, i32 and u32 are 4 bytes wide; f16 is 2 bytes (storage only:
 * kernels read it and compute in f32). On the host an f16 tensor's data are a Uint16Array of IEEE
 * binary16 bits; `data()` converts them to a Float32Array. f16 needs the adapter feature 'shader-f16'
 * (lavapipe has it, SwiftShader does not) and `enable f16;` at the top of every WGSL module using it.
 */
import { DTypeError } from './errors.ts';
import { rt } from './runtime.ts';

export type DType = 'f32' | 'i32' | 'u32' | 'f16';

export type TypedArrayFor<D extends DType> = D extends 'f32' | 'f16' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
/** Host arrays of tensor data; a Uint16Array holds f16 bits. */
export type AnyTypedArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

export const DTYPES: readonly DType[] = ['f32', 'i32', 'u32', 'f16'];

export function bytesPerElement(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** The values stored in `buffer`: a view for 4-byte dtypes, a converted Float32Array for f16. */
export function typedArrayFor(dtype: DType, buffer: ArrayBufferLike, byteOffset = 0, length?: number): AnyTypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(buffer, byteOffset, length);
    case 'i32':
      return new Int32Array(buffer, byteOffset, length);
    case 'u32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'f16':
      return f16BitsToF32Array(new Uint16Array(buffer, byteOffset, length));
  }
}

export function allocTypedArray(dtype: DType, length: number): AnyTypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(length);
    case 'i32':
      return new Int32Array(length);
    case 'u32':
      return new Uint32Array(length);
    case 'f16':
      return new Uint16Array(length);
  }
}

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof Uint16Array) return 'f16';
  return 'u32';
}

/** The WGSL scalar type that stores a dtype (f16 needs `enable f16;`). */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' | 'f16' {
  return dtype;
}

// ---- IEEE binary16 <-> binary32 on the host -------------------------------------------------------

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** ⌊v / 2^s⌉ with ties to even, for a non-negative integer v < 2^53. */
function shiftRoundEven(v: number, s: number): number {
  const unit = 2 ** s;
  const q = Math.floor(v / unit);
  const r = v - q * unit;
  const half = unit / 2;
  return r > half || (r === half && q % 2 === 1) ? q + 1 : q;
}

/**
 * The binary16 bits nearest to the f32 with bits `bits`, ties to even (IEEE 754 roundTiesToEven):
 * overflow past 65 520 gives ±Inf, tiny values become subnormals or ±0, NaN stays a quiet NaN.
 */
export function f32BitsToF16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // the binary16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e >= 1) {
    // Normal: round the 23-bit mantissa to 10 bits; a carry moves into the exponent (up to Inf).
    return sign | Math.min((e << 10) + shiftRoundEven(mant, 13), 0x7c00);
  }
  // Subnormal (or zero): the value is (1.mant)·2^(exp−127) = m1·2^(e−14) units of 2^−24.
  if (exp === 0) return sign; // f32 subnormals are far below half the smallest f16 subnormal
  const m1 = mant | 0x800000;
  const shift = 14 - e;
  return sign | (shift > 25 ? 0 : shiftRoundEven(m1, shift)); // 1024 here is the smallest normal: correct
}

/** f32(x) rounded to binary16 bits (x is first rounded to f32, as a Float32Array would hold it). */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToF16Bits(u32Scratch[0]);
}

/** The value of binary16 bits `h` (exact in f32). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** Values → binary16 bits, each rounded to nearest, ties to even. */
export function f32ArrayToF16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]);
  return out;
}

/** binary16 bits → their f32 values. */
export function f16BitsToF32Array(bits: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16BitsToF32(bits[i]);
  return out;
}

/** Rounds each value to the nearest f16 and back (the values an f16 tensor of them holds). */
export function roundToF16(values: ArrayLike<number>): Float32Array {
  return f16BitsToF32Array(f32ArrayToF16Bits(values));
}

/** Float storage that kernels read and write with f32 arithmetic (matmul, attention). */
export type StoreType = 'f32' | 'f16';

/** Throws a DTypeError naming the adapter when the running engine cannot store f16 ('shader-f16' missing or disabled). */
export function requireF16(op: string): void {
  const r = rt();
  if (!r.hasFeature('shader-f16')) {
    const a = r.adapter;
    throw new DTypeError(
      `${op}: dtype f16 needs the WebGPU feature 'shader-f16', which the adapter '${a.description || a.architecture || a.vendor}' (${a.source}) does not have or which init() disabled; use f32`,
    );
  }
}
