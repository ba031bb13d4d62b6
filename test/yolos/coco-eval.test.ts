import { describe, it, expect } from 'vitest';
import { cocoEvaluate, formatCocoStats, COCO_IOU_THRS, COCO_REC_THRS } from '../../yolos/eval/coco-eval.ts';
import type { CocoAnnotation, CocoDetection, CocoGroundTruth, CocoStats } from '../../yolos/eval/coco-eval.ts';

// Every expected value below is worked out by hand from pycocotools' rules (stated in each comment).
// Precision is tp / (tp + fp + 2^-52), so a "perfect" precision is 1/(1 + 2^-52) = 1 − 2^-52, not 1:
// AP values are compared to 12 decimals (the ε term is ~2e-16; everything else is exact rational
// arithmetic on a handful of counts). Recall is tp / npig with no ε, so AR values are compared exactly
// where they are exact binary fractions and to 12 decimals otherwise.
const D = 12;

type Ann = [image: number, cat: number, bbox: number[], extra?: Partial<CocoAnnotation>];

function gt(images: number[], cats: number[], anns: Ann[]): CocoGroundTruth {
  return {
    images: images.map((id) => ({ id, width: 640, height: 480 })),
    categories: cats.map((id) => ({ id, name: `c${id}` })),
    annotations: anns.map(([image_id, category_id, bbox, extra], i) => ({
      id: i + 1,
      image_id,
      category_id,
      bbox,
      area: bbox[2] * bbox[3],
      iscrowd: 0,
      ...extra,
    })),
  };
}
const det = (image_id: number, category_id: number, bbox: number[], score: number): CocoDetection => ({
  image_id,
  category_id,
  bbox,
  score,
});

function expectStats(got: CocoStats, want: Partial<CocoStats>): void {
  for (const [k, v] of Object.entries(want)) {
    expect(got[k as keyof CocoStats], k).toBeCloseTo(v, D);
  }
}

describe('cocoEvaluate: parameters', () => {
  it('uses numpy linspace thresholds (i·step + start), so the 9th IoU threshold is 0.8999999999999999', () => {
    expect(COCO_IOU_THRS.length).toBe(10);
    expect(COCO_REC_THRS.length).toBe(101);
    expect(COCO_IOU_THRS[0]).toBe(0.5);
    expect(COCO_IOU_THRS[5]).toBe(0.75); // found by equality in summarize (AP75)
    expect(COCO_IOU_THRS[8]).toBe(0.8999999999999999);
    expect(COCO_IOU_THRS[9]).toBe(0.95);
    expect(COCO_REC_THRS[50]).toBe(0.5);
    expect(COCO_REC_THRS[100]).toBe(1);
  });
});

describe('cocoEvaluate: hand-computed cases', () => {
  it('perfect detections give 1 everywhere defined and −1 for the empty large range', () => {
    // img1: one small (area 400) gt of cat 1; img2: a medium cat-1 gt (2500) and a medium cat-2 gt (1600).
    // Each (image, category) has one gt and its exact det: every threshold, every category: tp = 1..n,
    // fp = 0 → precision ≈ 1 at every recall threshold (rc reaches 1). No gt has area > 96² → large: −1.
    const g = gt(
      [1, 2],
      [1, 2],
      [
        [1, 1, [10, 10, 20, 20]],
        [2, 1, [0, 0, 50, 50]],
        [2, 2, [100, 100, 40, 40]],
      ],
    );
    const dets = g.annotations.map((a) => det(a.image_id, a.category_id, a.bbox, 1));
    const r = cocoEvaluate(g, dets);
    expectStats(r, { AP: 1, AP50: 1, AP75: 1, APs: 1, APm: 1, APl: -1, AR1: 1, AR10: 1, AR100: 1, ARs: 1, ARm: 1, ARl: -1 });
    expect(r.stats).toHaveLength(12);
    expect(r.perCategory[2].APs).toBe(-1); // cat 2 has no small gt
    expect(formatCocoStats(r).split('\n')[5]).toBe(' Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000');
  });

  it('a single det with IoU 0.6 matches the thresholds 0.50, 0.55, 0.60 (IoU ≥ t), one with IoU 0.58 only two', () => {
    // gt [0,0,10,10]; det [0,0,10,6]: inter 60, union 100 + 60 − 60 = 100 → IoU = 0.6 exactly, and the
    // 3rd threshold 2·0.05 + 0.5 is the same double 0.6; the match test is `IoU < t → skip`, so 3 of 10
    // thresholds match → AP = 3/10, AP50 = 1, AP75 = 0, AR = 3/10 (recall 1 at 3 thresholds, 0 at 7).
    const g = gt([1], [1], [[1, 1, [0, 0, 10, 10]]]);
    const r = cocoEvaluate(g, [det(1, 1, [0, 0, 10, 6], 0.9)]);
    expectStats(r, { AP: 0.3, AP50: 1, AP75: 0, AR100: 0.3, AR1: 0.3 });
    // det [0,0,10,5.8]: IoU 58/100 = 0.58 → matches 0.50 and 0.55 only → AP = 2/10.
    const r2 = cocoEvaluate(g, [det(1, 1, [0, 0, 10, 5.8], 0.9)]);
    expectStats(r2, { AP: 0.2, AP50: 1, AP75: 0, AR100: 0.2 });
  });

  it('score order: a false positive ranked above the true positive halves the precision', () => {
    // gt A [0,0,10,10]; FP far away, TP = A.
    // FP 0.9 then TP 0.8: tp = [0,1], fp = [1,1] → rc = [0,1], pr = [0, 1/2] → envelope [1/2, 1/2];
    // searchsorted(rc, r): r = 0 → index 0, r > 0 → index 1: all 101 samples 1/2 → AP = 0.5 at every IoU.
    const g = gt([1], [1], [[1, 1, [0, 0, 10, 10]]]);
    const fp = [50, 50, 10, 10];
    const tp = [0, 0, 10, 10];
    expectStats(cocoEvaluate(g, [det(1, 1, fp, 0.9), det(1, 1, tp, 0.8)]), { AP: 0.5, AP50: 0.5, AR100: 1 });
    // TP 0.9 then FP 0.8: rc = [1,1], pr = [1, 1/2] → envelope [1, 1/2]; every r maps to index 0 → AP = 1.
    expectStats(cocoEvaluate(g, [det(1, 1, fp, 0.8), det(1, 1, tp, 0.9)]), { AP: 1, AR100: 1 });
    // Equal scores keep the input order (stable mergesort): FP listed first → 0.5, TP first → 1.
    expectStats(cocoEvaluate(g, [det(1, 1, fp, 0.8), det(1, 1, tp, 0.8)]), { AP: 0.5 });
    expectStats(cocoEvaluate(g, [det(1, 1, tp, 0.8), det(1, 1, fp, 0.8)]), { AP: 1 });
  });

  it('ties across images follow image-id order, not the order of the results list', () => {
    // img1 gt A, img2 gt B. Results list: [img2 TP(B) 0.5, img1 FP 0.5, img1 TP(A) 0.4].
    // accumulate concatenates per image in id order: img1 [FP .5, TP .4], img2 [TP .5] → stable sort by
    // score: FP(img1) .5, TP(img2) .5, TP(img1) .4 → tp = [0,1,2], fp = [1,1,1], npig = 2 →
    // rc = [0, 1/2, 1], pr = [0, 1/2, 2/3] → envelope [2/3, 2/3, 2/3] → AP = 2/3.
    // (In list order it would be TP, FP, TP → 253/303 ≈ 0.835.)
    const g = gt(
      [1, 2],
      [1],
      [
        [1, 1, [0, 0, 10, 10]],
        [2, 1, [0, 0, 10, 10]],
      ],
    );
    const r = cocoEvaluate(g, [det(2, 1, [0, 0, 10, 10], 0.5), det(1, 1, [50, 50, 10, 10], 0.5), det(1, 1, [0, 0, 10, 10], 0.4)]);
    expectStats(r, { AP: 2 / 3, AR100: 1 });
  });

  it('duplicate detections of one object are false positives', () => {
    // gts A [0,0,10,10], B [20,0,10,10]; dets A 0.9, A again 0.8, B 0.7.
    // The duplicate finds A taken → FP: tp = [1,1,2], fp = [0,1,1] → rc = [1/2, 1/2, 1],
    // pr = [1, 1/2, 2/3] → envelope [1, 2/3, 2/3]. searchsorted: r ≤ 0.5 (51 thresholds, 0.5 included
    // since rc[0] = 0.5 ≥ 0.5) → 1; r > 0.5 (50) → index 2 → 2/3.
    // AP = (51 + 50·2/3)/101 = 253/303 ≈ 0.83498.
    const g = gt(
      [1],
      [1],
      [
        [1, 1, [0, 0, 10, 10]],
        [1, 1, [20, 0, 10, 10]],
      ],
    );
    const r = cocoEvaluate(g, [det(1, 1, [0, 0, 10, 10], 0.9), det(1, 1, [0, 0, 10, 10], 0.8), det(1, 1, [20, 0, 10, 10], 0.7)]);
    expectStats(r, { AP: 253 / 303, AP50: 253 / 303, AR100: 1 });
  });

  it('greedy matching takes the best-IoU gt, not the first one above the threshold', () => {
    // gts A [0,0,10,10], B [4,0,10,10]. D1 [3,0,10,10] (0.9): IoU(A) = 70/130 ≈ 0.538, IoU(B) = 90/110 ≈ 0.818.
    // D2 = A (0.8): IoU(A) = 1, IoU(B) = 60/140 ≈ 0.429.
    // t ∈ {.50 … .80} (7 thresholds): D1 → B (best), D2 → A: tp = [1,2] → AP_t = 1, recall 1.
    // t ∈ {.85, .90, .95}: D1 matches nothing (FP), D2 → A: tp = [0,1], fp = [1,1], rc = [0, 1/2],
    //   pr = [0, 1/2] → envelope [1/2, 1/2]; r ≤ 0.5 (51 samples) → 1/2, else 0 → AP_t = 25.5/101, recall 1/2.
    // AP = (7 + 3·25.5/101)/10 ≈ 0.775743; AR = (7 + 3·0.5)/10 = 0.85.
    // (Taking the first gt ≥ t would give D1 → A at t = .5 and leave D2 a FP.)
    const g = gt(
      [1],
      [1],
      [
        [1, 1, [0, 0, 10, 10]],
        [1, 1, [4, 0, 10, 10]],
      ],
    );
    const r = cocoEvaluate(g, [det(1, 1, [3, 0, 10, 10], 0.9), det(1, 1, [0, 0, 10, 10], 0.8)]);
    expectStats(r, { AP: (7 + (3 * 25.5) / 101) / 10, AP50: 1, AP75: 1, AR100: 0.85 });
  });

  it('detections inside a crowd region are ignored, and the crowd gt is not counted', () => {
    // gt N [0,0,20,20] and crowd C [100,100,50,50] (iscrowd 1). Dets X1 [110,110,10,10] 0.95 and
    // X2 [120,120,20,20] 0.9 lie inside C: crowd IoU = inter / det area = 1 → both match C (a crowd gt
    // can be matched again) → ignored. TP on N 0.8 → tp = [1], npig = 1 → AP = 1, AR = 1.
    const anns: Ann[] = [
      [1, 1, [0, 0, 20, 20]],
      [1, 1, [100, 100, 50, 50], { iscrowd: 1 }],
    ];
    const dets = [det(1, 1, [110, 110, 10, 10], 0.95), det(1, 1, [120, 120, 20, 20], 0.9), det(1, 1, [0, 0, 20, 20], 0.8)];
    expectStats(cocoEvaluate(gt([1], [1], anns), dets), { AP: 1, AR100: 1, AR1: 0 });
    // AR1 = 0: with maxDets 1 only X1 (ignored) survives, so N is never recalled.
    // The same region as a regular gt: X1 IoU = 100/2500, X2 = 400/2500 → FPs; npig = 2:
    // tp = [0,0,1], fp = [1,2,2] → rc = [0,0,1/2], pr = [0,0,1/3] → envelope 1/3 up to r = 0.5 (51 samples)
    // → AP = 51/(3·101) = 17/101; AR = 1/2.
    const plain: Ann[] = [
      [1, 1, [0, 0, 20, 20]],
      [1, 1, [100, 100, 50, 50]],
    ];
    expectStats(cocoEvaluate(gt([1], [1], plain), dets), { AP: 17 / 101, AR100: 0.5 });
  });

  it('a det on a regular gt inside a crowd region matches the regular gt (ignored gts come last)', () => {
    // N [0,0,20,20] inside crowd C [0,0,100,100]; det = N: IoU(N) = 1 and crowd IoU = 400/400 = 1.
    // gts sorted ignored-last: N first → m = N; at C the loop breaks (a regular match is never traded for
    // an ignored gt) → TP → AP = 1, AR = 1 (matching C would make it ignored and give AR 0).
    const g = gt(
      [1],
      [1],
      [
        [1, 1, [0, 0, 100, 100], { iscrowd: 1 }],
        [1, 1, [0, 0, 20, 20]],
      ],
    );
    expectStats(cocoEvaluate(g, [det(1, 1, [0, 0, 20, 20], 0.9)]), { AP: 1, AR100: 1 });
  });

  it('a category without gt is skipped (−1), and results for unknown categories are dropped', () => {
    // cats 1, 2, 3; gt only for 1 and 2, both detected exactly → AP_1 = AP_2 = 1. Two cat-3 dets have
    // no gt to match: npig = 0 → cat 3 stays −1 and drops out of the mean (else AP would be 2/3).
    // A det of category 99 (not in categories) is not loaded at all.
    const g = gt(
      [1],
      [1, 2, 3],
      [
        [1, 1, [0, 0, 10, 10]],
        [1, 2, [20, 20, 10, 10]],
      ],
    );
    const dets = [
      det(1, 1, [0, 0, 10, 10], 0.9),
      det(1, 2, [20, 20, 10, 10], 0.8),
      det(1, 3, [0, 0, 10, 10], 0.99),
      det(1, 3, [40, 40, 10, 10], 0.7),
      det(1, 99, [0, 0, 10, 10], 1),
    ];
    const r = cocoEvaluate(g, dets);
    expectStats(r, { AP: 1, AR100: 1 });
    expectStats(r.perCategory[3], { AP: -1, AP50: -1, AR1: -1, AR100: -1 });
    expectStats(r.perCategory[1], { AP: 1, AR100: 1 });
    expect(Object.keys(r.perCategory).map(Number)).toEqual([1, 2, 3]);
  });

  it('small / medium / large split, detection area w·h, and the maxDets = 1 effect on AR1', () => {
    // img1: gt S [0,0,20,25] (area 500, small); img2: gt M [0,0,40,50] (2000, medium);
    // img3: gt L [0,0,100,200] (20000, large). Dets: img1 FP [200,200,100,100] 0.95 (area 10000 → large),
    // img1 TP on S 0.9; img3 TP on L 0.8; nothing on M. All boxes exact, so every IoU threshold is alike.
    // all:    FP .95, S .9, L .8 → tp = [0,1,2], fp = [1,1,1], npig = 3 → rc = [0,1/3,2/3],
    //         pr = [0,1/2,2/3] → envelope 2/3; r ≤ 2/3 holds for r = 0…0.66 (67 samples) → AP = 67·(2/3)/101
    //         = 134/303; AR100 = AR10 = 2/3.
    // small:  FP is unmatched with area outside [0, 32²] → ignored; L's det matches the (out-of-range,
    //         ignored) L → ignored; S TP → APs = 1, ARs = 1.
    // medium: M never detected; the two TPs match ignored gts, FP is outside the range → APm = 0, ARm = 0.
    // large:  FP .95 counts (area in range), S's det is ignored, L TP: tp = [0,0,1], fp = [1,1,1] →
    //         rc = [0,0,1], pr = [0,0,1/2] → envelope 1/2 → APl = 0.5; ARl = 1.
    // AR1:    one det per image: img1 keeps only the FP → only L recalled → 1/3.
    const g = gt(
      [1, 2, 3],
      [1],
      [
        [1, 1, [0, 0, 20, 25]],
        [2, 1, [0, 0, 40, 50]],
        [3, 1, [0, 0, 100, 200]],
      ],
    );
    const dets = [det(1, 1, [200, 200, 100, 100], 0.95), det(1, 1, [0, 0, 20, 25], 0.9), det(3, 1, [0, 0, 100, 200], 0.8)];
    const r = cocoEvaluate(g, dets);
    expectStats(r, {
      AP: 134 / 303,
      AP50: 134 / 303,
      AP75: 134 / 303,
      APs: 1,
      APm: 0,
      APl: 0.5,
      AR1: 1 / 3,
      AR10: 2 / 3,
      AR100: 2 / 3,
      ARs: 1,
      ARm: 0,
      ARl: 1,
    });
    // maxDets is configurable: [1, 2, 3] changes nothing here except the labels' meaning (≤ 2 dets/image).
    const r2 = cocoEvaluate(g, dets, { maxDets: [1, 2, 3] });
    expectStats(r2, { AP: 134 / 303, AR1: 1 / 3, AR10: 2 / 3 });
    // imgIds restricts the evaluation: image 3 alone has L and its exact det → 1 (−1 for small/medium).
    expectStats(cocoEvaluate(g, dets, { imgIds: [3] }), { AP: 1, APs: -1, APm: -1, APl: 1, AR100: 1 });
  });

  it('area ranges use the annotation area field, not the box', () => {
    // gt box 40×40 (1600 = medium by box) with area 900 (< 32² = 1024: small). Exact det → small 1,
    // medium has no non-ignored gt → −1.
    const g = gt([1], [1], [[1, 1, [0, 0, 40, 40], { area: 900 }]]);
    expectStats(cocoEvaluate(g, [det(1, 1, [0, 0, 40, 40], 0.9)]), { APs: 1, ARs: 1, APm: -1, ARm: -1, APl: -1 });
  });

  it('keeps only the top 100 detections per image and category', () => {
    // 100 FPs scored 0.9 push the TP (0.5) out of the top 100 → no TP at all: tp = 0 → AP 0, AR 0.
    const g = gt([1], [1], [[1, 1, [0, 0, 10, 10]]]);
    const fps = Array.from({ length: 100 }, (_, i) => det(1, 1, [100 + i, 100, 5, 5], 0.9));
    expectStats(cocoEvaluate(g, [...fps, det(1, 1, [0, 0, 10, 10], 0.5)]), { AP: 0, AR100: 0 });
    // Scored 0.95 the TP ranks first: tp = [1,1,…], rc = 1 from index 0 → AP = 1.
    expectStats(cocoEvaluate(g, [...fps, det(1, 1, [0, 0, 10, 10], 0.95)]), { AP: 1, AR100: 1 });
  });

  it('undefined settings are −1; gt without detections gives 0', () => {
    // No annotations at all: every setting lacks gt → −1 everywhere.
    const empty = cocoEvaluate(gt([1], [1], []), [det(1, 1, [0, 0, 5, 5], 0.5)]);
    expect(empty.stats).toEqual(new Array(12).fill(-1));
    // A gt and no detections: nd = 0 → recall 0, precision 0 (pycocotools' loadRes would raise on []).
    const none = cocoEvaluate(gt([1], [1], [[1, 1, [0, 0, 10, 10]]]), []);
    expectStats(none, { AP: 0, AR100: 0, APs: 0, APm: -1, APl: -1 });
  });

  it('a gt with id 0 never counts as matched (pycocotools stores the gt id and tests it against 0)', () => {
    const g = gt([1], [1], [[1, 1, [0, 0, 10, 10], { id: 0 }]]);
    expectStats(cocoEvaluate(g, [det(1, 1, [0, 0, 10, 10], 0.9)]), { AP: 0, AR100: 0 });
  });

  it('rejects results on images that are not in the ground truth, like loadRes', () => {
    expect(() => cocoEvaluate(gt([1], [1], []), [det(7, 1, [0, 0, 1, 1], 1)])).toThrow(/image_id 7/);
  });

  it('returns precision [T,R,K,A,M] and recall [T,K,A,M]', () => {
    // One image, one gt, its exact det: every precision entry of cat 0 ≈ 1, recall 1.
    const g = gt([1], [1, 2], [[1, 1, [0, 0, 50, 50]]]);
    const r = cocoEvaluate(g, [det(1, 1, [0, 0, 50, 50], 1)]);
    expect(r.counts).toEqual([10, 101, 2, 4, 3]);
    expect(r.precision.length).toBe(10 * 101 * 2 * 4 * 3);
    expect(r.recall.length).toBe(10 * 2 * 4 * 3);
    // [t=9, r=100, k=0, a=2 (medium: 2500 ∈ [1024, 9216]), m=2]
    const [T, R, K, A, M] = r.counts;
    void T;
    expect(r.precision[(((9 * R + 100) * K + 0) * A + 2) * M + 2]).toBeCloseTo(1, D);
    expect(r.recall[((9 * K + 0) * A + 2) * M + 2]).toBe(1);
    expect(r.recall[((9 * K + 1) * A + 2) * M + 2]).toBe(-1); // cat 2 has no gt
  });
});
