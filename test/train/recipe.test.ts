/**
 * The one recipe module: its numbers, the one parameter classifier behind init and weight-decay
 * groups, the per-epoch schedule, and (GPU, small) the trainer using it — the validation size from the
 * config, fine-tuning from pre-trained weights with a frozen backbone, and the option errors.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, type Engine } from '../../engine/node.ts';
import { Yolos, presets, parameterShapes, shapesDataset, type YolosConfig } from '../../yolos/index.ts';
import { paramRole } from '../../yolos/param-roles.ts';
import { parameterGroups } from '../../yolos/train/groups.ts';
import { scratchRecipe, finetuneRecipe, lrAt, stepsPerEpoch, validationResize } from '../../yolos/train/recipe.ts';
import { train } from '../../yolos/train/train.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'yolos-recipe-'));
const tinyConfig: YolosConfig = {
  ...presets.nano16,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  image_size: [32, 32],
  num_detection_tokens: 6,
};

describe('recipe numbers', () => {
  it("from scratch: the committed model's recipe, one set of numbers for every caller", () => {
    expect(scratchRecipe(presets.nano16)).toMatchObject({
      kind: 'scratch',
      steps: 12000,
      batch: 16,
      lr: 5e-4,
      warmup: 200,
      lrMin: 0,
      schedule: 'step',
      weightDecay: 1e-4,
      clip: 0.1,
      init: 'fanin',
      betas: [0.9, 0.999],
      eps: 1e-8,
    });
    expect(scratchRecipe(presets.nano16).loss).toEqual({ ce: 1, bbox: 5, giou: 2, eosCoef: 0.1 });
  });

  it("fine-tuning: the paper's lr scaled linearly with the batch, epochs and schedule per model", () => {
    expect(finetuneRecipe(presets.tiny)).toMatchObject({
      kind: 'finetune',
      batch: 16,
      lr: 5e-5,
      epochs: 300,
      warmup: 0,
      lrMin: 1e-7,
      schedule: 'epoch',
      clip: 0.1,
      weightDecay: 1e-4,
    });
    expect(finetuneRecipe(presets.tiny, 2).lr).toBeCloseTo(6.25e-6, 15);
    expect(finetuneRecipe(presets.small)).toMatchObject({ batch: 8, lr: 2.5e-5, epochs: 150 });
    expect(finetuneRecipe(presets.base, 1).lr).toBeCloseTo(3.125e-6, 15);
    expect(() => finetuneRecipe(presets.tiny, 0)).toThrow('finetuneRecipe: batch must be a positive integer, got 0');
  });

  it('the per-epoch cosine: epochs 0 and 1 at the base lr, then lr(e − 1), lr_min at the end', () => {
    const s = { schedule: 'epoch' as const, lr: 1, lrMin: 0, warmup: 0, total: 40, stepsPerEpoch: 10 }; // 4 epochs
    expect([0, 9, 10, 19].map((k) => lrAt(k, s))).toEqual([1, 1, 1, 1]);
    expect(lrAt(20, s)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(lrAt(39, s)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 2)), 12);
    expect(stepsPerEpoch(118287, 16)).toBe(7393);
    expect(stepsPerEpoch(undefined, 16)).toBe(1);
  });

  it("the validation transform comes from the config (as `yolos eval`), or the run's --size", () => {
    expect(validationResize(presets.nano16)).toEqual({ shortestEdge: 64, longestEdge: 106 });
    expect(validationResize(presets.tiny)).toEqual({ shortestEdge: 512, longestEdge: 853 });
    expect(validationResize(presets.small)).toEqual({ shortestEdge: 800, longestEdge: 1333 });
    expect(validationResize(presets.tiny, 64).shortestEdge).toBe(64);
  });
});

describe('one parameter classifier', () => {
  it('init and weight decay read the same roles; mid-layer PEs are decayed, the first-layer PE is not', () => {
    const names = parameterShapes(presets.small).map(([n]) => n);
    const role = (n: string) => paramRole(n);
    expect(role('vit.encoder.mid_position_embeddings')).toBe('mid-position');
    expect(role('vit.embeddings.position_embeddings')).toBe('position');
    expect(role('vit.embeddings.cls_token')).toBe('token');
    expect(role('vit.embeddings.detection_tokens')).toBe('token');
    expect(role('vit.embeddings.patch_embeddings.projection.weight')).toBe('matrix');
    expect(role('vit.embeddings.patch_embeddings.projection.bias')).toBe('bias');
    expect(role('vit.layernorm.weight')).toBe('norm');
    expect(role('class_labels_classifier.layers.2.bias')).toBe('head');
    expect(new Set(names.map(role))).toEqual(new Set(['head', 'norm', 'bias', 'token', 'position', 'mid-position', 'matrix']));
  });
});

describe('the trainer on the recipe (GPU)', () => {
  let eng: Engine;
  beforeAll(async () => {
    eng = await init();
  });
  afterAll(() => eng.dispose());

  it('groups: decayed = heads, matrices, mid PEs; frozen parameters are in no group', () => {
    const model = Yolos.create({ ...tinyConfig, use_mid_position_embeddings: true }, { seed: 0 });
    const byName = new Map(model.namedParameters().map(([n, p]) => [p, n]));
    const [decay, noDecay] = parameterGroups(model, 1e-4);
    expect(decay.weightDecay).toBe(1e-4);
    expect(noDecay.weightDecay).toBe(0);
    expect(decay.params.map((p) => byName.get(p))).toContain('vit.encoder.mid_position_embeddings');
    expect(noDecay.params.map((p) => byName.get(p))).toContain('vit.embeddings.position_embeddings');
    for (const p of model.parameters()) if (byName.get(p)!.startsWith('vit.encoder.layer.')) p.requiresGrad = false;
    const frozen = parameterGroups(model, 1e-4).flatMap((g) => g.params.map((p) => byName.get(p)!));
    expect(frozen.some((n) => n.startsWith('vit.encoder.layer.'))).toBe(false);
    for (const p of model.parameters()) p.requiresGrad = false;
    expect(() => parameterGroups(model, 1e-4)).toThrow('parameterGroups: every parameter of the model is frozen');
    model.dispose();
  });

  it("--eval on a COCO folder evaluates at the config's size (64 px for nano16), as `yolos eval` does", async () => {
    const dir = tmp();
    await writeShapesCoco(shapesDataset({ seed: 1, count: 2, size: 64 }), dir, 'train');
    await writeShapesCoco(shapesDataset({ seed: 2, count: 2, size: 64 }), dir, 'val');
    const r = await train({ data: dir, model: 'nano16', steps: 1, batch: 2, out: join(dir, 'run'), progress: 'none' });
    const s = await r.val.get(0);
    expect([s.height, s.width]).toEqual([64, 64]); // was 80 (the largest training scale)
    r.model.dispose();
  });

  it("fine-tunes from pre-trained weights with the paper's recipe; --freeze-backbone keeps the backbone", async () => {
    const pre = await train({ data: 'shapes', model: tinyConfig, size: 32, batch: 2, steps: 1, out: tmp(), progress: 'none' });
    const before = new Map(await Promise.all(pre.model.namedParameters().map(async ([n, p]) => [n, Array.from(await p.data())] as const)));
    pre.model.dispose();
    const r = await train({
      data: 'shapes',
      model: tinyConfig,
      size: 32,
      batch: 2,
      steps: 2,
      initFrom: pre.weights,
      freezeBackbone: true,
      out: tmp(),
      progress: 'none',
    });
    expect(r.history[0].lr).toBeCloseTo(finetuneRecipe(tinyConfig, 2).lr, 15); // no warm-up: the base lr at step 0
    for (const [n, p] of r.model.namedParameters()) {
      const same = JSON.stringify(Array.from(await p.data())) === JSON.stringify(before.get(n));
      expect(same, n).toBe(
        n.startsWith('vit.encoder.layer.') ||
          n === 'vit.embeddings.cls_token' ||
          n.startsWith('vit.layernorm') ||
          n.startsWith('vit.embeddings.patch_embeddings'),
      );
    }
    r.model.dispose();
  });

  it('option errors: --freeze-backbone without --init-from, --init with --init-from', async () => {
    await expect(train({ data: 'shapes', model: tinyConfig, steps: 1, freezeBackbone: true, out: tmp() })).rejects.toThrow(
      'train: freezeBackbone (--freeze-backbone) needs initFrom (--init-from)',
    );
    await expect(train({ data: 'shapes', model: tinyConfig, steps: 1, initFrom: 'x.safetensors', init: 'hf', out: tmp() })).rejects.toThrow(
      'train: init (--init) hf applies to a model trained from scratch',
    );
  });
});
