import { describe, it, expect } from 'vitest';
import { shapesDataset, renderShapes, insideShape, SHAPE_KINDS } from '../../yolos/data/shapes.ts';
import type { ShapeKind, ShapesScene } from '../../yolos/data/shapes.ts';
import { cocoEvaluate } from '../../yolos/eval/coco-eval.ts';

/** Pixel centres of a size×size grid inside a shape (an independent count of the rasterisation rule). */
function countInside(kind: ShapeKind, x0: number, y0: number, s: number, size: number): number {
  let n = 0;
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) if (insideShape(kind, x0, y0, s, i + 0.5, j + 0.5)) n++;
  return n;
}

function iou(a: number[], b: number[]): number {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  return w <= 0 || h <= 0 ? 0 : (w * h) / (a[2] * a[3] + b[2] * b[3] - w * h);
}

describe('shapes: rasterisation by pixel centres', () => {
  it('square covers the centres inside the box', () => {
    // x0 = 2.3, side 5: centres i + ½ ∈ [2.3, 7.3] → i = 2…6 (5 columns); y0 = 1.7: rows 2…6 → 25.
    expect(countInside('square', 2.3, 1.7, 5, 10)).toBe(25);
  });
  it('circle covers the inscribed disc', () => {
    // Centre (5, 5), r = 5; per row |dy| = .5, 1.5, 2.5, 3.5, 4.5 the centres with dx² ≤ 25 − dy² number
    // 10, 10, 8, 8, 4 (e.g. |dy| = 2.5: |dx| ≤ 4.33 → |dx| ∈ {.5 … 3.5}); both halves → 2·40 = 80.
    expect(countInside('circle', 0, 0, 10, 10)).toBe(80);
  });
  it('triangle has its apex at the top centre and its base at the bottom', () => {
    // Row j (y = j + ½): |i + ½ − 5| ≤ (j + ½)/2 → 0, 2, 2, 4, 4, 6, 6, 8, 8, 10 pixels → 50 = s²/2.
    expect(countInside('triangle', 0, 0, 10, 10)).toBe(50);
    expect(insideShape('triangle', 0, 0, 10, 5, 0.5)).toBe(true); // apex: |5 − 5| ≤ 0.25
    expect(insideShape('triangle', 0, 0, 10, 2, 0.5)).toBe(false);
    expect(insideShape('triangle', 0, 0, 10, 0.5, 9.5)).toBe(true); // base corner: 4.5 ≤ 4.75
  });
});

describe('shapes: dataset', () => {
  it('image k depends only on (seed, start + k)', () => {
    const a = shapesDataset({ seed: 11, count: 10 });
    const b = shapesDataset({ seed: 11, count: 3, start: 4 });
    const x = a.get(5);
    const y = b.get(1);
    expect(y.image).toEqual(x.image);
    expect(y.boxes).toEqual(x.boxes);
    expect(y.labels).toEqual(x.labels);
    expect(y.imageId).toBe(6); // stream index 5, ids start at 1
    expect(a.get(5).image).toEqual(x.image); // repeatable
    expect(shapesDataset({ seed: 12, count: 10 }).get(5).image).not.toEqual(x.image);
    expect(() => a.get(10)).toThrow(RangeError);
  });

  it('get() returns CHW RGB in [0, 1], normalised cxcywh boxes, category ids 1..3', () => {
    const ds = shapesDataset({ seed: 1, count: 20 });
    for (let k = 0; k < ds.length; k++) {
      const s = ds.get(k);
      expect(s.image.length).toBe(3 * 64 * 64);
      expect([s.width, s.height]).toEqual([64, 64]);
      expect(s.image.every((v) => v >= 0 && v <= 1)).toBe(true);
      const m = s.labels.length;
      expect(s.boxes.length).toBe(4 * m);
      expect(s.areas.length).toBe(m);
      for (let i = 0; i < m; i++) {
        expect(s.labels[i]).toBeGreaterThanOrEqual(1);
        expect(s.labels[i]).toBeLessThanOrEqual(3);
        const [cx, cy, w, h] = s.boxes.subarray(4 * i, 4 * i + 4);
        expect(cx - w / 2).toBeGreaterThanOrEqual(0);
        expect(cy + h / 2).toBeLessThanOrEqual(1);
        expect(w).toBeGreaterThan(0);
      }
    }
  });

  it('every scene satisfies the recipe: sizes, overlap, colours, paint order, tight visible boxes', () => {
    const size = 64;
    for (let k = 0; k < 150; k++) {
      const sc: ShapesScene = renderShapes(5, k, { size });
      expect(sc.background).toBeGreaterThanOrEqual(0);
      expect(sc.background).toBeLessThan(0.2);
      expect(sc.objects.length).toBeGreaterThanOrEqual(1);
      expect(sc.objects.length).toBeLessThanOrEqual(4);
      sc.objects.forEach((o, a) => {
        expect(o.side).toBeGreaterThanOrEqual(0.1 * size);
        expect(o.side).toBeLessThanOrEqual(0.4 * size);
        expect(o.x0 >= 0 && o.y0 >= 0 && o.x0 + o.side <= size && o.y0 + o.side <= size).toBe(true);
        for (let b = 0; b < a; b++) {
          const p = sc.objects[b];
          expect(iou([o.x0, o.y0, o.side, o.side], [p.x0, p.y0, p.side, p.side])).toBeLessThanOrEqual(0.1);
        }
        expect(Math.max(...o.colour)).toBeGreaterThanOrEqual(0.55);
        expect(Math.max(...o.colour.map((c) => Math.abs(c - sc.background)))).toBeGreaterThanOrEqual(0.35);
      });
      // owner = the last object whose shape contains the pixel centre; boxes/areas from the visible pixels
      const minX = sc.objects.map(() => Infinity),
        minY = sc.objects.map(() => Infinity);
      const maxX = sc.objects.map(() => -Infinity),
        maxY = sc.objects.map(() => -Infinity);
      const count = sc.objects.map(() => 0);
      let wrongOwner = 0;
      for (let j = 0; j < size; j++) {
        for (let i = 0; i < size; i++) {
          let want = -1;
          sc.objects.forEach((o, n) => {
            if (insideShape(o.kind, o.x0, o.y0, o.side, i + 0.5, j + 0.5)) want = n;
          });
          if (sc.owner[j * size + i] !== want) wrongOwner++;
          if (want < 0) continue;
          count[want]++;
          minX[want] = Math.min(minX[want], i);
          maxX[want] = Math.max(maxX[want], i);
          minY[want] = Math.min(minY[want], j);
          maxY[want] = Math.max(maxY[want], j);
        }
      }
      expect(wrongOwner).toBe(0);
      sc.objects.forEach((o, n) => {
        expect(o.area).toBe(count[n]);
        if (count[n] > 0) expect(o.box).toEqual([minX[n], minY[n], maxX[n] - minX[n] + 1, maxY[n] - minY[n] + 1]);
      });
    }
  });

  it('object counts and classes are uniform', () => {
    // 2000 images: each count 1..4 expected 500, σ = √(2000·¼·¾) ≈ 19.4 → ±100 is > 5σ. Classes: each
    // ≈ 1/3 of ~5000 objects, σ ≈ 33 → ±200.
    const ds = shapesDataset({ seed: 2, count: 2000 });
    const counts = [0, 0, 0, 0, 0];
    const classes = [0, 0, 0];
    for (let k = 0; k < ds.length; k++) {
      const objs = ds.scene(k, { noise: false }).objects;
      counts[objs.length]++;
      for (const o of objs) classes[o.label - 1]++;
    }
    expect(counts[0]).toBe(0);
    for (let n = 1; n <= 4; n++) expect(Math.abs(counts[n] - 500)).toBeLessThan(100);
    const total = classes.reduce((a, b) => a + b, 0);
    for (const c of classes) expect(Math.abs(c - total / 3)).toBeLessThan(200);
  });

  it('adds N(0, 0.03²) noise per pixel and channel', () => {
    // Residuals image − clean colour where the clean value is in [0.15, 0.85] (no clipping within 5σ).
    // With n ≳ 20 000 residuals: mean ± 0.03/√n ≈ 2e-4 → |mean| < 2e-3; std relative error ≈ 1/√(2n) ≈ 0.5%
    // → within 5%.
    let n = 0,
      sum = 0,
      sq = 0;
    for (let k = 0; k < 20; k++) {
      const sc = renderShapes(3, k);
      const hw = 64 * 64;
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < hw; p++) {
          const o = sc.owner[p];
          const clean = o < 0 ? sc.background : sc.objects[o].colour[c];
          if (clean < 0.15 || clean > 0.85) continue;
          const r = sc.image![c * hw + p] - clean;
          n++;
          sum += r;
          sq += r * r;
        }
      }
    }
    expect(n).toBeGreaterThan(20000);
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(2e-3);
    expect(Math.abs(std / 0.03 - 1)).toBeLessThan(0.05);
  });

  it('drops objects that end up fully covered', () => {
    // Search a fixed stream for a scene with a fully covered object (≈ 1 in 500 images).
    let found = -1;
    for (let k = 0; k < 5000 && found < 0; k++) {
      if (renderShapes(9, k, { noise: false }).objects.some((o) => o.area === 0)) found = k;
    }
    expect(found).toBeGreaterThanOrEqual(0);
    const ds = shapesDataset({ seed: 9, count: found + 1 });
    const sc = ds.scene(found);
    const visible = sc.objects.filter((o) => o.area > 0);
    expect(visible.length).toBeLessThan(sc.objects.length);
    const s = ds.get(found);
    expect(Array.from(s.labels)).toEqual(visible.map((o) => o.label));
    expect(ds.toCoco().annotations.filter((a) => a.image_id === ds.imageId(found)).length).toBe(visible.length);
  });

  it('class subsets and order set the category ids', () => {
    const ds = shapesDataset({ seed: 4, count: 30, classes: ['triangle', 'circle'] });
    expect(ds.categories.map((c) => [c.id, c.name])).toEqual([
      [1, 'triangle'],
      [2, 'circle'],
    ]);
    for (let k = 0; k < ds.length; k++) {
      for (const o of ds.scene(k, { noise: false }).objects) expect(o.kind).toBe(['triangle', 'circle'][o.label - 1]);
    }
    expect(() => shapesDataset({ seed: 1, count: 1, classes: ['hexagon' as ShapeKind] })).toThrow(/unknown class 'hexagon'/);
    expect(SHAPE_KINDS).toEqual(['circle', 'square', 'triangle']);
  });

  it('toCoco() gives pixel xywh boxes that match get(), and evaluates to AP 1 against itself', () => {
    const ds = shapesDataset({ seed: 8, count: 25, size: 64, start: 100 });
    const coco = ds.toCoco();
    expect(coco.images.map((im) => im.id)).toEqual(Array.from({ length: 25 }, (_, k) => 101 + k));
    expect(coco.images[0].file_name).toBe('000000000101.png');
    expect(coco.categories.map((c) => c.id)).toEqual([1, 2, 3]);
    expect(coco.annotations.map((a) => a.id)).toEqual(coco.annotations.map((_, i) => i + 1));
    for (let k = 0; k < ds.length; k++) {
      const s = ds.get(k);
      const anns = coco.annotations.filter((a) => a.image_id === s.imageId);
      expect(anns.length).toBe(s.labels.length);
      anns.forEach((a, i) => {
        const [x, y, w, h] = a.bbox;
        // boxes are whole pixels, so cx = x + w/2 etc. are exact in float32 after /64
        expect(Array.from(s.boxes.subarray(4 * i, 4 * i + 4))).toEqual([(x + w / 2) / 64, (y + h / 2) / 64, w / 64, h / 64]);
        expect(a.category_id).toBe(s.labels[i]);
        expect(a.area).toBe(s.areas[i]);
        expect(a.iscrowd).toBe(0);
        expect(a.area).toBeLessThanOrEqual(w * h);
      });
    }
    const dets = coco.annotations.map((a) => ({ image_id: a.image_id, category_id: a.category_id, bbox: a.bbox, score: 1 }));
    // every gt detected by its own box: precision 1/(1 + 2^-52) at every recall → AP ≈ 1 (12 decimals).
    expect(cocoEvaluate(coco, dets).AP).toBeCloseTo(1, 12);
  });
});
