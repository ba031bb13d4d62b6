/** The shapes-classification task: deterministic per (seed, index), all 9 classes, the label told by the pixels. */
import { describe, it, expect } from 'vitest';
import { renderClassifySample, classifyBatch, SHAPES_CLASSIFY_LABELS, COLOUR_FAMILIES } from '../../yolos/data/shapes-classify.ts';
import { normalizeImageNet } from '../../yolos/data/augment.ts';

describe('shapes-classify', () => {
  it('draws the same image for the same (seed, index) and another for another index or seed', () => {
    const a = renderClassifySample(3, 10, 48);
    expect(renderClassifySample(3, 10, 48)).toEqual(a);
    expect(renderClassifySample(3, 11, 48).image).not.toEqual(a.image);
    expect(renderClassifySample(4, 10, 48).image).not.toEqual(a.image);
  });

  it('uses all 9 kind × colour classes, and the colour family is the brightest channel of the image', () => {
    expect(Object.values(SHAPES_CLASSIFY_LABELS)).toHaveLength(9);
    const seen = new Set<number>();
    for (let k = 0; k < 200; k++) {
      const { image, label } = renderClassifySample(0, k, 24);
      seen.add(label);
      const hw = 24 * 24,
        sums = [0, 1, 2].map((c) => image.subarray(c * hw, (c + 1) * hw).reduce((s, v) => s + v, 0));
      expect(sums.indexOf(Math.max(...sums))).toBe(label % COLOUR_FAMILIES.length);
    }
    expect(seen.size).toBe(9);
  });

  it('batches normalised pixels (raw with normalize: false) and rejects bad sizes', () => {
    const raw = classifyBatch({ seed: 0, start: 5, count: 2, size: 16, normalize: false });
    const norm = classifyBatch({ seed: 0, start: 5, count: 2, size: 16 });
    expect(norm.labels).toEqual(raw.labels);
    expect([...norm.pixels.subarray(0, 3 * 256)]).toEqual([...normalizeImageNet(raw.pixels.subarray(0, 3 * 256))]);
    expect(() => renderClassifySample(0, 0, 4)).toThrow('shapesClassify: size must be an integer ≥ 8, got 4');
    expect(() => classifyBatch({ seed: 0, start: 0, count: 0, size: 16 })).toThrow(
      'shapesClassify: count must be a positive integer, got 0',
    );
  });
});
