/**
 * The CPU reference: every op in plain TypeScript over Float64Array. It is the oracle of the kernel
 * tests and the playground, so it is written for clarity, never for speed.
 */
import { broadcastShapes, broadcastStrides, sizeOf, stridesOf, type Shape } from '../shape.ts';

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

export function ref(data: ArrayLike<number>, shape: Shape): RefTensor {
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function refZeros(shape: Shape): RefTensor {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

/** Calls `f(outIndex, inIndices)` for every element of the broadcast of `shapes`. */
export function forEachBroadcast(op: string, shapes: Shape[], f: (o: number, idx: number[]) => void): number[] {
  const out = broadcastShapes(op, ...shapes);
  const strides = shapes.map((s) => broadcastStrides(s, out));
  const n = sizeOf(out);
  const coord = new Array<number>(out.length).fill(0);
  for (let o = 0; o < n; o++) {
    let rem = o;
    for (let d = out.length - 1; d >= 0; d--) {
      coord[d] = rem % out[d];
      rem = Math.floor(rem / out[d]);
    }
    f(
      o,
      strides.map((st) => coord.reduce((acc, c, d) => acc + c * st[d], 0)),
    );
  }
  return out;
}

/** Coordinates of flat index `i` in `shape`. */
export function unravel(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return c;
}

export function ravel(coord: readonly number[], shape: Shape): number {
  const st = stridesOf(shape);
  return coord.reduce((a, c, d) => a + c * st[d], 0);
}

/** Rounds to f32 (what a kernel's stored inputs are). */
export function f32(x: RefTensor): RefTensor {
  return { shape: x.shape, data: Float64Array.from(Float32Array.from(x.data)) };
}
