/** Element types a tensor can hold. All are 4 bytes wide on the GPU (f16 storage comes with the kernel issue). */
export type DType = 'f32' | 'i32' | 'u32';

export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;
export type AnyTypedArray = Float32Array | Int32Array | Uint32Array;

export const DTYPES: readonly DType[] = ['f32', 'i32', 'u32'];

export function bytesPerElement(_dtype: DType): number {
  return 4;
}

export function typedArrayFor(dtype: DType, buffer: ArrayBufferLike, byteOffset = 0, length?: number): AnyTypedArray {
  switch (dtype) {
    case 'f32': return new Float32Array(buffer, byteOffset, length);
    case 'i32': return new Int32Array(buffer, byteOffset, length);
    case 'u32': return new Uint32Array(buffer, byteOffset, length);
  }
}

export function allocTypedArray(dtype: DType, length: number): AnyTypedArray {
  switch (dtype) {
    case 'f32': return new Float32Array(length);
    case 'i32': return new Int32Array(length);
    case 'u32': return new Uint32Array(length);
  }
}

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'u32';
}

/** The WGSL scalar type that stores a dtype. */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  return dtype;
}
