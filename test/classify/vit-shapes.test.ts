/**
 * The committed pre-trained backbone models/vit-shapes (tools/pretrain-vit.ts): a HF ViT
 * config.json + model.safetensors that classifies held-out shapes images and becomes nano-16's
 * backbone through loadInitialModel (the --init-from path), its 3×3 PE grid resized to 4×4.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { ViTClassifier } from '../../yolos/classify/vit-classifier.ts';
import { classifyAccuracy } from '../../yolos/classify/accuracy.ts';
import { SHAPES_CLASSIFY_VAL } from '../../yolos/data/shapes-classify.ts';
import { loadInitialModel } from '../../yolos/transfer-node.ts';
import { presets } from '../../yolos/index.ts';
import { useEngine } from '../gpu/util.ts';

useEngine();

const DIR = 'models/vit-shapes';

describe('models/vit-shapes', () => {
  it('is a HF ViTForImageClassification of nano-16 dims at 48×48, above 97% top-1 on 300 held-out images', async () => {
    const config = readFileSync(`${DIR}/config.json`, 'utf8');
    expect(JSON.parse(config)).toMatchObject({
      model_type: 'vit',
      architectures: ['ViTForImageClassification'],
      image_size: 48,
      patch_size: 16,
      hidden_size: 64,
      num_hidden_layers: 4,
      num_attention_heads: 2,
      intermediate_size: 256,
    });
    const vit = ViTClassifier.fromSafetensors(readFileSync(`${DIR}/model.safetensors`), config, { name: DIR });
    const accuracy = await classifyAccuracy(vit, { ...SHAPES_CLASSIFY_VAL, count: 300 });
    vit.dispose();
    expect(accuracy).toBeGreaterThan(0.97);
  });

  it('becomes nano-16 backbone through loadInitialModel, the 3×3 PE grid resized to 4×4', async () => {
    const { model, report } = await loadInitialModel(DIR, presets.nano16, { seed: 0 });
    const text = report.join('\n');
    expect(text).toContain("ViT classifier ('vit.*'): used");
    expect(text).toContain('the 3×3 patch grid is bicubic-resized to 4×4');
    expect(model.params.get('vit.embeddings.position_embeddings')!.shape).toEqual([1, 1 + 16 + 10, 64]);
    model.dispose();
  });
});
