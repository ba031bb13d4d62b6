/**
 * fineTuneTarget (web/src/finetune-target.ts): the YOLOS a Train-tab fine-tuning run builds — nano-16
 * on the shapes, the detector's own architecture on a user's data, the preset of a backbone's size,
 * and an Error naming the file and the sizes for a backbone of no preset's size.
 */
import { describe, it, expect } from 'vitest';
import { fineTuneTarget } from '../../web/src/finetune-target.ts';
import { presets } from '../../yolos/config.ts';

const vitTi = JSON.stringify({ hidden_size: 192, num_hidden_layers: 12, num_attention_heads: 3, intermediate_size: 768, image_size: 224 });

describe('fineTuneTarget', () => {
  it('trains nano-16 on the shapes whatever the checkpoint', () => {
    expect(fineTuneTarget('vit', vitTi, 'shapes', 'vit.safetensors').preset).toBe('nano16');
  });
  it("keeps a detector's own architecture on a user's data, preset or not", () => {
    const own = { ...presets.nano16, num_detection_tokens: 5 };
    const t = fineTuneTarget('yolos', JSON.stringify(own), 'coco', 'det.safetensors');
    expect(t.preset).toBeNull();
    expect(t.config.num_detection_tokens).toBe(5);
    expect(fineTuneTarget('yolos', JSON.stringify(presets.tiny), 'coco', 'det.safetensors').preset).toBe('tiny');
  });
  it('gives a backbone the preset of its size (HF ViT defaults for absent fields: ViT-B → base)', () => {
    expect(fineTuneTarget('vit', vitTi, 'coco', 'vit.safetensors').preset).toBe('tiny');
    expect(fineTuneTarget('vit', '{}', 'coco', 'vit-base.safetensors').preset).toBe('base');
  });
  it('names the file and the sizes when no preset fits, and a config that is not JSON', () => {
    expect(() => fineTuneTarget('deit', JSON.stringify({ hidden_size: 100 }), 'coco', 'odd.safetensors')).toThrow(
      /^odd\.safetensors: a deit backbone of hidden_size 100, num_hidden_layers 12, .* is the size of no YOLOS preset .*start from a YOLOS detector of that size instead$/,
    );
    expect(() => fineTuneTarget('vit', '{', 'coco', 'vit.safetensors')).toThrow(/^vit\.safetensors: its config is not valid JSON/);
  });
});
