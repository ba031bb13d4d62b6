/** Configs and pre/post-processing pieces that need no GPU (the safetensors reader: test/weights/). */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { presets, parameterCount, parseConfig, resizedSize, resizeBilinear, bicubicMatrix } from '../../yolos/index.ts';

describe('configs', () => {
  it('presets have the documented parameter counts', () => {
    expect(parameterCount(presets.tiny)).toBe(6_488_736);
    expect(parameterCount(presets.small)).toBe(30_684_768);
    expect(parameterCount(presets['small-dwr'])).toBe(27_561_696);
    expect(parameterCount(presets.base)).toBe(127_798_368);
    expect(parameterCount(presets.nano16)).toBe(268_872);
  });
  it('parses a Hub config.json and rejects bad ones', () => {
    const hub = {
      hidden_size: 192,
      num_hidden_layers: 12,
      num_attention_heads: 3,
      intermediate_size: 768,
      image_size: [800, 1333],
      patch_size: 16,
      num_detection_tokens: 100,
      use_mid_position_embeddings: false,
      layer_norm_eps: 1e-12,
      id2label: Object.fromEntries(Array.from({ length: 91 }, (_, i) => [String(i), `c${i}`])),
      hidden_act: 'gelu',
    };
    const c = parseConfig(JSON.stringify(hub));
    expect(c.num_labels).toBe(91);
    expect(parameterCount(c)).toBe(6_488_736);
    expect(() => parseConfig({ ...hub, image_size: [800] })).toThrow(/'image_size' must be \[height, width\]/);
    expect(() => parseConfig({ ...hub, num_attention_heads: 5 })).toThrow(/not divisible/);
    expect(() => parseConfig('{bad')).toThrow();
  });
});

describe('pre-processing', () => {
  it('resize sizes follow YolosImageProcessor (floor to 16, cap the long side)', () => {
    const tiny = { shortestEdge: 512, longestEdge: 1333 };
    expect(resizedSize(480, 640, tiny)).toEqual([512, 672]); // HF's reference image, COCO val 000000039769
    expect(resizedSize(400, 1280, tiny)).toEqual([416, 1328]); // HF caps the long side at 1333 (the original Ti eval at 853)
    expect(resizedSize(480, 640, { shortestEdge: 800, longestEdge: 1333 })).toEqual([800, 1056]);
    expect(resizedSize(1000, 500, tiny)).toEqual([1024, 512]);
    expect(resizedSize(64, 64, { shortestEdge: 64, longestEdge: 64 })).toEqual([64, 64]);
  });
  it("bilinear resize is bit-exact with Pillow's (antialiased when shrinking)", () => {
    const f = JSON.parse(readFileSync(new URL('../fixtures/pil-bilinear.json', import.meta.url), 'utf8'));
    const img = { width: f.width, height: f.height, data: Uint8Array.from(f.pixels), channels: 3 as const };
    for (const r of f.resized) {
      const got = resizeBilinear(img, r.width, r.height);
      const diff = Array.from(got).filter((v, i) => v !== r.pixels[i]).length;
      expect(diff, `${r.width}×${r.height}`).toBe(0);
    }
  });
  it('bicubic position-embedding matrices: identity at scale 1, rows sum to 1', () => {
    const eye = bicubicMatrix(5, 5);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(eye[i * 5 + j]).toBe(i === j ? 1 : 0);
    for (const [a, b] of [
      [50, 32],
      [14, 40],
      [3, 5],
    ]) {
      const m = bicubicMatrix(a, b);
      for (let o = 0; o < b; o++) expect(Math.abs(m.subarray(o * a, (o + 1) * a).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    }
  });
});
