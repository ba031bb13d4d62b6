/** The YOLOS model on the GPU: shapes for any size and batch, gradients reach the stored PE grid, weights I/O. */
import { describe, it, expect } from 'vitest';
import { randn, scope, ShapeError } from '../../engine/index.ts';
import { Yolos, presets, parameterCount, type YolosConfig } from '../../yolos/index.ts';
import { useEngine } from './util.ts';

useEngine();

const small: YolosConfig = {
  ...presets.nano16,
  hidden_size: 16,
  num_hidden_layers: 2,
  intermediate_size: 32,
  num_detection_tokens: 3,
  image_size: [32, 48],
  use_mid_position_embeddings: true,
};

describe('Yolos model', () => {
  it('nano16 has 268,872 parameters and runs any multiple-of-16 size and batch', async () => {
    const m = Yolos.create(presets.nano16, { seed: 1 });
    expect(m.parameters().reduce((n, p) => n + p.size, 0)).toBe(parameterCount(presets.nano16));
    for (const [B, H, W] of [
      [1, 64, 64],
      [2, 32, 96],
      [3, 16, 16],
    ]) {
      const { logits, boxes } = scope(() => m.predict(randn([B, 3, H, W], { seed: H })));
      expect(logits.shape).toEqual([B, 10, 4]);
      expect(boxes.shape).toEqual([B, 10, 4]);
      const b = await boxes.data();
      expect(b.every((v) => v > 0 && v < 1)).toBe(true);
      logits.dispose();
      boxes.dispose();
    }
    m.dispose();
  });

  it('rejects sizes that are not multiples of the patch and wrong channel counts', () => {
    const m = Yolos.create(small, { seed: 1 });
    expect(() => m.forward(randn([1, 3, 30, 32]))).toThrow(/height and width must be positive multiples of 16, got 30×32/);
    expect(() => m.forward(randn([1, 1, 32, 32]))).toThrow(ShapeError);
    m.dispose();
  });

  it('gradients flow to every parameter, including the stored position-embedding grids through the bicubic resize', async () => {
    const m = Yolos.create(small, { seed: 2, init: 'fanin' });
    const { logits, boxes } = m.forward(randn([2, 3, 48, 32], { seed: 3 })); // a 3×2 grid from the 2×3 stored one
    const loss = logits.square().mean().add(boxes.sum());
    loss.backward();
    for (const [name, p] of m.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      const g = await p.grad!.data();
      expect(g.every(Number.isFinite), name).toBe(true);
      expect(
        g.some((v) => v !== 0),
        `${name} has a zero gradient`,
      ).toBe(true);
    }
    m.dispose();
  });

  it('checkpoints round-trip bit-exactly and mismatched weights are named with both shapes', async () => {
    const m = Yolos.create(small, { seed: 4 });
    const bytes = await m.saveSafetensors();
    const m2 = Yolos.fromSafetensors(bytes, small);
    for (const [name, p] of m.namedParameters()) {
      expect(new Uint32Array((await m2.params.get(name)!.data()).buffer), name).toEqual(new Uint32Array((await p.data()).buffer));
    }
    const other = { ...small, hidden_size: 32 };
    expect(() => Yolos.fromSafetensors(bytes, other)).toThrow(
      /key 'vit.embeddings.cls_token': the file has shape \[1,1,16\], the config expects \[1,1,32\]/,
    );
    expect(() => Yolos.fromSafetensors(bytes, { ...small, use_mid_position_embeddings: false })).toThrow(
      /unexpected key 'vit.encoder.mid_position_embeddings'/,
    );
    expect(() => Yolos.fromSafetensors(bytes, { ...small, num_hidden_layers: 3 })).toThrow(
      /missing key 'vit.encoder.layer.2.layernorm_before.weight'/,
    );
    m.dispose();
    m2.dispose();
  });
});
