/**
 * YOLOS/DETR training augmentation, the eval resize, ImageNet normalisation and batching, on Float32
 * CHW images (YOLOS `datasets/transforms.py`, `datasets/coco.py`; docs/yolos-spec-notes.md).
 *
 * Train pipeline (`trainAugment`), every random draw from the `rng` passed in, in this order:
 *   1. RandomHorizontalFlip(0.5): boxes x' = W − x (x0 and x1 swap);
 *   2. RandomSelect(0.5) between
 *        (a) RandomResize(scales, maxSize), and
 *        (b) RandomResize(cropScales) → RandomSizeCrop(cropMin, cropMax) → RandomResize(scales, maxSize);
 *   3. boxes to (cx, cy, w, h) normalised by the final (unpadded) size.
 * `normalizeImageNet` and zero padding happen in `collate`.
 *
 * Resize follows the YOLOS `get_size_with_aspect_ratio`: cap the short side so the long side stays
 * ≤ maxSize (Python round, i.e. half to even), keep the aspect ratio with int() truncation, then floor
 * both sides to a multiple of 16. Pixels are resampled bilinearly with half-pixel centres
 * (align_corners = False, like torch `interpolate`) and WITHOUT antialiasing: torchvision/PIL bilinear
 * widens the kernel when downscaling, so downscaled pixels differ (mostly at edges); boxes are exact.
 * Internally targets are (x0, y0, x1, y1) pixels in float64 (`PixelSample`), as in DETR.
 *
 * @example
 *   const rng = mulberry32(1);
 *   const batch = collate([0, 1].map((k) => trainAugment(ds.get(k), rng, SHAPES_AUGMENT)));
 *   batch.shape; // [2, 3, Hmax, Wmax], ImageNet-normalised, zero-padded bottom/right
 */
import { choice, randInt } from './rng.ts';
import type { Rng } from './rng.ts';
import type { DetectionSample } from './sample.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from '../preprocess.ts';

export interface AugmentConfig {
  /** Short sides of the final RandomResize. */
  scales: number[];
  /** Cap on the long side of the final RandomResize. */
  maxSize: number;
  /** Short sides of the crop branch's first RandomResize (no cap). */
  cropScales: number[];
  /** RandomSizeCrop bounds: crop w ~ U{cropMin … min(W, cropMax)}, same for h. */
  cropMin: number;
  cropMax: number;
  /** Resize floors both sides to a multiple of this (16 for YOLOS, 1 for DETR). */
  multiple: number;
  /** Horizontal flip probability. */
  flipP: number;
  /** Probability of branch (a), plain resize, over (b), resize-crop-resize. */
  selectP: number;
}

const range16 = (lo: number, hi: number) => Array.from({ length: (hi - lo) / 16 + 1 }, (_, i) => lo + 16 * i);

/** YOLOS-Ti (`--backbone_name tiny`): scales 256…608 step 16, max 608·1333//800 = 1013. */
export const TI_AUGMENT: AugmentConfig = {
  scales: range16(256, 608),
  maxSize: 1013,
  cropScales: [400, 500, 600],
  cropMin: 384,
  cropMax: 600,
  multiple: 16,
  flipP: 0.5,
  selectP: 0.5,
};
/** YOLOS-S / S-dWr / B: scales 480…800 step 16, max 1333. */
export const SMALL_AUGMENT: AugmentConfig = { ...TI_AUGMENT, scales: range16(480, 800), maxSize: 1333 };
/**
 * For the 64×64 shapes data: final short side 48/64/80 with the long side ≤ 128; crop branch resizes to
 * 64/80/96, crops 48…80 per side, then resizes.
 */
export const SHAPES_AUGMENT: AugmentConfig = {
  scales: [48, 64, 80],
  maxSize: 128,
  cropScales: [64, 80, 96],
  cropMin: 48,
  cropMax: 80,
  multiple: 16,
  flipP: 0.5,
  selectP: 0.5,
};

/** A sample with pixel-space targets: boxes [M, 4] as (x0, y0, x1, y1) in pixels of this image. */
export interface PixelSample {
  image: Float32Array;
  width: number;
  height: number;
  boxes: Float64Array;
  labels: Int32Array;
  areas: Float64Array;
  imageId?: number;
  origSize?: [number, number];
}

/** Normalised cxcywh → pixel xyxy. */
export function toPixelSample(s: DetectionSample): PixelSample {
  const m = s.labels.length;
  const boxes = new Float64Array(m * 4);
  for (let i = 0; i < m; i++) {
    const cx = s.boxes[i * 4] * s.width;
    const cy = s.boxes[i * 4 + 1] * s.height;
    const w = s.boxes[i * 4 + 2] * s.width;
    const h = s.boxes[i * 4 + 3] * s.height;
    boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
  }
  return {
    image: s.image,
    width: s.width,
    height: s.height,
    boxes,
    labels: s.labels,
    areas: Float64Array.from(s.areas),
    imageId: s.imageId,
    origSize: s.origSize,
  };
}

/** Pixel xyxy → normalised cxcywh (DETR `Normalize`: box_xyxy_to_cxcywh / [w, h, w, h]). */
export function toDetectionSample(p: PixelSample): DetectionSample {
  const m = p.labels.length;
  const boxes = new Float32Array(m * 4);
  for (let i = 0; i < m; i++) {
    const [x0, y0, x1, y1] = p.boxes.subarray(i * 4, i * 4 + 4);
    boxes.set([(x0 + x1) / 2 / p.width, (y0 + y1) / 2 / p.height, (x1 - x0) / p.width, (y1 - y0) / p.height], i * 4);
  }
  const out: DetectionSample = {
    image: p.image,
    width: p.width,
    height: p.height,
    boxes,
    labels: p.labels,
    areas: Float32Array.from(p.areas),
  };
  if (p.imageId !== undefined) out.imageId = p.imageId;
  if (p.origSize !== undefined) out.origSize = p.origSize;
  return out;
}

/** Horizontal flip of image and boxes: (x0, y0, x1, y1) → (W − x1, y0, W − x0, y1). */
export function hflip(p: PixelSample): PixelSample {
  const { width: W, height: H } = p;
  const image = new Float32Array(p.image.length);
  for (let row = 0; row < 3 * H; row++) {
    const o = row * W;
    for (let x = 0; x < W; x++) image[o + x] = p.image[o + W - 1 - x];
  }
  const boxes = new Float64Array(p.boxes.length);
  for (let i = 0; i < p.labels.length; i++) {
    const [x0, y0, x1, y1] = p.boxes.subarray(i * 4, i * 4 + 4);
    boxes.set([W - x1, y0, W - x0, y1], i * 4);
  }
  return { ...p, image, boxes };
}

/** Python's round(): nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Output [height, width] of the YOLOS resize of an image of (h, w) to short side `size`, the long side
 * capped at `maxSize` (optional), both sides floored to a multiple of `multiple`. An image so thin that
 * the capped short side floors to 0 (e.g. 17×200 with a cap of 128) gets short side `multiple` and its
 * long side capped: the aspect ratio changes, boxes follow the actual ratios (YOLOS would fail there).
 * A `size` or `maxSize` below `multiple` is a configuration error and throws.
 * @example yolosResizeShape(480, 640, 512, 853) // [512, 672]
 */
export function yolosResizeShape(h: number, w: number, size: number, maxSize?: number, multiple = 16): [number, number] {
  const requested = size;
  if (maxSize !== undefined) {
    const minO = Math.min(w, h);
    const maxO = Math.max(w, h);
    if ((maxO / minO) * size > maxSize) size = roundHalfEven((maxSize * minO) / maxO);
  }
  const floorTo = (v: number) => Math.floor(v / multiple) * multiple;
  let oh: number;
  let ow: number;
  if ((w <= h && w === size) || (h <= w && h === size)) {
    [oh, ow] = [h, w];
  } else if (w < h) {
    ow = size;
    oh = Math.trunc((size * h) / w);
  } else {
    oh = size;
    ow = Math.trunc((size * w) / h);
  }
  const out: [number, number] = [floorTo(oh), floorTo(ow)];
  const thin = requested >= multiple && (maxSize === undefined || maxSize >= multiple);
  if ((out[0] < 1 || out[1] < 1) && thin) {
    // The cap pushed the short side below one multiple: keep `multiple` there and cap the long side.
    const long = floorTo(Math.min(maxSize ?? Infinity, Math.trunc((multiple * Math.max(w, h)) / Math.min(w, h))));
    return w < h ? [long, multiple] : [multiple, long];
  }
  if (out[0] < 1 || out[1] < 1) {
    throw new Error(
      `resize: ${h}×${w} to short side ${size}${maxSize ? `, max ${maxSize}` : ''} gives ${oh}×${ow}, which floors to ${out[0]}×${out[1]} (multiple ${multiple})`,
    );
  }
  return out;
}

/**
 * Bilinear resize of a [C, H, W] image to [C, oh, ow]: half-pixel centres (src = (dst + ½)·in/out − ½,
 * clamped at 0 and at the last pixel), no antialiasing.
 * @example resizeBilinearChw(img, 3, 64, 64, 48, 48)
 */
export function resizeBilinearChw(img: Float32Array, C: number, H: number, W: number, oh: number, ow: number): Float32Array {
  if (img.length !== C * H * W) throw new Error(`resizeBilinearChw: image has ${img.length} values, expected ${C}×${H}×${W}`);
  const out = new Float32Array(C * oh * ow);
  const axis = (n: number, on: number) => {
    const i0 = new Int32Array(on);
    const i1 = new Int32Array(on);
    const l = new Float64Array(on);
    const scale = n / on;
    for (let d = 0; d < on; d++) {
      let src = (d + 0.5) * scale - 0.5;
      if (src < 0) src = 0;
      const f = Math.min(Math.floor(src), n - 1);
      i0[d] = f;
      i1[d] = Math.min(f + 1, n - 1);
      l[d] = src - f;
    }
    return { i0, i1, l };
  };
  const ys = axis(H, oh);
  const xs = axis(W, ow);
  for (let c = 0; c < C; c++) {
    const base = c * H * W;
    for (let y = 0; y < oh; y++) {
      const r0 = base + ys.i0[y] * W;
      const r1 = base + ys.i1[y] * W;
      const ly = ys.l[y];
      const o = (c * oh + y) * ow;
      for (let x = 0; x < ow; x++) {
        const a = xs.i0[x];
        const b = xs.i1[x];
        const lx = xs.l[x];
        const top = img[r0 + a] * (1 - lx) + img[r0 + b] * lx;
        const bot = img[r1 + a] * (1 - lx) + img[r1 + b] * lx;
        out[o + x] = top * (1 - ly) + bot * ly;
      }
    }
  }
  return out;
}

/**
 * YOLOS resize of image and target (boxes and areas scaled by the actual output/input ratios).
 * @example resize(p, 512, 853) // short side 512 (floored to 16), long side ≤ 853
 */
export function resize(p: PixelSample, size: number, maxSize?: number, multiple = 16): PixelSample {
  const [oh, ow] = yolosResizeShape(p.height, p.width, size, maxSize, multiple);
  const image = oh === p.height && ow === p.width ? p.image : resizeBilinearChw(p.image, 3, p.height, p.width, oh, ow);
  const rw = ow / p.width;
  const rh = oh / p.height;
  const boxes = new Float64Array(p.boxes.length);
  for (let i = 0; i < p.labels.length; i++) {
    boxes[i * 4] = p.boxes[i * 4] * rw;
    boxes[i * 4 + 1] = p.boxes[i * 4 + 1] * rh;
    boxes[i * 4 + 2] = p.boxes[i * 4 + 2] * rw;
    boxes[i * 4 + 3] = p.boxes[i * 4 + 3] * rh;
  }
  const areas = p.areas.map((a) => a * (rw * rh));
  return { ...p, image, width: ow, height: oh, boxes, areas };
}

/** A crop window in pixels (torchvision order: top, left, height, width). */
export interface CropRegion {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Crops image and target: boxes shifted by (left, top), clipped to the window, dropped when empty
 * (x1 ≤ x0 or y1 ≤ y0); areas become the clipped box areas (DETR `crop`).
 */
export function crop(p: PixelSample, r: CropRegion): PixelSample {
  const { top, left, height: h, width: w } = r;
  if (top < 0 || left < 0 || top + h > p.height || left + w > p.width || h < 1 || w < 1 || ![top, left, h, w].every(Number.isInteger)) {
    throw new Error(`crop: region top=${top} left=${left} ${h}×${w} does not fit in the ${p.height}×${p.width} image`);
  }
  const image = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      const src = (c * p.height + top + y) * p.width + left;
      image.set(p.image.subarray(src, src + w), (c * h + y) * w);
    }
  }
  const boxes: number[] = [];
  const labels: number[] = [];
  const areas: number[] = [];
  for (let i = 0; i < p.labels.length; i++) {
    const clip = (v: number, hi: number) => Math.max(Math.min(v, hi), 0);
    const x0 = clip(p.boxes[i * 4] - left, w);
    const y0 = clip(p.boxes[i * 4 + 1] - top, h);
    const x1 = clip(p.boxes[i * 4 + 2] - left, w);
    const y1 = clip(p.boxes[i * 4 + 3] - top, h);
    if (!(x1 > x0 && y1 > y0)) continue;
    boxes.push(x0, y0, x1, y1);
    labels.push(p.labels[i]);
    areas.push((x1 - x0) * (y1 - y0));
  }
  return {
    ...p,
    image,
    width: w,
    height: h,
    boxes: Float64Array.from(boxes),
    labels: Int32Array.from(labels),
    areas: Float64Array.from(areas),
  };
}

/**
 * DETR `RandomSizeCrop(min, max)`: w ~ U{min … min(W, max)}, h ~ U{min … min(H, max)}, then a uniform
 * integer position (torchvision `RandomCrop.get_params`: top first, then left; no draw when the crop is
 * the whole image). An image smaller than `min` keeps its full side (Python would raise).
 */
export function randomSizeCrop(p: PixelSample, rng: Rng, minSize: number, maxSize: number): PixelSample {
  const w = randInt(rng, Math.min(minSize, p.width), Math.min(p.width, maxSize));
  const h = randInt(rng, Math.min(minSize, p.height), Math.min(p.height, maxSize));
  if (w === p.width && h === p.height) return crop(p, { top: 0, left: 0, height: h, width: w });
  const top = randInt(rng, 0, p.height - h);
  const left = randInt(rng, 0, p.width - w);
  return crop(p, { top, left, height: h, width: w });
}

/**
 * The YOLOS training augmentation of one sample (see the file header). Deterministic given the rng state.
 * @example const out = trainAugment(ds.get(0), mulberry32(7), SHAPES_AUGMENT);
 */
export function trainAugment(sample: DetectionSample, rng: Rng, cfg: AugmentConfig = TI_AUGMENT): DetectionSample {
  let p = toPixelSample(sample);
  if (rng() < cfg.flipP) p = hflip(p);
  if (rng() < cfg.selectP) {
    p = resize(p, choice(rng, cfg.scales), cfg.maxSize, cfg.multiple);
  } else {
    p = resize(p, choice(rng, cfg.cropScales), undefined, cfg.multiple);
    p = randomSizeCrop(p, rng, cfg.cropMin, cfg.cropMax);
    p = resize(p, choice(rng, cfg.scales), cfg.maxSize, cfg.multiple);
  }
  return toDetectionSample(p);
}

/**
 * The eval transform `RandomResize([size], maxSize)` (deterministic): YOLOS-Ti 512/853, S/B 800/1333.
 * @example evalTransform(await coco.get(0), 512, 853)
 */
export function evalTransform(sample: DetectionSample, size: number, maxSize?: number, multiple = 16): DetectionSample {
  return toDetectionSample(resize(toPixelSample(sample), size, maxSize, multiple));
}

/**
 * (x − mean_c) / std_c per RGB channel of a [3, H, W] image in [0, 1]; returns a new array.
 * @example normalizeImageNet(new Float32Array([0.485, 0.456, 0.406])) // ≈ [0, 0, 0]
 */
export function normalizeImageNet(img: Float32Array): Float32Array {
  if (img.length % 3 !== 0) throw new Error(`normalizeImageNet: ${img.length} values is not 3 channels`);
  const hw = img.length / 3;
  const out = new Float32Array(img.length);
  for (let c = 0; c < 3; c++) {
    const m = IMAGENET_MEAN[c];
    const s = IMAGENET_STD[c];
    for (let p = c * hw; p < (c + 1) * hw; p++) out[p] = (img[p] - m) / s;
  }
  return out;
}

/** A padded batch, ready for `tensor(pixels, shape)`. */
export interface Batch {
  /** [B, 3, H, W] channels-first, zeros (in normalised space) below and right of each image. */
  pixels: Float32Array;
  shape: [number, number, number, number];
  /** Per image: labels [M] and boxes [M, 4] (cxcywh normalised by the image's own unpadded size). */
  targets: { labels: Int32Array; boxes: Float32Array; imageId?: number; origSize?: [number, number] }[];
  /** Per image [height, width] before padding. */
  sizes: [number, number][];
}

/**
 * Stacks samples into one zero-padded batch (DETR `nested_tensor_from_tensor_list`, no mask: YOLOS uses
 * none). Images are ImageNet-normalised first unless `normalize: false` (then they are copied as given).
 * @example const { pixels, shape, targets } = collate(samples);
 */
export function collate(samples: DetectionSample[], opts: { normalize?: boolean } = {}): Batch {
  const normalize = opts.normalize ?? true;
  if (samples.length === 0) throw new Error('collate: no samples');
  const B = samples.length;
  const H = Math.max(...samples.map((s) => s.height));
  const W = Math.max(...samples.map((s) => s.width));
  const pixels = new Float32Array(B * 3 * H * W);
  samples.forEach((s, b) => {
    if (s.image.length !== 3 * s.height * s.width) {
      throw new Error(`collate: sample ${b} image has ${s.image.length} values, expected 3×${s.height}×${s.width}`);
    }
    const img = normalize ? normalizeImageNet(s.image) : s.image;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < s.height; y++) {
        const src = (c * s.height + y) * s.width;
        pixels.set(img.subarray(src, src + s.width), ((b * 3 + c) * H + y) * W);
      }
    }
  });
  const targets = samples.map((s) => {
    const t: Batch['targets'][number] = { labels: s.labels, boxes: s.boxes };
    if (s.imageId !== undefined) t.imageId = s.imageId;
    if (s.origSize !== undefined) t.origSize = s.origSize;
    return t;
  });
  return { pixels, shape: [B, 3, H, W], targets, sizes: samples.map((s) => [s.height, s.width] as [number, number]) };
}
