import { describe, it, expect } from 'vitest';
import {
  yolosResizeShape,
  resizeBilinearChw,
  resize,
  hflip,
  crop,
  randomSizeCrop,
  trainAugment,
  evalTransform,
  normalizeImageNet,
  collate,
  toPixelSample,
  toDetectionSample,
  SHAPES_AUGMENT,
  TI_AUGMENT,
  SMALL_AUGMENT,
} from '../../yolos/data/augment.ts';
import type { PixelSample, AugmentConfig } from '../../yolos/data/augment.ts';
import type { DetectionSample } from '../../yolos/data/sample.ts';
import { mulberry32 } from '../../yolos/data/rng.ts';
import { shapesDataset } from '../../yolos/data/shapes.ts';

/** A [3, H, W] image with value = flat index (so every pixel is identifiable). */
function indexImage(H: number, W: number): Float32Array {
  return Float32Array.from({ length: 3 * H * W }, (_, i) => i);
}
function pixelSample(H: number, W: number, boxes: number[], image = indexImage(H, W)): PixelSample {
  const m = boxes.length / 4;
  const areas = Float64Array.from({ length: m }, (_, i) => (boxes[4 * i + 2] - boxes[4 * i]) * (boxes[4 * i + 3] - boxes[4 * i + 1]));
  return { image, width: W, height: H, boxes: Float64Array.from(boxes), labels: Int32Array.from({ length: m }, (_, i) => i + 1), areas };
}
/** A 64×64 sample: black with a white rectangle (x0, y0, x1, y1) = (10, 20, 30, 44), boxed exactly. */
function rectSample(): DetectionSample {
  const S = 64;
  const image = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++) for (let y = 20; y < 44; y++) for (let x = 10; x < 30; x++) image[(c * S + y) * S + x] = 1;
  return toDetectionSample(pixelSample(S, S, [10, 20, 30, 44], image));
}

describe('yolosResizeShape (YOLOS get_size_with_aspect_ratio, floored to 16)', () => {
  it('matches the spec examples', () => {
    // 640×480 → short 512: ow = int(512·640/480) = 682 → 672 (YOLOS floors both sides to multiples of 16).
    expect(yolosResizeShape(480, 640, 512, 853)).toEqual([512, 672]);
    // 1280×400, cap 853: 1280/400·512 = 1638.4 > 853 → size = round(853·400/1280) = round(266.5625) = 267;
    // oh = 267 → 256, ow = int(267·1280/400) = int(854.4) = 854 → 848. With cap 1333: 417 → 416, 1334 → 1328.
    expect(yolosResizeShape(400, 1280, 512, 853)).toEqual([256, 848]);
    expect(yolosResizeShape(400, 1280, 512, 1333)).toEqual([416, 1328]);
    // crop-branch sizes without a cap: 500 → 496 (and 666 → 656), 600 → 592.
    expect(yolosResizeShape(480, 640, 500)).toEqual([496, 656]);
    expect(yolosResizeShape(480, 640, 600)).toEqual([592, 800]);
  });
  it('keeps an image whose short side already equals the size (still floored to 16)', () => {
    expect(yolosResizeShape(512, 700, 512)).toEqual([512, 688]);
    expect(yolosResizeShape(64, 64, 64)).toEqual([64, 64]);
  });
  it("rounds the capped size like Python's round (half to even)", () => {
    // 533×1000, size 400, cap 500: 1000/533·400 ≈ 750 > 500 → round(500·533/1000) = round(266.5) = 266
    // (Math.round would give 267); with multiple 1: oh = 266, ow = int(266·1000/533) = int(499.06) = 499.
    expect(yolosResizeShape(533, 1000, 400, 500, 1)).toEqual([266, 499]);
  });
  it('shapes sizes and errors', () => {
    expect(yolosResizeShape(64, 64, 48, 128)).toEqual([48, 48]);
    // 48×80 to 80, cap 128: 80/48·80 ≈ 133 > 128 → size = round(128·48/80) = round(76.8) = 77;
    // oh = 77 → 64, ow = int(77·80/48) = int(128.3) = 128.
    expect(yolosResizeShape(48, 80, 80, 128)).toEqual([64, 128]);
    // 20×300 to 8: oh = 8 floors to 0 → error naming the sizes.
    expect(() => yolosResizeShape(20, 300, 8)).toThrow(/floors to 0×112/);
  });
  it('gives a thin image one multiple on its short side instead of 0 (was: a resize error)', () => {
    // 200×17 to 48, cap 128: size = round(128·17/200) = 11 → 129×11 floors to 128×0; instead short = 16,
    // long = min(128, int(16·200/17) = 188) = 128.
    expect(yolosResizeShape(200, 17, 48, 128)).toEqual([128, 16]);
    expect(yolosResizeShape(17, 200, 48, 128)).toEqual([16, 128]);
    expect(yolosResizeShape(1, 1000, 48, 106)).toEqual([16, 96]);
    expect(yolosResizeShape(1, 1, 48, 128)).toEqual([48, 48]);
    // a cap below one multiple is a configuration error, not a thin image
    expect(() => yolosResizeShape(17, 200, 48, 8)).toThrow(/resize: 17×200 to short side 1, max 8/);
  });
  it('trainAugment and evalTransform take 17×200 and 1×1 images, boxes kept in the image', () => {
    for (const [H, W] of [
      [200, 17],
      [1, 1],
    ]) {
      const s = toDetectionSample(pixelSample(H, W, [0, 0, W, H], new Float32Array(3 * H * W)));
      for (let seed = 0; seed < 8; seed++) {
        const out = trainAugment(s, mulberry32(seed), SHAPES_AUGMENT);
        expect((out.width % 16) + (out.height % 16)).toBe(0);
        expect(out.image.length).toBe(3 * out.width * out.height);
        expect(out.boxes.every((v) => v > 0 && v <= 1)).toBe(true);
      }
      const e = evalTransform(s, 64, 106);
      expect(Array.from(e.boxes).map((v) => +v.toFixed(6))).toEqual([0.5, 0.5, 1, 1]);
    }
  });
});

describe('image ops', () => {
  it('bilinear: exact 2× downscale averages 2×2 blocks; upscale of a ramp is linear with clamped edges', () => {
    // Downscale 4×6 → 2×3: src = (d + ½)·2 − ½ = 2d + ½ → weights ½, ½ on pixels 2d, 2d + 1 in each axis.
    const img = Float32Array.from({ length: 24 }, (_, i) => (i * 7919) % 13);
    const out = resizeBilinearChw(img, 1, 4, 6, 2, 3);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        const avg =
          (img[2 * y * 6 + 2 * x] + img[2 * y * 6 + 2 * x + 1] + img[(2 * y + 1) * 6 + 2 * x] + img[(2 * y + 1) * 6 + 2 * x + 1]) / 4;
        expect(out[y * 3 + x]).toBeCloseTo(avg, 5); // float32 products of values ≤ 12: error ~1e-6
      }
    }
    // Ramp f(x) = x, 4 → 8 wide: src = (d + ½)/2 − ½ = d/2 − ¼, clamped to [0, 3].
    const ramp = resizeBilinearChw(Float32Array.from([0, 1, 2, 3]), 1, 1, 4, 1, 8);
    expect(Array.from(ramp)).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
    expect(Array.from(resizeBilinearChw(img, 1, 4, 6, 4, 6))).toEqual(Array.from(img)); // same size: identity
  });

  it('hflip mirrors pixels and maps boxes (x0, x1) → (W − x1, W − x0)', () => {
    const p = pixelSample(2, 4, [0.5, 0, 1.5, 2, 1, 0.25, 4, 1]);
    const f = hflip(p);
    expect(Array.from(f.image.subarray(0, 8))).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
    expect(Array.from(f.boxes)).toEqual([2.5, 0, 3.5, 2, 0, 0.25, 3, 1]);
    const ff = hflip(f);
    expect(ff.image).toEqual(p.image);
    expect(ff.boxes).toEqual(p.boxes);
  });

  it('resize scales boxes and areas by the actual output/input ratios', () => {
    // 480×640 → 512×672: rw = 672/640 = 1.05, rh = 512/480; box [64,48,320,240] → [67.2, 51.2, 336, 256].
    const p = pixelSample(48 * 10, 64 * 10, [64, 48, 320, 240], new Float32Array(3 * 480 * 640));
    const r = resize(p, 512, 853);
    expect([r.height, r.width]).toEqual([512, 672]);
    const want = [67.2, 51.2, 336, 256];
    Array.from(r.boxes).forEach((v, i) => expect(v).toBeCloseTo(want[i], 10));
    expect(r.areas[0]).toBeCloseTo((320 - 64) * (240 - 48) * 1.05 * (512 / 480), 8);
    expect(r.image.length).toBe(3 * 512 * 672);
  });

  it('crop shifts, clips and drops empty boxes; the area becomes the clipped box area', () => {
    // 4×5 image, window top 1, left 2, 2×3. Boxes (xyxy):
    //  [1,1,3,3] → −(2,1) → [−1,0,1,2] → clipped [0,0,1,2] (area 2)
    //  [0,0,2,1] → [−2,−1,0,0] → [0,0,0,0]: empty, dropped
    //  [4,2,6,4] → [2,1,4,3] → min with (3,2) → [2,1,3,2] (area 1)
    const p = pixelSample(4, 5, [1, 1, 3, 3, 0, 0, 2, 1, 4, 2, 6, 4]);
    const c = crop(p, { top: 1, left: 2, height: 2, width: 3 });
    expect([c.height, c.width]).toEqual([2, 3]);
    // channel 0 rows 1..2, columns 2..4 of the index image (row stride 5); channel 1 starts at 20
    expect(Array.from(c.image.subarray(0, 6))).toEqual([7, 8, 9, 12, 13, 14]);
    expect(Array.from(c.image.subarray(6, 9))).toEqual([27, 28, 29]);
    expect(Array.from(c.boxes)).toEqual([0, 0, 1, 2, 2, 1, 3, 2]);
    expect(Array.from(c.labels)).toEqual([1, 3]);
    expect(Array.from(c.areas)).toEqual([2, 1]);
    expect(() => crop(p, { top: 3, left: 0, height: 2, width: 2 })).toThrow(/does not fit/);
  });

  it('randomSizeCrop draws sizes in [min, min(side, max)] and positions inside the image', () => {
    const p = pixelSample(50, 70, [0, 0, 70, 50]);
    const rng = mulberry32(3);
    for (let t = 0; t < 200; t++) {
      const c = randomSizeCrop(p, rng, 20, 60);
      expect(c.width).toBeGreaterThanOrEqual(20);
      expect(c.width).toBeLessThanOrEqual(60);
      expect(c.height).toBeGreaterThanOrEqual(20);
      expect(c.height).toBeLessThanOrEqual(50);
      // the full-image box clipped to the window is the whole window
      expect(Array.from(c.boxes)).toEqual([0, 0, c.width, c.height]);
    }
  });

  it('normalizeImageNet subtracts the mean and divides by the std per channel', () => {
    const out = normalizeImageNet(Float32Array.from([0.485, 1, 0.456, 0, 0.406, 0.5]));
    const want = [0, (1 - 0.485) / 0.229, 0, -0.456 / 0.224, 0, (0.5 - 0.406) / 0.225];
    Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6)); // float32: relative 6e-8
  });
});

describe('trainAugment', () => {
  const ds = shapesDataset({ seed: 1, count: 8 });

  it('is deterministic for a given rng state', () => {
    for (const seed of [1, 2, 3]) {
      const a = trainAugment(ds.get(seed), mulberry32(seed), SHAPES_AUGMENT);
      const b = trainAugment(ds.get(seed), mulberry32(seed), SHAPES_AUGMENT);
      expect(b.image).toEqual(a.image);
      expect(b.boxes).toEqual(a.boxes);
      expect(b.labels).toEqual(a.labels);
    }
    const outs = Array.from({ length: 10 }, (_, s) => trainAugment(ds.get(0), mulberry32(100 + s), SHAPES_AUGMENT));
    expect(new Set(outs.map((o) => `${o.width}x${o.height}:${Array.from(o.boxes).join(',')}`)).size).toBeGreaterThan(1);
  });

  it('outputs multiples of 16, long side within the cap, short side at most the largest scale', () => {
    const rng = mulberry32(7);
    for (let t = 0; t < 300; t++) {
      const o = trainAugment(ds.get(t % 8), rng, SHAPES_AUGMENT);
      expect(o.width % 16).toBe(0);
      expect(o.height % 16).toBe(0);
      expect(Math.max(o.width, o.height)).toBeLessThanOrEqual(128);
      expect(Math.min(o.width, o.height)).toBeLessThanOrEqual(80);
      expect(o.image.length).toBe(3 * o.width * o.height);
      for (const v of o.boxes) expect(v >= 0 && v <= 1).toBe(true);
      expect(o.origSize).toEqual([64, 64]);
      expect(o.imageId).toBe((t % 8) + 1);
    }
  });

  it('flips with p = 0.5 and takes the crop branch with p = 0.5', () => {
    // Plain-resize branch only (selectP 1): the normalised box is invariant under resize, so cx is the
    // rectangle's 20/64 = 0.3125 or, flipped, 0.6875. 400 draws: flips ≈ 200 ± 10 (σ) → within ±60.
    const onlyResize: AugmentConfig = { ...SHAPES_AUGMENT, selectP: 1 };
    const rng = mulberry32(11);
    let flips = 0;
    for (let t = 0; t < 400; t++) {
      const o = trainAugment(rectSample(), rng, onlyResize);
      const cx = o.boxes[0];
      expect(Math.min(Math.abs(cx - 0.3125), Math.abs(cx - 0.6875))).toBeLessThan(1e-6);
      if (cx > 0.5) flips++;
    }
    expect(Math.abs(flips - 200)).toBeLessThan(60);
    // No flip: the plain branch leaves the normalised box unchanged, the crop branch (crops ≤ 80 of a
    // 96-wide resize, always a real crop) moves it: unchanged ≈ 200 of 400.
    const noFlip: AugmentConfig = { ...SHAPES_AUGMENT, flipP: 0, cropScales: [96] };
    const src = rectSample();
    let unchanged = 0;
    for (let t = 0; t < 400; t++) {
      const o = trainAugment(src, rng, noFlip);
      if (o.labels.length === 1 && Array.from(o.boxes).every((v, i) => Math.abs(v - src.boxes[i]) < 1e-6)) unchanged++;
    }
    expect(Math.abs(unchanged - 200)).toBeLessThan(60);
  });

  it('keeps boxes on their pixels through flip, resize and crop', () => {
    // The white rectangle's bright pixels (> 0.5 after bilinear resampling) must fill the transformed box:
    // their tight pixel box equals the box to within 1 output pixel per edge (bilinear edge blur, no
    // antialias: an edge moves by < 1 pixel at these scales).
    const rng = mulberry32(5);
    let kept = 0;
    for (let t = 0; t < 200; t++) {
      const o = trainAugment(rectSample(), rng, SHAPES_AUGMENT);
      const { width: W, height: H } = o;
      let x0 = Infinity,
        y0 = Infinity,
        x1 = -Infinity,
        y1 = -Infinity;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (o.image[y * W + x] > 0.5) {
            x0 = Math.min(x0, x);
            x1 = Math.max(x1, x + 1);
            y0 = Math.min(y0, y);
            y1 = Math.max(y1, y + 1);
          }
        }
      }
      if (o.labels.length === 0) {
        expect(x0).toBe(Infinity); // the crop removed the rectangle and its box
        continue;
      }
      kept++;
      const [cx, cy, w, h] = o.boxes;
      const box = [(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H];
      if (x0 === Infinity) {
        // a sliver under one pixel wide may blur below 0.5
        expect(Math.min(box[2] - box[0], box[3] - box[1])).toBeLessThan(2);
        continue;
      }
      [x0, y0, x1, y1].forEach((v, i) => expect(Math.abs(v - box[i])).toBeLessThanOrEqual(1));
    }
    expect(kept).toBeGreaterThan(150);
  });

  it('presets follow the spec scales', () => {
    expect(TI_AUGMENT.scales).toHaveLength(23);
    expect([TI_AUGMENT.scales[0], TI_AUGMENT.scales[22], TI_AUGMENT.maxSize]).toEqual([256, 608, 1013]);
    expect(SMALL_AUGMENT.scales).toHaveLength(21);
    expect([SMALL_AUGMENT.scales[0], SMALL_AUGMENT.scales[20], SMALL_AUGMENT.maxSize]).toEqual([480, 800, 1333]);
    expect([TI_AUGMENT.cropScales, TI_AUGMENT.cropMin, TI_AUGMENT.cropMax]).toEqual([[400, 500, 600], 384, 600]);
  });
});

describe('evalTransform and collate', () => {
  it('evalTransform resizes and leaves normalised boxes unchanged', () => {
    // x·(ow/w)/ow = x/w: a resize does not move normalised boxes (float32 round trip: < 1e-6).
    const s = shapesDataset({ seed: 3, count: 1 }).get(0);
    const e = evalTransform(s, 80, 128);
    expect([e.height, e.width]).toEqual([80, 80]);
    Array.from(e.boxes).forEach((v, i) => expect(Math.abs(v - s.boxes[i])).toBeLessThan(1e-6));
    const back = toDetectionSample(toPixelSample(s));
    Array.from(back.boxes).forEach((v, i) => expect(Math.abs(v - s.boxes[i])).toBeLessThan(1e-6));
  });

  it('collate normalises, zero-pads bottom/right to the batch max and passes targets through', () => {
    const a = toDetectionSample(pixelSample(2, 3, [0, 0, 3, 2], new Float32Array(18).fill(0.5)));
    const b = toDetectionSample(pixelSample(4, 2, [0, 0, 1, 1, 1, 1, 2, 4], new Float32Array(24).fill(1)));
    b.imageId = 9;
    const batch = collate([a, b]);
    expect(batch.shape).toEqual([2, 3, 4, 3]);
    expect(batch.sizes).toEqual([
      [2, 3],
      [4, 2],
    ]);
    const at = (n: number, c: number, y: number, x: number) => batch.pixels[((n * 3 + c) * 4 + y) * 3 + x];
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (let c = 0; c < 3; c++) {
      expect(at(0, c, 1, 2)).toBeCloseTo((0.5 - mean[c]) / std[c], 6);
      expect(at(0, c, 2, 0)).toBe(0); // below image a
      expect(at(0, c, 3, 2)).toBe(0);
      expect(at(1, c, 3, 1)).toBeCloseTo((1 - mean[c]) / std[c], 6);
      expect(at(1, c, 0, 2)).toBe(0); // right of image b
    }
    expect(batch.targets[1].labels).toEqual(Int32Array.from([1, 2]));
    expect(batch.targets[1].boxes).toBe(b.boxes);
    expect(batch.targets[1].imageId).toBe(9);
    const raw = collate([a], { normalize: false });
    expect(raw.pixels).toEqual(new Float32Array(18).fill(0.5));
  });
});
