/**
 * The safetensors dtypes (as the Rust `safetensors` crate names them) and how each is read: integers
 * and F32/F64 into the typed array of their own type; F16, BF16 and the F8 formats widened to
 * Float32Array (exact: every one of their values is an f32). Values are little-endian in the file.
 */
import { f16BitsToF32Array } from '../engine/dtype.ts';

export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'F8_E8M0'
  | 'U16'
  | 'I16'
  | 'F16'
  | 'BF16'
  | 'U32'
  | 'I32'
  | 'F32'
  | 'U64'
  | 'I64'
  | 'F64';

/** The host array each dtype is read into (BOOL as 0/1 bytes). */
export type SafeTensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

interface DtypeRule {
  /** Bytes per element in the file. */
  bytes: number;
  /** Values from `raw`: an aligned, little-endian copy of exactly this tensor's bytes. */
  decode(raw: ArrayBuffer): SafeTensorData;
}

/** 2^e without overflow to Infinity for the exponents used here. */
const pow2 = (e: number) => 2 ** e;

/** OCP FP8 E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa bits; IEEE-like with Inf and NaN. */
function f8e5m2(b: number): number {
  const s = b & 0x80 ? -1 : 1,
    e = (b >> 2) & 0x1f,
    m = b & 3;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * pow2(-16) : s * (4 + m) * pow2(e - 17);
}

/** FP8 E4M3 "fn" (torch.float8_e4m3fn): bias 7, no Inf, NaN only at S.1111.111; max 448. */
function f8e4m3(b: number): number {
  const s = b & 0x80 ? -1 : 1,
    e = (b >> 3) & 0xf,
    m = b & 7;
  if (e === 0xf && m === 7) return NaN;
  return e === 0 ? s * m * pow2(-9) : s * (8 + m) * pow2(e - 10);
}

/** E8M0 (MX scale): an unsigned power of two 2^(b − 127); 0xFF is NaN. */
const f8e8m0 = (b: number) => (b === 0xff ? NaN : pow2(b - 127));

const widenBytes = (f: (b: number) => number) => (raw: ArrayBuffer) => Float32Array.from(new Uint8Array(raw), f);

export const DTYPES: { readonly [D in SafetensorsDtype]: DtypeRule } = {
  BOOL: { bytes: 1, decode: (r) => new Uint8Array(r) },
  U8: { bytes: 1, decode: (r) => new Uint8Array(r) },
  I8: { bytes: 1, decode: (r) => new Int8Array(r) },
  F8_E5M2: { bytes: 1, decode: widenBytes(f8e5m2) },
  F8_E4M3: { bytes: 1, decode: widenBytes(f8e4m3) },
  F8_E8M0: { bytes: 1, decode: widenBytes(f8e8m0) },
  U16: { bytes: 2, decode: (r) => new Uint16Array(r) },
  I16: { bytes: 2, decode: (r) => new Int16Array(r) },
  F16: { bytes: 2, decode: (r) => f16BitsToF32Array(new Uint16Array(r)) },
  // bf16 is the top half of an f32: shifting the bits up is the exact value, NaN payloads included
  BF16: {
    bytes: 2,
    decode: (r) => {
      const h = new Uint16Array(r),
        out = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    },
  },
  U32: { bytes: 4, decode: (r) => new Uint32Array(r) },
  I32: { bytes: 4, decode: (r) => new Int32Array(r) },
  F32: { bytes: 4, decode: (r) => new Float32Array(r) },
  U64: { bytes: 8, decode: (r) => new BigUint64Array(r) },
  I64: { bytes: 8, decode: (r) => new BigInt64Array(r) },
  F64: { bytes: 8, decode: (r) => new Float64Array(r) },
};

export const DTYPE_NAMES = Object.keys(DTYPES) as SafetensorsDtype[];

export function isSafetensorsDtype(d: unknown): d is SafetensorsDtype {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The values of one tensor whose bytes are `bytes[begin, end)`. Copies first, so any byteOffset of
 * the input (a Node Buffer in the shared pool, a view at an odd offset) reads the right bytes aligned.
 */
export function decodeTensor(dtype: SafetensorsDtype, bytes: Uint8Array, begin: number, end: number): SafeTensorData {
  const raw = new Uint8Array(end - begin);
  raw.set(bytes.subarray(begin, end));
  const size = DTYPES[dtype].bytes;
  if (!littleEndianHost && size > 1) for (let i = 0; i < raw.length; i += size) raw.subarray(i, i + size).reverse();
  return DTYPES[dtype].decode(raw.buffer);
}
