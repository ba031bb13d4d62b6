/**
 * The ViT classifier in Hugging Face's ViTForImageClassification layout: saved files load back with the
 * same logits, carry exactly HF's keys and a HF ViT config.json, go through fromBackbone (the path a
 * Hub ViT takes), and bad configs/weights/inputs get errors naming the file, field or key.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { tensor, scope } from '../../engine/index.ts';
import { ViTClassifier } from '../../yolos/classify/vit-classifier.ts';
import { vitConfig, parseViTConfig } from '../../yolos/classify/vit-config.ts';
import { classifyBatch } from '../../yolos/data/shapes-classify.ts';
import { fromBackbone, parseConfig, presets, readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../../yolos/index.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

const labels = { 0: 'a', 1: 'b', 2: 'c' };
const small = vitConfig(
  { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32, image_size: 32, patch_size: 16 },
  labels,
);

async function logitsOf(model: ViTClassifier, pixels: Float32Array, B: number): Promise<Float32Array> {
  const x = tensor(pixels, [B, 3, 32, 32]);
  const y = scope(() => model.predict(x));
  x.dispose();
  const v = (await y.data()) as Float32Array;
  y.dispose();
  return v;
}

describe('ViTClassifier', () => {
  it('saves HF ViTForImageClassification keys and a HF ViT config.json, and loads back with the same logits', async () => {
    const model = ViTClassifier.create(small, { seed: 3, init: 'fanin' });
    const { pixels } = classifyBatch({ seed: 1, start: 0, count: 2, size: 32 });
    const before = await logitsOf(model, pixels, 2);
    expect(before.length).toBe(2 * 3);
    const bytes = await model.saveSafetensors();
    const keys = [...readSafetensors(bytes).keys()].sort();
    const layer = (i: number) =>
      [
        'attention.attention.query',
        'attention.attention.key',
        'attention.attention.value',
        'attention.output.dense',
        'intermediate.dense',
        'output.dense',
        'layernorm_before',
        'layernorm_after',
      ].flatMap((m) => [`vit.encoder.layer.${i}.${m}.weight`, `vit.encoder.layer.${i}.${m}.bias`]);
    expect(keys).toEqual(
      [
        'vit.embeddings.cls_token',
        'vit.embeddings.position_embeddings',
        'vit.embeddings.patch_embeddings.projection.weight',
        'vit.embeddings.patch_embeddings.projection.bias',
        ...layer(0),
        ...layer(1),
        'vit.layernorm.weight',
        'vit.layernorm.bias',
        'classifier.weight',
        'classifier.bias',
      ].sort(),
    );
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' });
    const json = JSON.parse(model.configJson());
    expect(json).toMatchObject({
      model_type: 'vit',
      architectures: ['ViTForImageClassification'],
      image_size: 32,
      patch_size: 16,
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 32,
      layer_norm_eps: 1e-12,
      id2label: labels,
      label2id: { a: 0, b: 1, c: 2 },
    });
    const back = ViTClassifier.fromSafetensors(bytes, model.configJson(), { name: 'saved' });
    expect([...(await logitsOf(back, pixels, 2))]).toEqual([...before]);
    model.dispose();
    back.dispose();
  });

  it('is accepted by fromBackbone: its 2×2 PE grid is resized to the detector 4×4', async () => {
    const model = ViTClassifier.create(small, { seed: 1 });
    const target = parseConfig({ ...presets.nano16, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32 });
    const { model: det, report } = fromBackbone(await model.saveSafetensors(), model.configJson(), target, { seed: 0 });
    const text = report.join('\n');
    expect(text).toContain("ViT classifier ('vit.*')");
    expect(text).toContain('the 2×2 patch grid is bicubic-resized to 4×4');
    expect(text).toContain("ignored 'classifier.weight' [3,16]: the image-classification head");
    const q0 = 'vit.encoder.layer.1.attention.attention.query.weight';
    expect([...(await det.params.get(q0)!.data())]).toEqual([...(await model.params.get(q0)!.data())]);
    det.dispose();
    model.dispose();
  });

  it('loads a transformers-written ViT (the transfer fixture, with a pooler) when strict is false; strict names the pooler', () => {
    const dir = new URL('../fixtures/transfer/vit/', import.meta.url);
    const bytes = readFileSync(new URL('model.safetensors', dir)),
      config = readFileSync(new URL('config.json', dir), 'utf8');
    expect(() => ViTClassifier.fromSafetensors(bytes, config, { name: 'vit' })).toThrow(
      /vit: the weights do not fit[\s\S]*vit\.pooler\.dense\.weight/,
    );
    const m = ViTClassifier.fromSafetensors(bytes, config, { name: 'vit', strict: false });
    expect(m.params.get('classifier.weight')!.shape).toEqual([10, 32]);
    m.dispose();
  });

  it('bad configs, weights and inputs get errors naming the file, field or key', async () => {
    expect(() => parseViTConfig({ ...small, model_type: 'yolos' }, 'x/config.json')).toThrow(
      'x/config.json: model_type must be \'vit\', got "yolos"',
    );
    expect(() => parseViTConfig('{', 'x/config.json')).toThrow(/^x\/config.json: not valid JSON/);
    expect(() => parseViTConfig({ ...small, id2label: undefined }, 'x/config.json')).toThrow(
      "x/config.json: 'id2label' must be a non-empty object",
    );
    expect(() => parseViTConfig({ ...small, id2label: { 1: 'a' } }, 'x/config.json')).toThrow(/'id2label' must map "0"…"0" in order/);
    expect(() => parseViTConfig({ ...small, image_size: 40 }, 'x/config.json')).toThrow(
      'x/config.json: image_size 40 is not a multiple of patch_size 16',
    );
    expect(() => parseViTConfig({ ...small, hidden_size: 15 }, 'x/config.json')).toThrow(
      'hidden_size 15 is not divisible by num_attention_heads 2',
    );
    const model = ViTClassifier.create(small, { seed: 0 });
    const file = readSafetensors(await model.saveSafetensors());
    file.delete('vit.layernorm.bias');
    const partial = writeSafetensors(new Map([...file].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
    expect(() => ViTClassifier.fromSafetensors(partial, small, { name: 'part.safetensors' })).toThrow(
      /part.safetensors: the weights do not fit[\s\S]*vit\.layernorm\.bias/,
    );
    const saved = await model.saveSafetensors();
    expect(() => ViTClassifier.fromSafetensors(saved, { ...small, hidden_size: 32 }, { name: 'big' })).toThrow(
      /big: the weights do not fit the ViT config \(hidden_size 32/,
    );
    const x = tensor(new Float32Array(3 * 48 * 48), [1, 3, 48, 48]);
    expect(() => model.predict(x)).toThrow(
      "ViTClassifier.forward: expected pixel values [B, 3, 32, 32] (the config's image_size), got [1,3,48,48]",
    );
    x.dispose();
    model.dispose();
  });
});
