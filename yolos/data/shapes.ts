/**
 * The synthetic "shapes" detection dataset: small RGB images with 1–4 circles, squares and triangles.
 *
 * Image k of a dataset is image `start + k` of the stream `seed`, drawn from its own generator
 * `mulberry32(hashSeed(seed, start + k))`, so it depends only on (seed, start + k): random access,
 * any order, any worker. Draws, in this order:
 *   1. background grey g ~ U(0, 0.2) (one level for R, G, B);
 *   2. object count n ~ U{1, 2, 3, 4};
 *   3. per object: class ~ U{classes}; nominal square box with side s ~ U(0.10, 0.40)·size and top-left
 *      (x0, y0) ~ U(0, size − s)², redrawn (side and position) while its IoU with an earlier object's
 *      nominal box exceeds 0.1, at most 50 tries — if all 50 fail the object is skipped; colour
 *      ~ U(0, 1)³, redrawn until some channel differs from g by ≥ 0.35 and the largest channel is ≥ 0.55;
 *   4. paint in order (later objects over earlier ones), testing pixel centres (i + ½, j + ½):
 *      circle — inside the inscribed disc; square — inside the box; triangle — apex at the top centre,
 *      base on the bottom edge: y0 ≤ y ≤ y0 + s and |x − cx| ≤ (y − y0)/2;
 *   5. noise N(0, 0.03²) per pixel and channel, clipped to [0, 1].
 * Ground truth: the tight pixel box of each object's *visible* pixels (after later objects painted over
 * it); an object left with no visible pixel is dropped. `area` is the visible pixel count (COCO's area is
 * the mask area, and the shapes have exact masks). Labels are COCO-style category ids: class i of
 * `classes` has id i + 1 (0 is not used; the model's no-object slot stays separate).
 *
 * @example
 *   const train = shapesDataset({ seed: 1, count: 1000 });
 *   const val = shapesDataset({ seed: 1, count: 200, start: 1000 });   // disjoint from train
 *   const s = train.get(0);           // { image: Float32Array(3·64·64), boxes (cxcywh, normalised), labels, … }
 *   cocoEvaluate(val.toCoco(), detections);
 *   await writeShapesCoco(val, '/tmp/shapes', 'val');   // ./shapes-node.ts (Node)
 */
import { hashSeed, mulberry32, normalSampler } from './rng.ts';
import type { Rng } from './rng.ts';
import type { DetectionSample } from './sample.ts';
import type { CocoGroundTruth, CocoAnnotation } from '../eval/coco-eval.ts';

export type ShapeKind = 'circle' | 'square' | 'triangle';
export const SHAPE_KINDS: readonly ShapeKind[] = ['circle', 'square', 'triangle'];

export interface ShapesOptions {
  /** Stream seed. */
  seed: number;
  /** Number of images. */
  count: number;
  /** Image side in pixels (square images). Default 64. */
  size?: number;
  /** Class names, in category-id order (id = index + 1). Default ['circle', 'square', 'triangle']. */
  classes?: ShapeKind[];
  /** Index of the first image in the stream (use disjoint ranges for train/val). Default 0. */
  start?: number;
}

/** One drawn object of a scene. */
export interface ShapeObject {
  kind: ShapeKind;
  /** Category id (index in `classes` + 1). */
  label: number;
  /** Nominal square: top-left corner and side, in pixels (continuous). */
  x0: number;
  y0: number;
  side: number;
  colour: [number, number, number];
  /** Tight box of the visible pixels, [x, y, w, h] in whole pixels; all 0 when fully covered. */
  box: [number, number, number, number];
  /** Visible pixel count (0: fully covered, dropped from the ground truth). */
  area: number;
}

/** A rendered image with everything that produced it. */
export interface ShapesScene {
  size: number;
  background: number;
  /** Every drawn object, in paint order, including fully covered ones (area 0). */
  objects: ShapeObject[];
  /** [size·size]: index into `objects` of the object that owns each pixel, −1 for background. */
  owner: Int32Array;
  /** [3, size, size] noisy image in [0, 1] (absent when rendered with `noise: false`). */
  image?: Float32Array;
}

const MAX_TRIES = 50;
const MAX_OVERLAP_IOU = 0.1;
const NOISE_STD = 0.03;

/**
 * Whether the point (px, py) lies inside the shape drawn in the nominal square (x0, y0, side).
 * @example insideShape('triangle', 0, 0, 10, 5, 0.5) // true: near the apex, |5 − 5| ≤ 0.25
 */
export function insideShape(kind: ShapeKind, x0: number, y0: number, s: number, px: number, py: number): boolean {
  switch (kind) {
    case 'square':
      return px >= x0 && px <= x0 + s && py >= y0 && py <= y0 + s;
    case 'circle': {
      const r = s / 2;
      const dx = px - (x0 + r);
      const dy = py - (y0 + r);
      return dx * dx + dy * dy <= r * r;
    }
    case 'triangle':
      return py >= y0 && py <= y0 + s && Math.abs(px - (x0 + s / 2)) <= (py - y0) / 2;
  }
}

function iouXywh(a: number[], b: number[]): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

function checkClasses(classes: readonly string[]): ShapeKind[] {
  if (classes.length === 0) throw new Error('shapesDataset: classes is empty');
  for (const c of classes) {
    if (!SHAPE_KINDS.includes(c as ShapeKind)) throw new Error(`shapesDataset: unknown class '${c}' (known: ${SHAPE_KINDS.join(', ')})`);
  }
  if (new Set(classes).size !== classes.length) throw new Error(`shapesDataset: duplicate classes [${classes.join(', ')}]`);
  return [...classes] as ShapeKind[];
}

/**
 * Renders image `index` of the stream `seed` (see the file header for the recipe).
 * @example const sc = renderShapes(1, 0); sc.objects[0].box; sc.image![0];
 */
export function renderShapes(
  seed: number,
  index: number,
  opts: { size?: number; classes?: ShapeKind[]; noise?: boolean } = {},
): ShapesScene {
  const size = opts.size ?? 64;
  const classes = checkClasses(opts.classes ?? [...SHAPE_KINDS]);
  const rng: Rng = mulberry32(hashSeed(seed, index));
  const background = 0.2 * rng();
  const n = 1 + Math.floor(rng() * 4);
  const objects: ShapeObject[] = [];
  for (let o = 0; o < n; o++) {
    const c = Math.floor(rng() * classes.length);
    let placed: [number, number, number] | null = null;
    for (let t = 0; t < MAX_TRIES && !placed; t++) {
      const s = (0.1 + 0.3 * rng()) * size;
      const x0 = rng() * (size - s);
      const y0 = rng() * (size - s);
      const box = [x0, y0, s, s];
      if (objects.every((p) => iouXywh(box, [p.x0, p.y0, p.side, p.side]) <= MAX_OVERLAP_IOU)) placed = [x0, y0, s];
    }
    if (!placed) continue; // 50 failed tries: skip this object
    let colour: [number, number, number];
    for (;;) {
      colour = [rng(), rng(), rng()];
      const contrast = Math.max(...colour.map((v) => Math.abs(v - background)));
      if (contrast >= 0.35 && Math.max(...colour) >= 0.55) break;
    }
    objects.push({ kind: classes[c], label: c + 1, x0: placed[0], y0: placed[1], side: placed[2], colour, box: [0, 0, 0, 0], area: 0 });
  }

  // paint: later objects over earlier ones
  const owner = new Int32Array(size * size).fill(-1);
  objects.forEach((ob, o) => {
    const j0 = Math.max(0, Math.floor(ob.y0 - 1));
    const j1 = Math.min(size - 1, Math.ceil(ob.y0 + ob.side));
    const i0 = Math.max(0, Math.floor(ob.x0 - 1));
    const i1 = Math.min(size - 1, Math.ceil(ob.x0 + ob.side));
    for (let j = j0; j <= j1; j++) {
      for (let i = i0; i <= i1; i++) {
        if (insideShape(ob.kind, ob.x0, ob.y0, ob.side, i + 0.5, j + 0.5)) owner[j * size + i] = o;
      }
    }
  });
  // ground truth: tight box of the visible pixels
  const minX = new Array(objects.length).fill(Infinity);
  const minY = new Array(objects.length).fill(Infinity);
  const maxX = new Array(objects.length).fill(-Infinity);
  const maxY = new Array(objects.length).fill(-Infinity);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const o = owner[j * size + i];
      if (o < 0) continue;
      objects[o].area++;
      if (i < minX[o]) minX[o] = i;
      if (i > maxX[o]) maxX[o] = i;
      if (j < minY[o]) minY[o] = j;
      if (j > maxY[o]) maxY[o] = j;
    }
  }
  objects.forEach((ob, o) => {
    if (ob.area > 0) ob.box = [minX[o], minY[o], maxX[o] - minX[o] + 1, maxY[o] - minY[o] + 1];
  });

  const scene: ShapesScene = { size, background, objects, owner };
  if (opts.noise === false) return scene;
  const normal = normalSampler(rng);
  const hw = size * size;
  const image = new Float32Array(3 * hw);
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < hw; p++) {
      const o = owner[p];
      const clean = o < 0 ? background : objects[o].colour[ch];
      const v = clean + NOISE_STD * normal();
      image[ch * hw + p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  scene.image = image;
  return scene;
}

/** COCO-style file name of an image id: 12 digits and `.png` (COCO 2017 uses 12 digits and `.jpg`). */
function fileName(id: number): string {
  return `${String(id).padStart(12, '0')}.png`;
}

/** A shapes dataset: `get(k)`, `length`, `toCoco()` (written to disk by `writeShapesCoco` in ./shapes-node.ts). */
export class ShapesDataset {
  readonly seed: number;
  readonly length: number;
  readonly size: number;
  readonly start: number;
  readonly classes: ShapeKind[];
  /** COCO categories: { id: index + 1, name, supercategory: 'shape' }. */
  readonly categories: { id: number; name: string; supercategory: string }[];

  constructor(opts: ShapesOptions) {
    const { seed, count, size = 64, start = 0 } = opts;
    if (!Number.isInteger(count) || count < 0) throw new Error(`shapesDataset: count must be a non-negative integer, got ${count}`);
    if (!Number.isInteger(start) || start < 0) throw new Error(`shapesDataset: start must be a non-negative integer, got ${start}`);
    if (!Number.isInteger(size) || size < 8) throw new Error(`shapesDataset: size must be an integer ≥ 8, got ${size}`);
    this.seed = seed;
    this.length = count;
    this.size = size;
    this.start = start;
    this.classes = checkClasses(opts.classes ?? [...SHAPE_KINDS]);
    this.categories = this.classes.map((name, i) => ({ id: i + 1, name, supercategory: 'shape' }));
  }

  /** COCO image id of item k: its stream index + 1 (ids start at 1, unique across disjoint ranges). */
  imageId(k: number): number {
    return this.start + k + 1;
  }

  /** The full scene of item k (objects, owner map, image). */
  scene(k: number, opts: { noise?: boolean } = {}): ShapesScene {
    if (!Number.isInteger(k) || k < 0 || k >= this.length)
      throw new RangeError(`shapesDataset.get: index ${k} out of range [0, ${this.length})`);
    return renderShapes(this.seed, this.start + k, { size: this.size, classes: this.classes, noise: opts.noise });
  }

  /**
   * Item k: image [3, size, size] in [0, 1] and its visible objects (boxes cxcywh normalised, labels 1…C).
   * @example const { image, boxes, labels } = ds.get(0);
   */
  get(k: number): DetectionSample {
    const sc = this.scene(k);
    const kept = sc.objects.filter((o) => o.area > 0);
    const m = kept.length;
    const boxes = new Float32Array(m * 4);
    const labels = new Int32Array(m);
    const areas = new Float32Array(m);
    const S = this.size;
    kept.forEach((o, i) => {
      const [x, y, w, h] = o.box;
      boxes[i * 4] = (x + w / 2) / S;
      boxes[i * 4 + 1] = (y + h / 2) / S;
      boxes[i * 4 + 2] = w / S;
      boxes[i * 4 + 3] = h / S;
      labels[i] = o.label;
      areas[i] = o.area;
    });
    return { image: sc.image!, width: S, height: S, boxes, labels, areas, imageId: this.imageId(k), origSize: [S, S] };
  }

  /**
   * COCO annotations JSON of the whole dataset (bbox [x, y, w, h] in pixels, area, iscrowd 0;
   * annotation ids 1, 2, … in image order).
   */
  toCoco(): CocoGroundTruth & { images: { id: number; file_name: string; width: number; height: number }[] } {
    const images: { id: number; file_name: string; width: number; height: number }[] = [];
    const annotations: CocoAnnotation[] = [];
    for (let k = 0; k < this.length; k++) {
      const id = this.imageId(k);
      images.push({ id, file_name: fileName(id), width: this.size, height: this.size });
      for (const o of this.scene(k, { noise: false }).objects) {
        if (o.area === 0) continue;
        annotations.push({ id: annotations.length + 1, image_id: id, category_id: o.label, bbox: [...o.box], area: o.area, iscrowd: 0 });
      }
    }
    return {
      info: {
        description: `synthetic shapes, seed ${this.seed}, images ${this.start}..${this.start + this.length - 1}, ${this.size}×${this.size}`,
      },
      images,
      annotations,
      categories: this.categories.map((c) => ({ ...c })),
    };
  }
}

/**
 * The shapes dataset of `count` images from stream `seed`, starting at stream index `start`.
 * @example const ds = shapesDataset({ seed: 7, count: 100, size: 64 });
 */
export function shapesDataset(opts: ShapesOptions): ShapesDataset {
  return new ShapesDataset(opts);
}
