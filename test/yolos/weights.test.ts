/** Configs, safetensors and pre/post-processing pieces that need no GPU. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { presets, parameterCount, parseConfig, readSafetensors, writeSafetensors, resizedSize, resizeBilinear, bicubicMatrix } from '../../yolos/index.ts';

describe('configs', () => {
  it('presets have the documented parameter counts', () => {
    expect(parameterCount(presets.tiny)).toBe(6_488_736);
    expect(parameterCount(presets.small)).toBe(30_684_768);
    expect(parameterCount(presets['small-dwr'])).toBe(27_561_696);
    expect(parameterCount(presets.base)).toBe(127_798_368);
    expect(parameterCount(presets.nano16)).toBe(268_872);
  });
  it('parses a Hub config.json and rejects bad ones', () => {
    const hub = { hidden_size: 192, num_hidden_layers: 12, num_attention_heads: 3, intermediate_size: 768, image_size: [800, 1333], patch_size: 16, num_detection_tokens: 100, use_mid_position_embeddings: false, layer_norm_eps: 1e-12, id2label: Object.fromEntries(Array.from({ length: 91 }, (_, i) => [String(i), `c${i}`])), hidden_act: 'gelu' };
    const c = parseConfig(JSON.stringify(hub));
    expect(c.num_labels).toBe(91);
    expect(parameterCount(c)).toBe(6_488_736);
    expect(() => parseConfig({ ...hub, image_size: [800] })).toThrow(/'image_size' must be \[height, width\]/);
    expect(() => parseConfig({ ...hub, num_attention_heads: 5 })).toThrow(/not divisible/);
    expect(() => parseConfig('{bad')).toThrow();
  });
});

describe('safetensors', () => {
  const sample = () => new Map([
    ['b.weight', { shape: [2, 3], data: new Float32Array([1, -2, 3.5, Math.fround(1e-30), -0, Infinity]) }],
    ['a', { shape: [], data: new Float32Array([Math.PI]) }],
    ['empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  it('round-trips f32 bit-exactly, data 8-byte aligned', () => {
    const bytes = writeSafetensors(sample(), { format: 'pt' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const back = readSafetensors(bytes);
    for (const [k, v] of sample()) {
      expect(back.get(k)!.shape).toEqual(v.shape);
      expect(new Uint32Array(back.get(k)!.data.buffer)).toEqual(new Uint32Array(v.data.buffer));
    }
  });
  it('reads F16 and BF16 (widened to f32)', () => {
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } });
    const bytes = new Uint8Array(8 + header.length + 12);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const o = 8 + header.length;
    [0x3c00, 0xc000, 0x0001, 0x7c00].forEach((h, i) => dv.setUint16(o + 2 * i, h, true)); // 1, -2, 2^-24, inf
    [0x3f80, 0xc0a0].forEach((h, i) => dv.setUint16(o + 8 + 2 * i, h, true)); // 1, -5
    const t = readSafetensors(bytes);
    expect(Array.from(t.get('h')!.data)).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(t.get('b')!.data)).toEqual([1, -5]);
  });
  it('malformed files throw naming the problem', () => {
    const good = writeSafetensors(sample());
    const withHeader = (h: string, dataBytes = 16) => {
      const b = new Uint8Array(8 + h.length + dataBytes);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(new TextEncoder().encode(h), 8);
      return b;
    };
    expect(() => readSafetensors(good.slice(0, 5))).toThrow(/too short/);
    const big = good.slice();
    new DataView(big.buffer).setBigUint64(0, BigInt(1e9), true);
    expect(() => readSafetensors(big)).toThrow(/header length 1000000000 goes beyond the file/);
    expect(() => readSafetensors(withHeader('{not json'))).toThrow(/not valid JSON/);
    expect(() => readSafetensors(withHeader('{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}'))).toThrow(/'x' has unsupported dtype "F64"/);
    expect(() => readSafetensors(withHeader('{"x":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}'))).toThrow(/'x' data_offsets \[0,32\] lie outside the data \(16 bytes\)/);
    expect(() => readSafetensors(withHeader('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'))).toThrow(/'x' F32\[3\] needs 12 bytes/);
  });
});

describe('pre-processing', () => {
  it('resize sizes follow YolosImageProcessor (floor to 16, cap the long side)', () => {
    const tiny = { shortestEdge: 512, longestEdge: 1333 };
    expect(resizedSize(480, 640, tiny)).toEqual([512, 672]); // spec §9: COCO 000000039769
    expect(resizedSize(400, 1280, tiny)).toEqual([416, 1328]); // spec §4.2 derived example
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
    for (const [a, b] of [[50, 32], [14, 40], [3, 5]]) {
      const m = bicubicMatrix(a, b);
      for (let o = 0; o < b; o++) expect(Math.abs(m.subarray(o * a, (o + 1) * a).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    }
  });
});
