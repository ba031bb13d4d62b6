/**
 * DETR's SetCriterion as YOLOS uses it [D:models/detr.py, Y:models/detector.py; docs/yolos-spec-notes.md]: match
 * (HungarianMatcher), then
 *   loss_ce   = cross-entropy over all B·Q slots, target no-object (= numClasses, the last logit)
 *               except matched slots (their label); class weights 1, eosCoef for no-object;
 *               PyTorch's weighted mean (÷ Σ weights of the targets, not ÷ num_boxes)
 *   loss_bbox = Σ |pred − gt| over matched pairs and the 4 cxcywh coords ÷ num_boxes
 *   loss_giou = Σ (1 − GIoU(xyxy(pred), xyxy(gt))) over matched pairs ÷ num_boxes
 *   loss      = ce·loss_ce + bbox·loss_bbox + giou·loss_giou   (one scalar tensor with autograd)
 * with num_boxes = max(1, number of ground-truth boxes in the batch) (one device: no all-reduce).
 * No auxiliary losses (YOLOS applies its heads to the last layer only).
 * Logged only, as plain numbers: class_error = 100 − top-1 accuracy over matched slots (100 when
 * nothing is matched, as DETR's `accuracy`), cardinality_error = mean over images of
 * |#{argmax ≠ no-object} − #GT|.
 *
 * Shapes: logits [B, Q, numClasses+1], boxes [B, Q, 4] cxcywh; targets as in matcher.ts.
 * Split as DETR's training step uses it: `match()` (async: the one sync point, the matcher's cost
 * readback and the arg-max readback for the logged errors issued together, two submits, one wait)
 * returns host indices; `loss(outputs, targets, matching)` is synchronous, so forward → loss →
 * backward → clip → AdamW can run in one `scope` (yolos/train/step.ts). `forward()` does both.
 */
import { tensor, scope, gather, crossEntropy, boxCxcywhToXyxy, elementwiseGiou, argmax, ShapeError, type Tensor } from '../engine/index.ts';
import { HungarianMatcher, checkTargets, type DetectionOutputs, type DetectionTargets, type MatchIndices } from './matcher.ts';

export interface SetCriterionOptions {
  /** Number of object classes; the logits have numClasses + 1 entries (COCO: 91, ids used raw). */
  numClasses: number;
  /** Relative weight of the no-object class in loss_ce (default 0.1). */
  eosCoef?: number;
  /** Weights of the three terms in the total (defaults ce 1, bbox 5, giou 2). */
  weights?: { ce?: number; bbox?: number; giou?: number };
  /** The matcher (default: HungarianMatcher with costs 1, 5, 2). */
  matcher?: HungarianMatcher;
}

export interface SetLoss {
  /** ce·lossCe + bbox·lossBbox + giou·lossGiou, rank 0, differentiable w.r.t. logits and boxes. */
  loss: Tensor;
  lossCe: Tensor;
  lossBbox: Tensor;
  lossGiou: Tensor;
  /** 100 − top-1 accuracy (%) over matched predictions (logged only). */
  classError: number;
  /** Mean over images of |#predictions not no-object − #targets| (logged only). */
  cardinalityError: number;
  /** The matching used. */
  indices: MatchIndices[];
  /** max(1, total ground-truth boxes). */
  numBoxes: number;
}

/** What `match` returns: the matched pairs per image and each slot's arg-max class [B·Q] (for the logged errors). */
export interface SetMatching {
  indices: MatchIndices[];
  predicted: Int32Array;
}

export class SetCriterion {
  readonly numClasses: number;
  readonly eosCoef: number;
  readonly weights: { ce: number; bbox: number; giou: number };
  readonly matcher: HungarianMatcher;

  /** @example const criterion = new SetCriterion({ numClasses: 91 }); */
  constructor({ numClasses, eosCoef = 0.1, weights = {}, matcher = new HungarianMatcher() }: SetCriterionOptions) {
    if (!Number.isInteger(numClasses) || numClasses < 1)
      throw new RangeError(`SetCriterion: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.eosCoef = eosCoef;
    this.weights = { ce: weights.ce ?? 1, bbox: weights.bbox ?? 5, giou: weights.giou ?? 2 };
    this.matcher = matcher;
  }

  /**
   * The matching of a batch (DETR's `indices = self.matcher(outputs, targets)`), on the host, with
   * each slot's arg-max class for the logged errors. The step's one sync point: the matcher's cost
   * matrices and the arg-max are read back together (two submits, one wait). No tensor outlives it.
   * @example const matching = await criterion.match(outputs, targets);
   */
  async match(outputs: DetectionOutputs, targets: readonly DetectionTargets[]): Promise<SetMatching> {
    this.check(outputs, targets);
    const top = argmax(outputs.logits, 2); // [B, Q] i32, no gradient
    try {
      const [indices, predicted] = await Promise.all([this.matcher.match(outputs, targets), top.data() as Promise<Int32Array>]);
      return { indices, predicted };
    } finally {
      top.dispose();
    }
  }

  /**
   * The set loss of a batch for a matching from `match` (synchronous: call it inside the step's
   * `scope`). The returned tensors belong to the caller (or that scope); every intermediate is freed.
   * @example const { loss } = scope(() => { const l = criterion.loss(outputs, targets, matching); l.loss.backward(); return l; });
   */
  loss(outputs: DetectionOutputs, targets: readonly DetectionTargets[], matching: SetMatching): SetLoss {
    this.check(outputs, targets);
    const { logits, boxes } = outputs;
    const { indices, predicted: topData } = matching;
    const C1 = this.numClasses + 1;
    const [B, Q] = logits.shape;
    if (indices.length !== B || topData.length !== B * Q)
      throw new ShapeError(
        `SetCriterion.loss: the matching is of ${indices.length} images with ${topData.length} slots; the outputs have ${B} images with ${B * Q} slots (pass the matching of these outputs)`,
      );

    // Host side: slot targets, matched rows and matched GT boxes, in matching order.
    const numGt = targets.reduce((n, t) => n + t.labels.length, 0);
    const numBoxes = Math.max(1, numGt);
    const K = indices.reduce((n, ix) => n + ix.queryIndex.length, 0);
    const targetClasses = new Int32Array(B * Q).fill(this.numClasses);
    const srcRows = new Int32Array(K),
      gtBoxes = new Float32Array(4 * K);
    let k = 0,
      correct = 0;
    indices.forEach(({ queryIndex, targetIndex }, b) => {
      for (let j = 0; j < queryIndex.length; j++, k++) {
        const row = b * Q + queryIndex[j],
          label = targets[b].labels[targetIndex[j]];
        targetClasses[row] = label;
        srcRows[k] = row;
        gtBoxes.set(targets[b].boxes.subarray(4 * targetIndex[j], 4 * targetIndex[j] + 4), 4 * k);
        if (topData[row] === label) correct++;
      }
    });
    const classError = K === 0 ? 100 : 100 - (100 * correct) / K;
    let cardinalityError = 0;
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let q = 0; q < Q; q++) if (topData[b * Q + q] !== this.numClasses) n++;
      cardinalityError += Math.abs(n - targets[b].labels.length) / B;
    }

    // GPU side: the three terms and their sum, with autograd to logits and boxes.
    const emptyWeight = new Float32Array(C1).fill(1);
    emptyWeight[this.numClasses] = this.eosCoef;
    const w = this.weights;
    const losses = scope(() => {
      const lossCe = crossEntropy(logits.reshape([B * Q, C1]), tensor(targetClasses), { weight: tensor(emptyWeight) });
      const src = gather(boxes.reshape([B * Q, 4]), tensor(srcRows), 0); // [K, 4] matched predictions
      const gt = tensor(gtBoxes, [K, 4]); // [K, 4] their ground truth
      const lossBbox = src.sub(gt).abs().sum().div(numBoxes);
      const giou = elementwiseGiou(boxCxcywhToXyxy(src), boxCxcywhToXyxy(gt)); // [K]
      const lossGiou = giou.sum().neg().add(K).div(numBoxes); // Σ (1 − GIoU) = K − Σ GIoU
      const loss = lossCe.mul(w.ce).add(lossBbox.mul(w.bbox)).add(lossGiou.mul(w.giou));
      return { loss, lossCe, lossBbox, lossGiou };
    });
    return { ...losses, classError, cardinalityError, indices, numBoxes };
  }

  /**
   * `loss(outputs, targets, await match(outputs, targets))` in one call, for code that does not run
   * a step in one scope (tests, profiling). The returned tensors belong to the caller.
   * @example const { loss, classError } = await criterion.forward(model.forward(x), targets); loss.backward();
   */
  async forward(outputs: DetectionOutputs, targets: readonly DetectionTargets[]): Promise<SetLoss> {
    return this.loss(outputs, targets, await this.match(outputs, targets));
  }

  /** Shapes and labels, on the host, before any GPU work. */
  private check(outputs: DetectionOutputs, targets: readonly DetectionTargets[]): void {
    const op = 'SetCriterion';
    const C1 = this.numClasses + 1;
    const { logits } = outputs;
    if (logits.rank !== 3 || logits.shape[2] !== C1)
      throw new ShapeError(`${op}: logits must have shape [B,Q,${C1}] (numClasses ${this.numClasses} + no-object), got [${logits.shape}]`);
    targets.forEach((t, b) => checkTargets(op, t, b, this.numClasses)); // labels must be object classes, not no-object
  }
}
