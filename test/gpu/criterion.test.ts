/**
 * HungarianMatcher and SetCriterion (DETR's set loss, [D:models/matcher.py, models/detr.py]): a hand-worked batch, random batches
 * against an f64 CPU reference of the same formulas (below), images without targets, the gradient
 * of the total loss against central differences of the reference (matching held fixed), and the
 * matcher's single readback per batch.
 *
 * Tolerances (u = 2⁻²⁴):
 *   - costs: 5·L1 (4 terms, ≤ 3 roundings: ≤ 5·4·3u) + p (exp of x − lse, ≤ ~60u) + 2·GIoU (≤ 16u
 *     absolute, see box.test.ts): atol 1e-5.
 *   - loss_ce: the crossEntropy bound of box.test.ts (atol 1e-5, rtol 1e-5); loss_bbox, loss_giou:
 *     sums of ≤ 40 terms each good to ~16u: atol 1e-5; the total adds three products: atol 3e-5.
 *   - gradients vs central differences (h = 1e-6 on O(1) inputs: oracle error ~1e-9), as gradcheck:
 *     |g − fd| ≤ 1e-5·max(1, max|fd|) + 1e-4·|fd|.
 */
import { describe, it, expect } from 'vitest';
import { tensor, engine, type Tensor } from '../../engine/index.ts';
import * as R from '../../engine/reference/index.ts';
import { linearSumAssignment } from '../../hungarian/index.ts';
import { HungarianMatcher, SetCriterion } from '../../yolos/index.ts';
import type { DetectionTargets, MatchIndices } from '../../yolos/matcher.ts';
import { useEngine, rng, expectClose } from './util.ts';

useEngine();

// ---------------------------------------------------------------------------------------------
// The f64 reference of the same formulas (DETR's matcher.py and SetCriterion, one device).

interface RefBatch {
  B: number;
  Q: number;
  C1: number;
  logits: Float64Array;
  boxes: Float64Array;
  targets: DetectionTargets[];
}
const COSTS = { costClass: 1, costBbox: 5, costGiou: 2 };
const WEIGHTS = { ce: 1, bbox: 5, giou: 2 };

/** Per image, C[q, j] = 5·L1 − p(label_j) − 2·GIoU, row-major [Q, M_b] (engine/reference/matcher-cost.ts). */
const refCosts = ({ Q, C1, logits, boxes, targets }: RefBatch): Float64Array[] => R.matchCostRef(logits, boxes, Q, C1, targets, COSTS);
const { softmaxRow, boxAt: box } = R;

/** The set loss for a given matching (numClasses = C1 − 1 is no-object, eos weight 0.1). */
function refLoss({ B, Q, C1, logits, boxes, targets }: RefBatch, indices: MatchIndices[], eosCoef = 0.1) {
  const noObject = C1 - 1;
  const classes = new Array<number>(B * Q).fill(noObject);
  const weight = Array.from({ length: C1 }, (_, c) => (c === noObject ? eosCoef : 1));
  const numBoxes = Math.max(
    1,
    targets.reduce((n, t) => n + t.labels.length, 0),
  );
  let l1 = 0,
    giou = 0;
  indices.forEach(({ queryIndex, targetIndex }, b) => {
    queryIndex.forEach((q, k) => {
      const j = targetIndex[k],
        pred = box(boxes, b * Q + q),
        tgt = box(targets[b].boxes, j);
      classes[b * Q + q] = targets[b].labels[j];
      l1 += pred.reduce((a, v, c) => a + Math.abs(v - tgt[c]), 0);
      giou += 1 - R.iouGiou(R.cxcywhToXyxy(pred), R.cxcywhToXyxy(tgt)).giou;
    });
  });
  const ce = R.crossEntropy({ shape: [B * Q, C1], data: logits }, classes, weight);
  const bbox = l1 / numBoxes,
    gi = giou / numBoxes;
  return { ce, bbox, giou: gi, loss: WEIGHTS.ce * ce + WEIGHTS.bbox * bbox + WEIGHTS.giou * gi };
}

function refMatch(batch: RefBatch): MatchIndices[] {
  return refCosts(batch).map((c, b) => {
    const { rowInd, colInd } = linearSumAssignment(c, batch.Q, batch.targets[b].labels.length);
    return { queryIndex: rowInd, targetIndex: colInd };
  });
}

function refErrors({ B, Q, C1, logits, targets }: RefBatch, indices: MatchIndices[]) {
  const top = Array.from({ length: B * Q }, (_, r) => {
    const p = softmaxRow(logits.subarray(r * C1, (r + 1) * C1));
    return p.indexOf(Math.max(...p));
  });
  let k = 0,
    correct = 0,
    card = 0;
  indices.forEach(({ queryIndex, targetIndex }, b) =>
    queryIndex.forEach((q, i) => {
      k++;
      if (top[b * Q + q] === targets[b].labels[targetIndex[i]]) correct++;
    }),
  );
  for (let b = 0; b < B; b++)
    card += Math.abs(top.slice(b * Q, (b + 1) * Q).filter((c) => c !== C1 - 1).length - targets[b].labels.length) / B;
  return { classError: k === 0 ? 100 : 100 - (100 * correct) / k, cardinalityError: card };
}

// ---------------------------------------------------------------------------------------------
// Batches

/** A random batch, f32-exact; boxes cx, cy ∈ [0.2, 0.8), w, h ∈ [0.05, 0.5); labels in [0, C1 − 1). */
function randomBatch(B: number, Q: number, C1: number, counts: number[], seed: number): RefBatch {
  const next = rng(seed);
  const f = (lo: number, hi: number) => Math.fround(lo + (hi - lo) * next());
  const randBox = () => [f(0.2, 0.8), f(0.2, 0.8), f(0.05, 0.5), f(0.05, 0.5)];
  const logits = Float64Array.from({ length: B * Q * C1 }, () => f(-3, 3));
  const boxes = Float64Array.from(Array.from({ length: B * Q }, randBox).flat());
  const targets = counts.map((m) => ({
    labels: Int32Array.from({ length: m }, () => Math.floor(next() * (C1 - 1))),
    boxes: Float32Array.from(Array.from({ length: m }, randBox).flat()),
  }));
  return { B, Q, C1, logits, boxes, targets };
}

/**
 * The hand-worked batch: B = 2, Q = 3, numClasses = 2 (no-object = 2). Logits are log p, so
 * softmax gives p back. Image 0 has targets A = (0.5, 0.5, 0.2, 0.2) label 0 and
 * B = (0.25, 0.25, 0.1, 0.1) label 1; image 1 has none.
 *   q0: p = (.25, .5, .25), box = B exactly;      q1: p = (.5, .25, .25), box (0.6, 0.5, 0.2, 0.2)
 *   q2: p = (.1, .1, .8),   box (0.8, 0.8, 0.1, 0.1);  image 1: p = (.6, .2, .2), (.1, .1, .8) twice
 * In xyxy: A = (.4,.4,.6,.6), B = (.2,.2,.3,.3), q1 = (.5,.4,.7,.6), q2 = (.75,.75,.85,.85).
 * Costs 5·L1 − p − 2·GIoU (rows q0..q2, columns A, B):
 *   q0·A: L1 .7 → 3.5; −.25; disjoint, U = .05, C = .4² = .16, GIoU = −.11/.16 = −.6875 → 4.625
 *   q0·B: 0 − .5 − 2·1 = −2.5
 *   q1·A: L1 .1 → .5; −.5; I = .1·.2 = .02, U = .06, IoU = 1/3, C = .3·.2 = .06, GIoU = 1/3 → −2/3
 *   q1·B: L1 .8 → 4; −.25; U = .05, C = .5·.4 = .2, GIoU = −.75 → 5.25
 *   q2·A: L1 .8 → 4; −.1; U = .05, C = .45² = .2025, GIoU = −.1525/.2025 → 5.406173
 *   q2·B: L1 1.1 → 5.5; −.1; U = .02, C = .65² = .4225, GIoU = −.4025/.4225 → 7.305325
 * Optimal: q0→B, q1→A (total −3.1667; the next best, q0→B with q2→A, is 2.906): queryIndex [0, 1],
 * targetIndex [1, 0].
 * Losses: num_boxes = 2.
 *   loss_ce = (ln 2 + ln 2 + 0.1·(−ln .8) + 0.1·ln 5 + 2·0.1·(−ln .8)) / (1 + 1 + 4·0.1)
 *           = (2 ln 2 + 0.1·(ln 5 + 3 ln 1.25)) / 2.4 = 1.6141812 / 2.4 = 0.6725755
 *   loss_bbox = (0 + 0.1) / 2 = 0.05;  loss_giou = ((1 − 1) + (1 − 1/3)) / 2 = 1/3
 *   loss = 0.6725755 + 5·0.05 + 2/3 = 1.5892422
 *   class_error = 0 (q0's argmax is 1, q1's is 0, their labels); cardinality_error: image 0 has
 *   2 non-no-object argmaxes for 2 targets, image 1 has 1 (q0) for 0 → (0 + 1)/2 = 0.5.
 */
function handBatch(): RefBatch {
  const p = [
    [0.25, 0.5, 0.25],
    [0.5, 0.25, 0.25],
    [0.1, 0.1, 0.8],
    [0.6, 0.2, 0.2],
    [0.1, 0.1, 0.8],
    [0.1, 0.1, 0.8],
  ];
  const logits = Float64Array.from(p.flat().map((v) => Math.fround(Math.log(v))));
  const boxes = Float64Array.from(
    [
      [0.25, 0.25, 0.1, 0.1],
      [0.6, 0.5, 0.2, 0.2],
      [0.8, 0.8, 0.1, 0.1],
      [0.5, 0.5, 0.3, 0.3],
      [0.5, 0.5, 0.3, 0.3],
      [0.5, 0.5, 0.3, 0.3],
    ]
      .flat()
      .map(Math.fround),
  );
  const targets = [
    { labels: Int32Array.of(0, 1), boxes: Float32Array.of(0.5, 0.5, 0.2, 0.2, 0.25, 0.25, 0.1, 0.1) },
    { labels: new Int32Array(0), boxes: new Float32Array(0) },
  ];
  return { B: 2, Q: 3, C1: 3, logits, boxes, targets };
}

function outputsOf(batch: RefBatch, requiresGrad = false): { logits: Tensor; boxes: Tensor } {
  const { B, Q, C1 } = batch;
  return {
    logits: tensor(Float32Array.from(batch.logits), [B, Q, C1], { requiresGrad }),
    boxes: tensor(Float32Array.from(batch.boxes), [B, Q, 4], { requiresGrad }),
  };
}

function fdGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  return Float64Array.from(x, (xi, i) => {
    const p = x.slice(),
      m = x.slice();
    p[i] = xi + h;
    m[i] = xi - h;
    return (f(p) - f(m)) / (p[i] - m[i]);
  });
}
function expectGradClose(g: ArrayLike<number>, fd: Float64Array, label: string): void {
  expectClose(g, fd, { atol: 1e-5 * Math.max(1, ...Array.from(fd, Math.abs)), rtol: 1e-4 }, label);
}

/** Loss values, logged errors and the gradients (vs finite differences, matching fixed). */
async function checkCriterion(batch: RefBatch, label: string): Promise<MatchIndices[]> {
  const criterion = new SetCriterion({ numClasses: batch.C1 - 1 });
  const out = outputsOf(batch, true);
  const res = await criterion.forward(out, batch.targets);
  const want = refLoss(batch, res.indices);
  expectClose([await res.lossCe.item()], [want.ce], { atol: 1e-5, rtol: 1e-5 }, `${label} loss_ce`);
  expectClose([await res.lossBbox.item()], [want.bbox], { atol: 1e-5 }, `${label} loss_bbox`);
  expectClose([await res.lossGiou.item()], [want.giou], { atol: 1e-5 }, `${label} loss_giou`);
  expectClose([await res.loss.item()], [want.loss], { atol: 3e-5 }, `${label} loss`);
  const errs = refErrors(batch, res.indices);
  expect(res.classError).toBeCloseTo(errs.classError, 10);
  expect(res.cardinalityError).toBeCloseTo(errs.cardinalityError, 10);
  res.loss.backward();
  const at = (logits: Float64Array, boxes: Float64Array) => refLoss({ ...batch, logits, boxes }, res.indices).loss;
  expectGradClose(
    await out.logits.grad!.data(),
    fdGrad((x) => at(x, batch.boxes), batch.logits),
    `${label} d loss / d logits`,
  );
  expectGradClose(
    await out.boxes.grad!.data(),
    fdGrad((x) => at(batch.logits, x), batch.boxes),
    `${label} d loss / d boxes`,
  );
  for (const t of [res.loss, res.lossCe, res.lossBbox, res.lossGiou, out.logits, out.boxes]) t.dispose();
  return res.indices;
}

// ---------------------------------------------------------------------------------------------

// First in the file: in the browser, tensors other tests leave to the garbage collector are
// finalised at any await and lower the live count, which would blur this count.
describe('memory', () => {
  it('SetCriterion leaks no tensors (forward, backward, dispose of what it returns)', async () => {
    const batch = randomBatch(2, 5, 4, [2, 1], 21);
    const before = engine().memory().tensors;
    const out = outputsOf(batch, true);
    const res = await new SetCriterion({ numClasses: 3 }).forward(out, batch.targets);
    res.loss.backward();
    await out.boxes.grad!.data();
    for (const t of [res.loss, res.lossCe, res.lossBbox, res.lossGiou, out.logits, out.boxes]) t.dispose();
    expect(engine().memory().tensors).toBe(before);
  });
});

describe('HungarianMatcher', () => {
  it('the hand-worked batch: costs and matching', async () => {
    const batch = handBatch();
    const matcher = new HungarianMatcher();
    const out = outputsOf(batch);
    const [c0, c1] = await matcher.costMatrices(out, batch.targets);
    expectClose(
      c0,
      [4.625, -2.5, -2 / 3, 5.25, 4 - 0.1 + 2 * (0.1525 / 0.2025), 5.5 - 0.1 + 2 * (0.4025 / 0.4225)],
      { atol: 1e-5 },
      'costs by hand',
    );
    expect(c1.length).toBe(0);
    const [m0, m1] = await matcher.match(out, batch.targets);
    expect(Array.from(m0.queryIndex)).toEqual([0, 1]);
    expect(Array.from(m0.targetIndex)).toEqual([1, 0]);
    expect([m1.queryIndex.length, m1.targetIndex.length]).toEqual([0, 0]);
  });

  it.each([
    [[3, 0, 5], 7, 5],
    [[1], 4, 3],
    [[6, 2], 6, 92],
    [[5], 3, 4],
  ])('targets per image %j, Q = %i, %i logits: costs and matching against the reference', async (counts, Q, C1) => {
    const batch = randomBatch(counts.length, Q, C1, counts, counts.length * 100 + Q + C1);
    const matcher = new HungarianMatcher();
    const out = outputsOf(batch);
    const got = await matcher.costMatrices(out, batch.targets);
    const want = refCosts(batch);
    got.forEach((c, b) => expectClose(c, want[b], { atol: 1e-5 }, `image ${b} costs`));
    const indices = await matcher.match(out, batch.targets);
    const ref = refMatch(batch);
    indices.forEach((ix, b) => {
      expect(ix.queryIndex.length).toBe(Math.min(Q, counts[b])); // more targets than queries: Q pairs
      expect(Array.from(ix.queryIndex), `image ${b} queries`).toEqual(Array.from(ref[b].queryIndex));
      expect(Array.from(ix.targetIndex), `image ${b} targets`).toEqual(Array.from(ref[b].targetIndex));
    });
  });

  it('reads back once per batch; a batch without targets does not touch the GPU', async () => {
    const batch = randomBatch(4, 10, 6, [2, 5, 0, 3], 77);
    const matcher = new HungarianMatcher();
    const out = outputsOf(batch);
    await engine().flush();
    const before = engine().submits;
    await matcher.match(out, batch.targets);
    expect(engine().submits - before).toBe(1);
    const empty = [0, 0, 0, 0].map(() => ({ labels: new Int32Array(0), boxes: new Float32Array(0) }));
    const s1 = engine().submits,
      d1 = engine().dispatches;
    const none = await matcher.match(out, empty);
    expect([engine().submits - s1, engine().dispatches - d1]).toEqual([0, 0]);
    expect(none.every((m) => m.queryIndex.length === 0 && m.targetIndex.length === 0)).toBe(true);
  });

  it('checks its inputs on the host', async () => {
    const batch = randomBatch(1, 3, 4, [2], 5);
    const matcher = new HungarianMatcher();
    const out = outputsOf(batch);
    const t = batch.targets[0];
    await expect(matcher.match(out, [])).rejects.toThrow(/HungarianMatcher: 0 target sets for a batch of 1 images/);
    await expect(matcher.match(out, [{ labels: Int32Array.of(4, 0), boxes: t.boxes }])).rejects.toThrow(
      /targets\[0\] label 0 is 4, outside the class range \[0, 4\)/,
    );
    await expect(matcher.match(out, [{ labels: t.labels, boxes: t.boxes.subarray(0, 7) }])).rejects.toThrow(
      /has 2 labels but 7 box values/,
    );
    await expect(
      matcher.match(out, [{ labels: t.labels, boxes: Float32Array.of(0.5, 0.5, -0.1, 0.2, 0.5, 0.5, 0.1, 0.1) }]),
    ).rejects.toThrow(/box 0 .* is not a finite cxcywh box with w, h ≥ 0/);
    await expect(matcher.match({ logits: out.logits, boxes: tensor(new Float32Array(8), [1, 2, 4]) }, batch.targets)).rejects.toThrow(
      /boxes must have shape \[1,3,4\]/,
    );
    expect(() => new HungarianMatcher({ costClass: 0, costBbox: 0, costGiou: 0 })).toThrow(/all costs are 0/);
  });
});

describe('SetCriterion', () => {
  it('the hand-worked batch: losses, logged errors and gradients', async () => {
    const batch = handBatch();
    const res = await new SetCriterion({ numClasses: 2 }).forward(outputsOf(batch), batch.targets);
    const ce = (2 * Math.LN2 + 0.1 * (Math.log(5) + 3 * Math.log(1.25))) / 2.4;
    expectClose([await res.lossCe.item()], [ce], { atol: 1e-5, rtol: 1e-5 }, 'loss_ce by hand');
    expectClose([await res.lossBbox.item()], [0.05], { atol: 1e-6 }, 'loss_bbox by hand');
    expectClose([await res.lossGiou.item()], [1 / 3], { atol: 1e-6 }, 'loss_giou by hand');
    expectClose([await res.loss.item()], [ce + 0.25 + 2 / 3], { atol: 3e-5 }, 'loss by hand');
    expect(ce).toBeCloseTo(0.6725755, 6);
    expect([res.classError, res.cardinalityError, res.numBoxes]).toEqual([0, 0.5, 2]);
    // Gradients, including q0 = B exactly: the GIoU max/min ties split in half (what central
    // differences see) and |pred − gt| = 0 gives 0 (as sign(0) in PyTorch).
    await checkCriterion(batch, 'hand');
  });

  it.each([
    [[3, 0, 5], 7, 5],
    [[2, 4], 5, 4],
    [[1], 9, 92],
  ])('targets per image %j, Q = %i, %i logits: against the reference, gradients by finite differences', async (counts, Q, C1) => {
    const batch = randomBatch(counts.length, Q, C1, counts, 1000 + counts.length * 10 + Q);
    const indices = await checkCriterion(batch, `random ${JSON.stringify(counts)}`);
    const ref = refMatch(batch);
    indices.forEach((ix, b) => expect(Array.from(ix.targetIndex)).toEqual(Array.from(ref[b].targetIndex)));
  });

  it('images without targets: every slot is no-object, num_boxes is clamped to 1, box losses are 0', async () => {
    const batch = randomBatch(2, 4, 3, [0, 0], 9);
    const out = outputsOf(batch, true);
    const res = await new SetCriterion({ numClasses: 2 }).forward(out, batch.targets);
    expect([await res.lossBbox.item(), await res.lossGiou.item(), res.numBoxes, res.classError]).toEqual([0, 0, 1, 100]);
    // All targets no-object with weight 0.1: the weighted mean is the plain mean of −log p(∅).
    const plain = R.crossEntropy({ shape: [8, 3], data: batch.logits }, new Array(8).fill(2));
    expectClose([await res.loss.item()], [plain], { atol: 1e-5, rtol: 1e-5 }, 'loss');
    res.loss.backward();
    expect(Array.from(await out.boxes.grad!.data()).every((v) => v === 0)).toBe(true);
    await checkCriterion(batch, 'no targets');
  });

  it('rejects no-object or out-of-range labels and mismatched logits', async () => {
    const batch = randomBatch(1, 3, 4, [1], 3);
    const c = new SetCriterion({ numClasses: 3 });
    const out = outputsOf(batch);
    await expect(c.forward(out, [{ labels: Int32Array.of(3), boxes: batch.targets[0].boxes }])).rejects.toThrow(
      /SetCriterion: targets\[0\] label 0 is 3, outside the class range \[0, 3\)/,
    );
    await expect(new SetCriterion({ numClasses: 4 }).forward(out, batch.targets)).rejects.toThrow(
      /SetCriterion: logits must have shape \[B,Q,5\]/,
    );
  });
});
