/**
 * Where training and validation batches come from: the synthetic shapes streams or COCO datasets
 * (browser-safe; opening a folder on disk is `makeSources` in ./data-node.ts). Category ids map to
 * class indices: raw when every id is below num_labels (COCO: ids 1…90, 91 labels), else in sorted
 * order (shapes: ids 1…3 → classes 0…2).
 */
import { shapesDataset } from '../data/shapes.ts';
import type { CocoDataset } from '../data/coco.ts';
import {
  collate,
  trainAugment,
  evalTransform,
  SHAPES_AUGMENT,
  TI_AUGMENT,
  SMALL_AUGMENT,
  type AugmentConfig,
  type Batch,
} from '../data/augment.ts';
import { hashSeed, mulberry32 } from '../data/rng.ts';
import type { DetectionSample } from '../data/sample.ts';
import type { CocoGroundTruth } from '../eval/coco-eval.ts';

/** The held-out validation stream of the shapes data: seed 0 from image 2⁴⁰ on (training streams start at 0). */
export const SHAPES_VAL = { seed: 0, start: 2 ** 40, count: 200 } as const;

export interface LabelMap {
  /** class index → COCO category id */
  categoryIds: number[];
  toIndex(categoryId: number): number;
  id2label: Record<string, string>;
}

export function labelMap(categories: { id: number; name?: string }[], numLabels: number): LabelMap {
  const ids = categories.map((c) => c.id).sort((a, b) => a - b);
  const raw = ids.every((id) => id >= 0 && id < numLabels);
  if (!raw && ids.length > numLabels) throw new Error(`the data has ${ids.length} categories but the model has ${numLabels} labels`);
  const categoryIds = raw ? Array.from({ length: numLabels }, (_, i) => i) : ids;
  const index = new Map(categoryIds.map((id, i) => [id, i]));
  const names = new Map(categories.map((c) => [c.id, c.name ?? String(c.id)]));
  return {
    categoryIds,
    toIndex: (id) => {
      const i = index.get(id);
      if (i === undefined) throw new Error(`category id ${id} is not one of the model's classes`);
      return i;
    },
    id2label: Object.fromEntries(categoryIds.map((id, i) => [String(i), names.get(id) ?? 'N/A'])),
  };
}

export interface TrainSource {
  name: string;
  categories: { id: number; name?: string }[];
  /** Batch number `step` of `size` samples (deterministic in (seed, step)). */
  batch(step: number, size: number): Promise<Batch>;
  /** Images in one epoch (absent for an endless stream such as the shapes data). */
  images?: number;
}

export interface ValSource {
  groundTruth: CocoGroundTruth;
  length: number;
  /** Sample i, resized for evaluation, with its COCO image id and original size. */
  get(i: number): Promise<DetectionSample & { imageId: number; origSize: [number, number] }>;
}

/** The augmentation of a model preset, or one scaled to a custom image `size`. */
export function augmentFor(model: string, size?: number): AugmentConfig {
  if (size) {
    const lo = Math.max(16, Math.round(size / 2 / 16) * 16);
    const scales = Array.from({ length: Math.floor((size - lo) / 16) + 1 }, (_, i) => lo + 16 * i);
    return {
      ...SHAPES_AUGMENT,
      scales,
      maxSize: Math.floor((size * 1333) / 800),
      cropScales: [size, Math.round(size * 1.25), Math.round(size * 1.5)],
      cropMin: Math.round(size * 0.75),
      cropMax: Math.round(size * 1.25),
    };
  }
  return model === 'tiny' ? TI_AUGMENT : model === 'nano16' ? SHAPES_AUGMENT : SMALL_AUGMENT;
}

/** What the train and val sources are built from (`makeSources` in ./data-node.ts adds the folder). */
export interface SourceOptions {
  seed: number;
  model: string;
  size?: number;
  augment: boolean;
  /** COCO validation images: the resize (the trainer passes the recipe's `validationResize`); default the largest training scale. */
  evalResize?: { shortestEdge: number; longestEdge: number };
}

/** The synthetic shapes streams: training from image 0 of `seed`, validation `SHAPES_VAL`. */
export function shapesSources(opts: SourceOptions): { train: TrainSource; val: ValSource } {
  const size = opts.size ?? 64;
  const train = shapesDataset({ seed: opts.seed, count: Number.MAX_SAFE_INTEGER, size });
  const val = shapesDataset({ ...SHAPES_VAL, size });
  const cfg = augmentFor(opts.model, size);
  return {
    train: {
      name: 'shapes',
      categories: train.categories,
      async batch(step, n) {
        const samples = Array.from({ length: n }, (_, i) => {
          const s = train.get(step * n + i);
          return opts.augment ? trainAugment(s, mulberry32(hashSeed(opts.seed, step * n + i)), cfg) : s;
        });
        return collate(samples);
      },
    },
    val: {
      groundTruth: val.toCoco(),
      length: val.length,
      async get(i) {
        const s = val.get(i);
        return { ...s, imageId: s.imageId ?? i, origSize: s.origSize ?? [s.height, s.width] };
      },
    },
  };
}

/** Consecutive failures, with no image ever read, after which training stops (a systematic fault). */
const FAILURES_BEFORE_GIVING_UP = 20;

/**
 * Sources over COCO datasets (from any platform). A training image that cannot be read, decoded or
 * transformed is skipped with a warning naming it and the running count; its batch slot takes the next
 * image of the epoch's permutation, so batches stay deterministic in (seed, step) given the bad images.
 * Training stops with an Error when the first 20 tried all fail or when no image is left.
 * Validation images are not skipped: an image left out would change what the scores measure.
 */
export function cocoSources(
  trainSet: CocoDataset,
  valSet: CocoDataset,
  opts: SourceOptions & { name: string; onWarning?: (message: string) => void },
): { train: TrainSource; val: ValSource } {
  const warn = opts.onWarning ?? console.warn;
  const cfg = augmentFor(opts.model, opts.size);
  const evalResize = opts.evalResize ?? { shortestEdge: cfg.scales[cfg.scales.length - 1], longestEdge: cfg.maxSize };
  const N = trainSet.length;
  if (N === 0) throw new Error(`${trainSet.annotationFile}: no images to train on`);
  const skipped = new Set<number>();
  let read = 0;
  let firstError = '';
  /** The sample of batch slot k: image perm[k], or the next usable one after it. */
  async function slot(k: number): Promise<DetectionSample> {
    for (let kk = k; kk < k + N; kk++) {
      const index = permutation(N, hashSeed(opts.seed, Math.floor(kk / N)))[kk % N];
      if (skipped.has(index)) continue;
      try {
        const s = await trainSet.get(index);
        const out = opts.augment ? trainAugment(s, mulberry32(hashSeed(opts.seed + 1, k)), cfg) : s;
        read++;
        return out;
      } catch (e) {
        const info = trainSet.imageInfo(index);
        const message = (e as Error).message;
        firstError ||= message;
        skipped.add(index);
        warn(`skipping training image id ${info.id} '${info.file_name}': ${message} (${skipped.size} of ${N} skipped so far)`);
        if (read === 0 && skipped.size >= Math.min(N, FAILURES_BEFORE_GIVING_UP)) {
          throw new Error(
            `${trainSet.annotationFile}: the first ${skipped.size} training images all failed, the first with: ${firstError}`,
          );
        }
      }
    }
    throw new Error(`${trainSet.annotationFile}: all ${N} training images were skipped, the first with: ${firstError}`);
  }
  return {
    train: {
      name: opts.name,
      categories: trainSet.categories,
      images: N,
      async batch(step, n) {
        const samples: DetectionSample[] = [];
        for (let i = 0; i < n; i++) samples.push(await slot(step * n + i)); // epoch-wise seeded permutation
        return collate(samples);
      },
    },
    val: {
      groundTruth: valSet.groundTruth,
      length: valSet.length,
      async get(i) {
        const raw = await valSet.get(i);
        return { ...evalTransform(raw, evalResize.shortestEdge, evalResize.longestEdge), imageId: raw.imageId, origSize: raw.origSize };
      },
    },
  };
}

const permCache = new Map<string, Int32Array>();
function permutation(n: number, seed: number): Int32Array {
  const key = `${n}/${seed}`;
  let p = permCache.get(key);
  if (p) return p;
  p = Int32Array.from({ length: n }, (_, i) => i);
  const rng = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  if (permCache.size > 4) permCache.clear();
  permCache.set(key, p);
  return p;
}
