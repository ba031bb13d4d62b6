/**
 * The Hungarian matcher's cost matrix (DETR's models/matcher.py) in f64: per image,
 * C[q, j] = costBbox·L1(pred_q, tgt_j) − costClass·softmax(logits_q)[label_j] − costGiou·GIoU(pred_q, tgt_j),
 * boxes in cxcywh. The oracle of the GPU match-cost kernel.
 */
import { cxcywhToXyxy, iouGiou } from './box.ts';

export interface MatchCostWeights {
  costClass: number;
  costBbox: number;
  costGiou: number;
}

/** One image's targets: labels [M] and cxcywh boxes [M·4]. */
export interface RefTargets {
  labels: ArrayLike<number>;
  boxes: ArrayLike<number>;
}

/** softmax of one row of logits. */
export function softmaxRow(x: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(x)),
    e = Array.from(x, (v) => Math.exp(v - m)),
    s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Box `i` of a flat [N·4] array. */
export const boxAt = (d: ArrayLike<number>, i: number): [number, number, number, number] => [
  d[4 * i],
  d[4 * i + 1],
  d[4 * i + 2],
  d[4 * i + 3],
];

/**
 * logits [B·Q, C1], boxes [B·Q, 4] (cxcywh), one RefTargets per image → per image the cost matrix
 * [Q, M_b], row-major.
 */
export function matchCostRef(
  logits: Float64Array,
  boxes: ArrayLike<number>,
  Q: number,
  C1: number,
  targets: readonly RefTargets[],
  w: MatchCostWeights,
): Float64Array[] {
  return targets.map((t, b) => {
    const M = t.labels.length,
      out = new Float64Array(Q * M);
    for (let q = 0; q < Q; q++) {
      const row = b * Q + q,
        p = softmaxRow(logits.subarray(row * C1, (row + 1) * C1)),
        pred = boxAt(boxes, row);
      for (let j = 0; j < M; j++) {
        const tgt = boxAt(t.boxes, j);
        const l1 = pred.reduce((a, v, k) => a + Math.abs(v - tgt[k]), 0);
        const giou = iouGiou(cxcywhToXyxy(pred), cxcywhToXyxy(tgt)).giou;
        out[q * M + j] = w.costBbox * l1 - w.costClass * p[t.labels[j]] - w.costGiou * giou;
      }
    }
    return out;
  });
}
