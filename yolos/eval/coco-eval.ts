/**
 * COCO bounding-box evaluation with pycocotools' `COCOeval(iouType='bbox')` definitions, step for step:
 * `loadRes` → `evaluate` (`computeIoU`, `evaluateImg`) → `accumulate` → `summarize`.
 *
 * Inputs
 *   groundTruth  COCO annotations JSON: { images: [{id}], annotations: [{id, image_id, category_id,
 *                bbox: [x, y, w, h], area, iscrowd}], categories: [{id}] }
 *   detections   COCO results: [{ image_id, category_id, bbox: [x, y, w, h], score }]
 * Output
 *   the 12 summary numbers (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl), the same per
 *   category, and the accumulated arrays precision [T, R, K, A, M] and recall [T, K, A, M] (T = 10 IoU
 *   thresholds, R = 101 recall thresholds, K categories, A = 4 area ranges, M = 3 maxDets), −1 where a
 *   setting has no ground truth.
 *
 * What pycocotools does, and so does this file:
 *  - IoU thresholds linspace(.5, .95, 10) and recall thresholds linspace(0, 1, 101), built with numpy's
 *    linspace arithmetic (i·step + start, last = stop), so e.g. the 9th IoU threshold is 0.8999999999999999.
 *  - bbox IoU as maskApi.c `bbIou`: intersection / (det area + gt area − intersection), and for a crowd
 *    gt intersection / det area; areas from the boxes (w·h).
 *  - area ranges on the annotation's `area` field (gts) and on w·h (detections, as `loadRes` sets it):
 *    all [0, 1e10], small [0, 32²], medium [32², 96²], large [96², 1e10], both ends inclusive.
 *  - per image and category: dets sorted by score with a stable sort (numpy mergesort), top maxDets[-1]
 *    kept; gts sorted ignored-last (stable); greedy matching per IoU threshold in that order: a det takes
 *    the unmatched gt with the highest IoU ≥ threshold (ties: the later gt), crowd gts may be taken again,
 *    and once a det holds a regular gt it stops at the first ignored one. A det matched to an ignored gt,
 *    or unmatched with its area outside the range, is ignored.
 *  - accumulate: dets of all images concatenated in image-id order, truncated per image to maxDet,
 *    stable-sorted by score; precision tp / (tp + fp + 2^-52), made monotone from the right, sampled at the
 *    recall thresholds with `searchsorted(rc, recThrs, 'left')` (0 past the last detection);
 *    recall = the final rc, or 0 with no dets; settings without non-ignored gt stay −1.
 *  - summarize: the mean of the entries > −1 (−1 if none); categories without gt therefore drop out.
 *  - quirk kept: a matched det stores the gt's `id`, and "matched" means that id ≠ 0, so a gt with id 0 never
 *    counts as matched (as in pycocotools). Annotations with the same id collapse to the last one, as in
 *    `COCO.loadAnns`.
 * Differences: an empty detection list gives zeros where gt exists (pycocotools' `loadRes` raises);
 * means use numpy's pairwise summation (bit-exact with numpy 2; numpy 1.x chunks long arrays, last bit).
 *
 * @example
 *   const r = cocoEvaluate(gtJson, results);   // results: [{ image_id, category_id, bbox, score }, …]
 *   r.AP; r.AP50; r.perCategory[1].AP; console.log(formatCocoStats(r));
 */

export interface CocoImage {
  id: number;
  width?: number;
  height?: number;
  file_name?: string;
}
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in pixels. */
  bbox: number[];
  /** Object area in pixels² (the segmentation area in COCO); the area ranges use this field. */
  area: number;
  iscrowd?: number | boolean;
}
export interface CocoCategory {
  id: number;
  name?: string;
  supercategory?: string;
}
export interface CocoGroundTruth {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  info?: unknown;
  licenses?: unknown;
}
export interface CocoDetection {
  image_id: number;
  category_id: number;
  /** [x, y, w, h] in pixels of the original image. */
  bbox: number[];
  score: number;
}

export interface CocoEvalOptions {
  /** Evaluate only these images (default: every image in groundTruth.images), as `params.imgIds`. */
  imgIds?: number[];
  /** Evaluate only these categories (default: every category in groundTruth.categories). */
  catIds?: number[];
  /** Three max-detections-per-image settings (default [1, 10, 100]); AR1/AR10/AR100 use them in order. */
  maxDets?: [number, number, number];
}

/** The 12 numbers of `COCOeval.summarize()` for bbox, in its order; −1 where undefined. */
export interface CocoStats {
  AP: number;
  AP50: number;
  AP75: number;
  APs: number;
  APm: number;
  APl: number;
  AR1: number;
  AR10: number;
  AR100: number;
  ARs: number;
  ARm: number;
  ARl: number;
}

export interface CocoEvalResult extends CocoStats {
  /** The same 12 numbers as an array (pycocotools' `stats`). */
  stats: number[];
  /** The 12 numbers computed for each category alone (−1 everywhere for a category without gt). */
  perCategory: Record<number, CocoStats>;
  /** [T, R, K, A, M] row-major: precision at each IoU thr, recall thr, category, area range, maxDets. */
  precision: Float64Array;
  /** [T, K, A, M] row-major: final recall. */
  recall: Float64Array;
  /** [T, R, K, A, M]. */
  counts: [number, number, number, number, number];
  params: {
    imgIds: number[];
    catIds: number[];
    iouThrs: number[];
    recThrs: number[];
    areaRng: [number, number][];
    areaRngLbl: string[];
    maxDets: number[];
  };
}

/** numpy.linspace(start, stop, num) with numpy's arithmetic: y_i = i·step + start, y_last = stop. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const y: number[] = [];
  for (let i = 0; i < num; i++) y.push(i * step + start);
  y[num - 1] = stop;
  return y;
}

export const COCO_IOU_THRS: readonly number[] = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
export const COCO_REC_THRS: readonly number[] = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
export const COCO_AREA_RNG: readonly [number, number][] = [
  [0 ** 2, 1e5 ** 2],
  [0 ** 2, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const COCO_AREA_LBL: readonly string[] = ['all', 'small', 'medium', 'large'];
/** numpy's np.spacing(1) = 2^-52. */
const SPACING_1 = Number.EPSILON;

interface Gt {
  id: number;
  bbox: number[];
  area: number;
  crowd: boolean;
  ignore: boolean;
}
interface Dt {
  id: number;
  bbox: number[];
  area: number;
  score: number;
}
/** One `evaluateImg` result: D dets (score-sorted), G gts (ignored last), T thresholds. */
interface EvalImg {
  dtScores: number[];
  /** [T, D]: id of the matched gt, 0 when unmatched. */
  dtMatches: Float64Array;
  /** [T, D]: 1 when the det is ignored. */
  dtIgnore: Uint8Array;
  /** [G]. */
  gtIgnore: Uint8Array;
}

/**
 * numpy's pairwise summation (`pairwise_sum` in loops_utils.h: blocks of 128 summed 8-way unrolled), so
 * that `np.mean` — and with it every summary number — is reproduced to the bit (numpy ≥ 2; numpy 1.x
 * additionally cuts arrays longer than 8192 into buffer-sized chunks, which can change the last bit).
 */
function pairwiseSum(a: number[], lo: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[lo + i];
    return res;
  }
  if (n <= 128) {
    const r = a.slice(lo, lo + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[lo + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
}

/** maskApi.c bbIou for one pair: IoU, or intersection / det area against a crowd gt. */
function bbIou(d: number[], g: number[], crowd: boolean): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const i = w * h;
  const da = d[2] * d[3];
  const ga = g[2] * g[3];
  return i / (crowd ? da : da + ga - i);
}

/** Indices of `keys` in ascending order, stable (numpy argsort kind='mergesort'; NaN last like numpy). */
function stableArgsort(keys: number[]): number[] {
  const idx = keys.map((_, i) => i);
  return idx.sort((a, b) => {
    const x = keys[a];
    const y = keys[b];
    if (x < y) return -1;
    if (x > y) return 1;
    const xn = x !== x;
    const yn = y !== y;
    return xn === yn ? 0 : xn ? 1 : -1;
  });
}

function checkBox(what: string, bbox: unknown): number[] {
  if (!Array.isArray(bbox) || bbox.length !== 4) {
    throw new Error(`cocoEvaluate: ${what} needs bbox [x, y, w, h], got ${JSON.stringify(bbox)}`);
  }
  return bbox as number[];
}

/**
 * pycocotools `evaluateImg` for one image, category and area range.
 * `gts` in annotation order, `dts` already score-sorted and truncated, `ious[d][g]` over that gt order.
 */
function evaluateImg(gts: Gt[], dts: Dt[], ious: number[][], aRng: readonly [number, number], iouThrs: readonly number[]): EvalImg {
  const T = iouThrs.length;
  const gtIgnoreRaw = gts.map((g) => (g.ignore || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0));
  const gtind = stableArgsort(gtIgnoreRaw); // ignored last
  const G = gts.length;
  const D = dts.length;
  const gtIg = new Uint8Array(G);
  for (let j = 0; j < G; j++) gtIg[j] = gtIgnoreRaw[gtind[j]];
  const gtm = new Float64Array(T * G); // det id matched to each gt, 0 = none
  const dtm = new Float64Array(T * D); // gt id matched to each det, 0 = none
  const dtIg = new Uint8Array(T * D);
  if (G > 0 && D > 0) {
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) {
        let iou = Math.min(iouThrs[t], 1 - 1e-10);
        let m = -1;
        for (let j = 0; j < G; j++) {
          const g = gts[gtind[j]];
          // this gt already matched and not a crowd: skip
          if (gtm[t * G + j] > 0 && !g.crowd) continue;
          // det already holds a regular gt and the rest are ignored gts: stop
          if (m > -1 && gtIg[m] === 0 && gtIg[j] === 1) break;
          const v = ious[d][gtind[j]];
          if (v < iou) continue;
          iou = v;
          m = j;
        }
        if (m === -1) continue;
        dtIg[t * D + d] = gtIg[m];
        dtm[t * D + d] = gts[gtind[m]].id;
        gtm[t * G + m] = dts[d].id;
      }
    }
  }
  // unmatched detections outside the area range are ignored
  for (let d = 0; d < D; d++) {
    const outside = dts[d].area < aRng[0] || dts[d].area > aRng[1];
    if (!outside) continue;
    for (let t = 0; t < T; t++) if (dtm[t * D + d] === 0) dtIg[t * D + d] = 1;
  }
  return { dtScores: dts.map((d) => d.score), dtMatches: dtm, dtIgnore: dtIg, gtIgnore: gtIg };
}

/** pycocotools' `Params` for bbox evaluation, resolved from the options. */
interface EvalParams {
  imgIds: number[];
  catIds: number[];
  iouThrs: readonly number[];
  recThrs: readonly number[];
  areaRng: readonly (readonly [number, number])[];
  /** Sorted ascending, 3 values. */
  maxDets: number[];
}

/** gts and dts grouped per (image, category), as `_prepare` leaves `_gts` and `_dts`. */
interface Prepared {
  gts: Map<string, Gt[]>;
  dts: Map<string, Dt[]>;
}

/** The accumulated arrays: precision [T, R, K, A, M] and recall [T, K, A, M], −1 where undefined. */
interface Accumulated {
  precision: Float64Array;
  recall: Float64Array;
}

const cellKey = (img: number, cat: number) => `${img}/${cat}`;

/**
 * Evaluates COCO-format detections against COCO ground truth exactly like pycocotools'
 * `COCOeval(gt, gt.loadRes(dets), 'bbox')` + `evaluate()` + `accumulate()` + `summarize()`.
 * @example const { AP, AP50 } = cocoEvaluate(gt, [{ image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 }]);
 */
export function cocoEvaluate(groundTruth: CocoGroundTruth, detections: CocoDetection[], opts: CocoEvalOptions = {}): CocoEvalResult {
  const params = resolveParams(groundTruth, opts);
  const prepared = prepare(groundTruth, detections, params);
  const acc = accumulate(evaluate(prepared, params), params);
  const all = summarize(acc, params, null);
  const perCategory: Record<number, CocoStats> = {};
  params.catIds.forEach((catId, k) => {
    perCategory[catId] = summarize(acc, params, k);
  });
  const { imgIds, catIds, iouThrs, recThrs, areaRng, maxDets } = params;
  return {
    ...all,
    stats: STAT_KEYS.map((s) => all[s]),
    perCategory,
    precision: acc.precision,
    recall: acc.recall,
    counts: [iouThrs.length, recThrs.length, catIds.length, areaRng.length, maxDets.length],
    params: {
      imgIds,
      catIds,
      iouThrs: [...iouThrs],
      recThrs: [...recThrs],
      areaRng: areaRng.map((r) => [r[0], r[1]] as [number, number]),
      areaRngLbl: [...COCO_AREA_LBL],
      maxDets,
    },
  };
}

/** `COCOeval.params` with the options applied (ids as np.unique: deduplicated and sorted). */
function resolveParams(groundTruth: CocoGroundTruth, opts: CocoEvalOptions): EvalParams {
  const maxDets = [...(opts.maxDets ?? [1, 10, 100])].sort((a, b) => a - b);
  if (maxDets.length !== 3) throw new Error(`cocoEvaluate: maxDets needs 3 values, got [${maxDets}]`);
  const uniqSorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
  return {
    imgIds: uniqSorted(opts.imgIds ?? groundTruth.images.map((im) => im.id)),
    catIds: uniqSorted(opts.catIds ?? groundTruth.categories.map((c) => c.id)),
    iouThrs: COCO_IOU_THRS,
    recThrs: COCO_REC_THRS,
    areaRng: COCO_AREA_RNG,
    maxDets,
  };
}

/**
 * `_prepare`: the gts of the evaluated images and categories (COCO.createIndex + getAnnIds + loadAnns),
 * and the dets as `loadRes` makes them (ids 1.., area = w·h, not crowd; every result must name a gt image).
 */
function prepare(groundTruth: CocoGroundTruth, detections: CocoDetection[], params: EvalParams): Prepared {
  const gtImgIds = new Set(groundTruth.images.map((im) => im.id));
  const imgSet = new Set(params.imgIds);
  const catSet = new Set(params.catIds);
  const push = <V>(map: Map<string, V[]>, k: string, v: V) => {
    const list = map.get(k);
    if (list) list.push(v);
    else map.set(k, [v]);
  };
  const annById = new Map<number, CocoAnnotation>();
  for (const ann of groundTruth.annotations) annById.set(ann.id, ann);
  const gts = new Map<string, Gt[]>();
  for (const raw of groundTruth.annotations) {
    if (!imgSet.has(raw.image_id)) continue;
    const ann = annById.get(raw.id)!;
    if (!catSet.has(ann.category_id)) continue;
    if (typeof ann.area !== 'number') throw new Error(`cocoEvaluate: annotation ${ann.id} has no numeric 'area'`);
    const crowd = !!ann.iscrowd;
    push(gts, cellKey(ann.image_id, ann.category_id), {
      id: ann.id,
      bbox: checkBox(`annotation ${ann.id}`, ann.bbox),
      area: ann.area,
      crowd,
      ignore: crowd,
    });
  }
  const dts = new Map<string, Dt[]>();
  detections.forEach((det, i) => {
    if (!gtImgIds.has(det.image_id)) {
      throw new Error(
        `cocoEvaluate: Results do not correspond to current coco set (image_id ${det.image_id} is not in groundTruth.images)`,
      );
    }
    if (!imgSet.has(det.image_id) || !catSet.has(det.category_id)) return;
    const bb = checkBox(`detection ${i}`, det.bbox);
    push(dts, cellKey(det.image_id, det.category_id), { id: i + 1, bbox: bb, area: bb[2] * bb[3], score: det.score });
  });
  return { gts, dts };
}

/**
 * `evaluate`: computeIoU + evaluateImg for every (category, area range, image), as
 * evalImgs[k][a][i], null where the image has neither gts nor dets of the category.
 */
function evaluate({ gts: gtsBy, dts: dtsBy }: Prepared, { imgIds, catIds, areaRng, iouThrs, maxDets }: EvalParams): (EvalImg | null)[][][] {
  const maxDetLast = maxDets[maxDets.length - 1];
  const evalImgs: (EvalImg | null)[][][] = catIds.map(() => areaRng.map(() => new Array<EvalImg | null>(imgIds.length).fill(null)));
  catIds.forEach((catId, k) => {
    imgIds.forEach((imgId, i) => {
      const gts = gtsBy.get(cellKey(imgId, catId)) ?? [];
      const dtsAll = dtsBy.get(cellKey(imgId, catId)) ?? [];
      if (gts.length === 0 && dtsAll.length === 0) return;
      const order = stableArgsort(dtsAll.map((d) => -d.score));
      const dts = order.slice(0, maxDetLast).map((j) => dtsAll[j]);
      const ious = dts.map((d) => gts.map((g) => bbIou(d.bbox, g.bbox, g.crowd)));
      areaRng.forEach((aRng, a) => {
        evalImgs[k][a][i] = evaluateImg(gts, dts, ious, aRng, iouThrs);
      });
    });
  });
  return evalImgs;
}

const precisionIndex = (p: EvalParams, t: number, r: number, k: number, a: number, m: number) =>
  (((t * p.recThrs.length + r) * p.catIds.length + k) * p.areaRng.length + a) * p.maxDets.length + m;
const recallIndex = (p: EvalParams, t: number, k: number, a: number, m: number) =>
  ((t * p.catIds.length + k) * p.areaRng.length + a) * p.maxDets.length + m;

/** `accumulate`: the precision/recall curves of every (IoU thr, category, area range, maxDets). */
function accumulate(evalImgs: (EvalImg | null)[][][], params: EvalParams): Accumulated {
  const { iouThrs, recThrs, catIds, areaRng, maxDets } = params;
  const T = iouThrs.length,
    R = recThrs.length,
    K = catIds.length,
    A = areaRng.length,
    M = maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    for (let a = 0; a < A; a++) {
      const E = evalImgs[k][a].filter((e): e is EvalImg => e !== null);
      if (E.length === 0) continue;
      let npig = 0;
      for (const e of E) for (const ig of e.gtIgnore) if (ig === 0) npig++;
      for (let m = 0; m < M; m++) {
        const maxDet = maxDets[m];
        // concatenate the first maxDet dets of each image, in image order
        const scores: number[] = [];
        const src: [EvalImg, number][] = [];
        for (const e of E) {
          const n = Math.min(e.dtScores.length, maxDet);
          for (let d = 0; d < n; d++) {
            scores.push(e.dtScores[d]);
            src.push([e, d]);
          }
        }
        if (npig === 0) continue;
        const inds = stableArgsort(scores.map((s) => -s));
        const nd = inds.length;
        const rc = new Float64Array(nd);
        const pr = new Float64Array(nd);
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          for (let j = 0; j < nd; j++) {
            const [e, d] = src[inds[j]];
            const D = e.dtScores.length;
            const matched = e.dtMatches[t * D + d] !== 0;
            const ignored = e.dtIgnore[t * D + d] !== 0;
            if (matched && !ignored) tp++;
            if (!matched && !ignored) fp++;
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + SPACING_1);
          }
          recall[recallIndex(params, t, k, a, m)] = nd ? rc[nd - 1] : 0;
          // precision envelope: monotone non-increasing from the right
          for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          // q[r] = pr[searchsorted(rc, recThrs[r], 'left')], 0 past the end
          let p = 0;
          for (let r = 0; r < R; r++) {
            while (p < nd && rc[p] < recThrs[r]) p++;
            precision[precisionIndex(params, t, r, k, a, m)] = p < nd ? pr[p] : 0;
          }
        }
      }
    }
  }
  return { precision, recall };
}

/** `summarize`: the 12 numbers over every category (kOnly null) or over category index kOnly alone. */
function summarize(acc: Accumulated, params: EvalParams, kOnly: number | null): CocoStats {
  const md = params.maxDets;
  const one = (ap: boolean, iouThr: number | null, areaLbl: string, maxDet: number) =>
    summarizeOne(acc, params, ap, iouThr, areaLbl, maxDet, kOnly);
  return {
    AP: one(true, null, 'all', md[2]),
    AP50: one(true, 0.5, 'all', md[2]),
    AP75: one(true, 0.75, 'all', md[2]),
    APs: one(true, null, 'small', md[2]),
    APm: one(true, null, 'medium', md[2]),
    APl: one(true, null, 'large', md[2]),
    AR1: one(false, null, 'all', md[0]),
    AR10: one(false, null, 'all', md[1]),
    AR100: one(false, null, 'all', md[2]),
    ARs: one(false, null, 'small', md[2]),
    ARm: one(false, null, 'medium', md[2]),
    ARl: one(false, null, 'large', md[2]),
  };
}

/** `_summarize` for one setting: the mean of the entries > −1 (−1 if none). */
function summarizeOne(
  acc: Accumulated,
  params: EvalParams,
  ap: boolean,
  iouThr: number | null,
  areaLbl: string,
  maxDet: number,
  kOnly: number | null,
): number {
  const { iouThrs, recThrs, catIds, maxDets } = params;
  const a = COCO_AREA_LBL.indexOf(areaLbl);
  const m = maxDets.indexOf(maxDet);
  const ts = iouThr === null ? iouThrs.map((_, t) => t) : iouThrs.flatMap((v, t) => (v === iouThr ? [t] : []));
  const ks = kOnly === null ? catIds.map((_, k) => k) : [kOnly];
  if (m < 0) return -1;
  const vals: number[] = []; // s[s > -1], in numpy's C order (t, r, k) or (t, k)
  for (const t of ts) {
    if (ap) {
      for (let r = 0; r < recThrs.length; r++) {
        for (const k of ks) {
          const v = acc.precision[precisionIndex(params, t, r, k, a, m)];
          if (v > -1) vals.push(v);
        }
      }
    } else {
      for (const k of ks) {
        const v = acc.recall[recallIndex(params, t, k, a, m)];
        if (v > -1) vals.push(v);
      }
    }
  }
  return vals.length === 0 ? -1 : pairwiseSum(vals, 0, vals.length) / vals.length;
}

const STAT_KEYS: (keyof CocoStats)[] = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];

/**
 * The 12 lines `COCOeval.summarize()` prints.
 * @example console.log(formatCocoStats(cocoEvaluate(gt, dets)));
 */
export function formatCocoStats(r: CocoEvalResult): string {
  const [m0, m1, m2] = r.params.maxDets;
  const rows: [string, string, string, number, number][] = [
    ['Average Precision', '(AP)', '0.50:0.95', 0, m2],
    ['Average Precision', '(AP)', '0.50', 0, m2],
    ['Average Precision', '(AP)', '0.75', 0, m2],
    ['Average Precision', '(AP)', '0.50:0.95', 1, m2],
    ['Average Precision', '(AP)', '0.50:0.95', 2, m2],
    ['Average Precision', '(AP)', '0.50:0.95', 3, m2],
    ['Average Recall', '(AR)', '0.50:0.95', 0, m0],
    ['Average Recall', '(AR)', '0.50:0.95', 0, m1],
    ['Average Recall', '(AR)', '0.50:0.95', 0, m2],
    ['Average Recall', '(AR)', '0.50:0.95', 1, m2],
    ['Average Recall', '(AR)', '0.50:0.95', 2, m2],
    ['Average Recall', '(AR)', '0.50:0.95', 3, m2],
  ];
  return rows
    .map(
      ([title, type, iou, a, md], i) =>
        ` ${title.padEnd(18)} ${type} @[ IoU=${iou.padEnd(9)} | area=${COCO_AREA_LBL[a].padStart(6)} | maxDets=${String(md).padStart(3)} ] = ${r.stats[i].toFixed(3)}`,
    )
    .join('\n');
}
