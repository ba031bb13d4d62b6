/**
 * CPU reference of the box ops (engine/ops/box.ts) in f64, with the same degenerate-box
 * convention: IoU = 0 when the union is below 2⁻¹²⁶, the enclosing term 0 when the enclosing area is.
 */
import type { RefTensor } from './ref.ts';

/** Smallest normal f32: the kernels' threshold for a zero union / enclosing area. */
export const BOX_MIN_AREA = 2 ** -126;

export type RefBox = readonly [number, number, number, number] | Float64Array | number[];

/** (cx, cy, w, h) → (x0, y0, x1, y1). */
export function cxcywhToXyxy(b: RefBox): [number, number, number, number] {
  return [b[0] - 0.5 * b[2], b[1] - 0.5 * b[3], b[0] + 0.5 * b[2], b[1] + 0.5 * b[3]];
}

/** (x0, y0, x1, y1) → (cx, cy, w, h). */
export function xyxyToCxcywh(b: RefBox): [number, number, number, number] {
  return [0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3]), b[2] - b[0], b[3] - b[1]];
}

/** IoU and GIoU of two xyxy boxes (DETR's box_iou / generalized_box_iou for one pair). */
export function iouGiou(a: RefBox, b: RefBox): { iou: number; giou: number } {
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  const w = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0);
  const h = Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0);
  const inter = w * h;
  const union = areaA + areaB - inter;
  const iou = union >= BOX_MIN_AREA ? inter / union : 0;
  const cw = Math.max(Math.max(a[2], b[2]) - Math.min(a[0], b[0]), 0);
  const ch = Math.max(Math.max(a[3], b[3]) - Math.min(a[1], b[1]), 0);
  const area = cw * ch;
  return { iou, giou: area >= BOX_MIN_AREA ? iou - (area - union) / area : iou };
}

/** Box conversion over the last axis of a [..., 4] reference tensor. */
export function boxConvert(x: RefTensor, to: 'xyxy' | 'cxcywh'): RefTensor {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i += 4) out.set((to === 'xyxy' ? cxcywhToXyxy : xyxyToCxcywh)(x.data.subarray(i, i + 4)), i);
  return { shape: [...x.shape], data: out };
}

/** Pairwise [N,4] × [M,4] → [N,M], or elementwise [K,4] × [K,4] → [K], of IoU or GIoU. */
export function boxPair(kind: 'iou' | 'giou', a: RefTensor, b: RefTensor, pairwise: boolean): RefTensor {
  const n = a.shape[0],
    m = b.shape[0];
  const box = (t: RefTensor, i: number) => t.data.subarray(4 * i, 4 * i + 4);
  if (!pairwise) return { shape: [n], data: Float64Array.from({ length: n }, (_, k) => iouGiou(box(a, k), box(b, k))[kind]) };
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = iouGiou(box(a, i), box(b, j))[kind];
  return { shape: [n, m], data: out };
}
