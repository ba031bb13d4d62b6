/**
 * DETR's HungarianMatcher [D:models/matcher.py]: a one-to-one assignment of predictions
 * to ground-truth boxes per image, minimising
 *   C = costBbox·L1(pred, tgt) − costClass·softmax(logits)[label] − costGiou·GIoU(xyxy(pred), xyxy(tgt))
 * (the class cost is −p, not −log p; boxes are compared in normalised cxcywh for L1).
 *
 * Shapes: outputs.logits [B, Q, C+1] (raw, the last class is no-object), outputs.boxes [B, Q, 4]
 * cxcywh; targets[b] = { labels: Int32Array [M_b], boxes: Float32Array [M_b·4] cxcywh }.
 * Result per image: { queryIndex, targetIndex } Int32Array [min(Q, M_b)], sorted by query like SciPy.
 *
 * The one sync point: one kernel (match-cost.wgsl.ts, through the engine's public `launch`) computes
 * the cost blocks of every image, they are read back once, and each image's Q×M_b block is solved on
 * the CPU by one reused AssignmentSolver (hungarian/). No gradient flows through the matching.
 */
import { Tensor, tensor, ShapeError, DTypeError, launch, assertCode, Params, gridRows, validationEnabled } from '../engine/index.ts';
import { matchCostKernel } from './match-cost.wgsl.ts';
import { AssignmentSolver } from '../hungarian/index.ts';

/** The predictions the matcher and the loss read. */
export interface DetectionOutputs {
  /** [B, Q, C+1] raw class logits; the last class is "no object". */
  logits: Tensor;
  /** [B, Q, 4] boxes (cx, cy, w, h), normalised. */
  boxes: Tensor;
}

/** One image's ground truth: M boxes. */
export interface DetectionTargets {
  /** [M] class indices (used directly as logit indices; COCO: raw ids 1…90). */
  labels: Int32Array;
  /** [M·4] boxes (cx, cy, w, h), normalised like the predictions. */
  boxes: Float32Array;
}

/** Matched pairs of one image: prediction queryIndex[k] ↔ target targetIndex[k]. */
export interface MatchIndices {
  queryIndex: Int32Array;
  targetIndex: Int32Array;
}

export interface MatcherCosts {
  /** Weight of −p(label) (default 1). */
  costClass?: number;
  /** Weight of the L1 box distance (default 5, YOLOS's `set_cost_bbox`). */
  costBbox?: number;
  /** Weight of −GIoU (default 2, YOLOS's `set_cost_giou`). */
  costGiou?: number;
}

export class HungarianMatcher {
  readonly costClass: number;
  readonly costBbox: number;
  readonly costGiou: number;
  private readonly solver = new AssignmentSolver();

  /** @example const matcher = new HungarianMatcher(); // costClass 1, costBbox 5, costGiou 2 */
  constructor({ costClass = 1, costBbox = 5, costGiou = 2 }: MatcherCosts = {}) {
    for (const [k, v] of Object.entries({ costClass, costBbox, costGiou })) {
      if (!Number.isFinite(v)) throw new RangeError(`HungarianMatcher: ${k} must be a finite number, got ${v}`);
    }
    if (costClass === 0 && costBbox === 0 && costGiou === 0) throw new RangeError('HungarianMatcher: all costs are 0');
    this.costClass = costClass;
    this.costBbox = costBbox;
    this.costGiou = costGiou;
  }

  /**
   * Matches every image of the batch (one GPU readback in all).
   * @example const [{ queryIndex, targetIndex }] = await matcher.match(model.forward(x), [{ labels, boxes }]);
   */
  async match(outputs: DetectionOutputs, targets: readonly DetectionTargets[]): Promise<MatchIndices[]> {
    const Q = outputs.logits.shape[1];
    const costs = await this.costMatrices(outputs, targets);
    return costs.map((c, b) => {
      const m = targets[b].labels.length;
      if (m === 0) return { queryIndex: new Int32Array(0), targetIndex: new Int32Array(0) };
      try {
        const { rowInd, colInd } = this.solver.solve(c, Q, m);
        return { queryIndex: rowInd, targetIndex: colInd };
      } catch (e) {
        throw new RangeError(`HungarianMatcher.match: image ${b}: ${(e as Error).message} (non-finite predictions?)`);
      }
    });
  }

  /**
   * Each image's cost block, row-major [Q, M_b] (views of one readback; empty for M_b = 0).
   * DETR computes the full [B·Q, ΣM] matrix and keeps these diagonal blocks; the rest is never built.
   */
  async costMatrices(outputs: DetectionOutputs, targets: readonly DetectionTargets[]): Promise<Float32Array[]> {
    const op = 'HungarianMatcher';
    const { logits, boxes } = outputs;
    checkOutputs(op, logits, boxes);
    const [B, Q, C1] = logits.shape;
    if (targets.length !== B) throw new ShapeError(`${op}: ${targets.length} target sets for a batch of ${B} images`);
    const colStart = new Uint32Array(B + 1);
    targets.forEach((t, b) => {
      checkTargets(op, t, b, C1);
      colStart[b + 1] = colStart[b] + t.labels.length;
    });
    const T = colStart[B];
    if (T === 0 || Q === 0) return targets.map((t) => new Float32Array(Q * t.labels.length));
    const labels = new Int32Array(T),
      tgtBoxes = new Float32Array(4 * T);
    targets.forEach((t, b) => {
      labels.set(t.labels, colStart[b]);
      tgtBoxes.set(t.boxes, 4 * colStart[b]);
    });

    const tb = tensor(tgtBoxes, [T, 4]),
      tl = tensor(labels),
      cs = tensor(colStart);
    const cost = Tensor.empty([Q * T], 'f32', 'matchCost'); // packed blocks: image b at Q·colStart[b]
    try {
      const code = assertCode(`${op}: predicted box {a} (row b·Q + q) is not valid: w < 0, h < 0 or NaN (validation mode)`);
      const p = new Params()
        .u32(B * Q, Q, C1, validationEnabled() ? 1 : 0)
        .f32(this.costClass, this.costBbox, this.costGiou)
        .u32(code);
      launch(matchCostKernel(), p, [logits, boxes, tb, tl, cs], [cost], gridRows(B * Q));
      const data = (await cost.data()) as Float32Array; // the sync point: one readback per batch
      return targets.map((_, b) => data.subarray(Q * colStart[b], Q * colStart[b + 1]));
    } finally {
      for (const t of [tb, tl, cs, cost]) t.dispose();
    }
  }
}

function checkOutputs(op: string, logits: Tensor, boxes: Tensor): void {
  if (!(logits instanceof Tensor) || !(boxes instanceof Tensor))
    throw new DTypeError(`${op}: outputs.logits and outputs.boxes must be Tensors`);
  if (logits.dtype !== 'f32' || boxes.dtype !== 'f32')
    throw new DTypeError(`${op}: logits and boxes must be f32, got ${logits.dtype} and ${boxes.dtype}`);
  if (logits.rank !== 3 || logits.shape[2] < 1) throw new ShapeError(`${op}: logits must have shape [B,Q,C+1], got [${logits.shape}]`);
  const [B, Q] = logits.shape;
  if (boxes.rank !== 3 || boxes.shape[0] !== B || boxes.shape[1] !== Q || boxes.shape[2] !== 4) {
    throw new ShapeError(`${op}: boxes must have shape [${B},${Q},4] for logits [${logits.shape}], got [${boxes.shape}]`);
  }
}

/** Host-side checks of one image's targets: labels index the logits, boxes are finite with w, h ≥ 0. */
export function checkTargets(op: string, t: DetectionTargets, b: number, numLogits: number): void {
  const m = t.labels?.length;
  if (!(t.labels instanceof Int32Array) || !(t.boxes instanceof Float32Array))
    throw new DTypeError(`${op}: targets[${b}] must hold labels: Int32Array and boxes: Float32Array`);
  if (t.boxes.length !== 4 * m)
    throw new ShapeError(`${op}: targets[${b}] has ${m} labels but ${t.boxes.length} box values (expected ${4 * m})`);
  for (let i = 0; i < m; i++) {
    if (t.labels[i] < 0 || t.labels[i] >= numLogits)
      throw new RangeError(`${op}: targets[${b}] label ${i} is ${t.labels[i]}, outside the class range [0, ${numLogits})`);
    const [, , w, h] = t.boxes.subarray(4 * i, 4 * i + 4);
    if (!t.boxes.subarray(4 * i, 4 * i + 4).every(Number.isFinite) || !(w >= 0 && h >= 0)) {
      throw new RangeError(
        `${op}: targets[${b}] box ${i} (${Array.from(t.boxes.subarray(4 * i, 4 * i + 4)).join(', ')}) is not a finite cxcywh box with w, h ≥ 0`,
      );
    }
  }
}
