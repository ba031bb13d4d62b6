/**
 * An image-classification task made from the shapes generator, for pre-training a ViT backbone:
 * one large shape per image, class = kind × colour family (9 classes: circle/square/triangle ×
 * red/green/blue). Image k of stream `seed` is drawn from `mulberry32(hashSeed(seed, k))` alone, in
 * this order:
 *   1. background grey g ~ U(0, 0.2);
 *   2. kind ~ U{circle, square, triangle}, family ~ U{red, green, blue};
 *   3. side s ~ U(0.45, 0.9)·size, top-left (x0, y0) ~ U(0, size − s)²;
 *   4. colour: the family's channel ~ U(0.6, 1), the other two ~ U(0, 0.4) each — so the family is the
 *      largest channel by ≥ 0.2 and every colour stands out from the background;
 *   5. painted with shapes.ts's insideShape at pixel centres, then noise N(0, 0.03²), clipped to [0, 1].
 * Pixels are [3, size, size] in [0, 1], like the detection data (normalise with normalizeImageNet).
 */
import { hashSeed, mulberry32, normalSampler } from './rng.ts';
import { insideShape, SHAPE_KINDS } from './shapes.ts';
import { normalizeImageNet } from './augment.ts';

export const COLOUR_FAMILIES = ['red', 'green', 'blue'] as const;

/** Class index → name, kind-major: 0 'red circle', 1 'green circle', … 8 'blue triangle'. */
export const SHAPES_CLASSIFY_LABELS: Record<string, string> = Object.fromEntries(
  SHAPE_KINDS.flatMap((kind) => COLOUR_FAMILIES.map((colour) => `${colour} ${kind}`)).map((name, i) => [String(i), name]),
);

/** A held-out range of stream 0, disjoint from any training run's first 2⁴⁰ images. */
export const SHAPES_CLASSIFY_VAL = { seed: 0, start: 2 ** 40 } as const;

export interface ClassifySample {
  /** [3, size, size] in [0, 1]. */
  image: Float32Array;
  /** Class index 0…8 (SHAPES_CLASSIFY_LABELS). */
  label: number;
}

/**
 * Image `index` of stream `seed` at `size`×`size` pixels (see the file header).
 * @example const { image, label } = renderClassifySample(0, 7, 48);
 */
export function renderClassifySample(seed: number, index: number, size: number): ClassifySample {
  if (!Number.isInteger(size) || size < 8) throw new Error(`shapesClassify: size must be an integer ≥ 8, got ${size}`);
  if (!Number.isInteger(index) || index < 0) throw new Error(`shapesClassify: index must be a non-negative integer, got ${index}`);
  const rng = mulberry32(hashSeed(seed, index));
  const background = 0.2 * rng();
  const kind = Math.floor(rng() * SHAPE_KINDS.length);
  const family = Math.floor(rng() * COLOUR_FAMILIES.length);
  const s = (0.45 + 0.45 * rng()) * size;
  const x0 = rng() * (size - s),
    y0 = rng() * (size - s);
  const colour = [0, 1, 2].map((ch) => (ch === family ? 0.6 + 0.4 * rng() : 0.4 * rng()));
  const normal = normalSampler(rng);
  const hw = size * size,
    image = new Float32Array(3 * hw);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const inside = insideShape(SHAPE_KINDS[kind], x0, y0, s, i + 0.5, j + 0.5);
      for (let ch = 0; ch < 3; ch++) {
        const v = (inside ? colour[ch] : background) + 0.03 * normal();
        image[ch * hw + j * size + i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }
  return { image, label: kind * COLOUR_FAMILIES.length + family };
}

/**
 * `count` images from stream index `start` as one model input: pixels [count, 3, size, size],
 * ImageNet-normalised as the detector's inputs are (`normalize: false`: raw [0, 1]), and labels.
 * @example const { pixels, labels } = classifyBatch({ seed: 0, start: 64, count: 32, size: 48 });
 */
export function classifyBatch(opts: { seed: number; start: number; count: number; size: number; normalize?: boolean }): {
  pixels: Float32Array;
  labels: Int32Array;
} {
  const { seed, start, count, size } = opts;
  if (!Number.isInteger(count) || count < 1) throw new Error(`shapesClassify: count must be a positive integer, got ${count}`);
  const pixels = new Float32Array(count * 3 * size * size),
    labels = new Int32Array(count);
  for (let b = 0; b < count; b++) {
    const s = renderClassifySample(seed, start + b, size);
    pixels.set(opts.normalize === false ? s.image : normalizeImageNet(s.image), b * 3 * size * size);
    labels[b] = s.label;
  }
  return { pixels, labels };
}
