/**
 * Pre-trains the small ViT classifier behind models/vit-shapes on the shapes-classification task
 * (yolos/data/shapes-classify.ts: one large shape, kind × colour family, 48×48 px: a 3×3 patch grid,
 * smaller than nano-16's 4×4 so fine-tuning exercises the position-embedding resize). Same dims as
 * nano-16 (D 64, 4 blocks, 2 heads, MLP 256, patch 16), so Yolos.fromBackbone accepts it.
 * Writes, atomically, every --save-every steps and at the end:
 *   <out>/config.json         HF ViTConfig (model_type 'vit', ViTForImageClassification)
 *   <out>/model.safetensors   HF ViTForImageClassification keys
 *   <out>/training.json       the recipe, steps, seconds and held-out accuracy
 * Usage: npx tsx tools/pretrain-vit.ts [--steps 4000] [--batch 32] [--lr 1e-3] [--seed 0] [--out models/vit-shapes]
 */
import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { init, describeAdapterOf } from '../engine/node.ts';
import { warmupCosine } from '../engine/optim/index.ts';
import { ViTClassifier, type ViTInit } from '../yolos/classify/vit-classifier.ts';
import { vitConfig } from '../yolos/classify/vit-config.ts';
import { classifierOptimizer, classifyStep } from '../yolos/classify/classify-step.ts';
import { classifyAccuracy } from '../yolos/classify/accuracy.ts';
import { classifyBatch, SHAPES_CLASSIFY_LABELS, SHAPES_CLASSIFY_VAL } from '../yolos/data/shapes-classify.ts';
import { writeAtomic } from '../yolos/train/files-node.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '4000' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'models/vit-shapes' },
    init: { type: 'string', default: 'fanin' },
    size: { type: 'string', default: '48' },
    'save-every': { type: 'string', default: '500' },
    'val-count': { type: 'string', default: '1000' },
  },
});
const int = (k: keyof typeof values) => {
  const v = Number(values[k]);
  if (!Number.isInteger(v) || v < (k === 'seed' ? 0 : 1))
    throw new Error(`pretrain-vit: --${k} must be a ${k === 'seed' ? 'non-negative' : 'positive'} integer, got '${values[k]}'`);
  return v;
};
const steps = int('steps'),
  batch = int('batch'),
  seed = int('seed'),
  size = int('size'),
  saveEvery = int('save-every'),
  valCount = int('val-count');
const lr = Number(values.lr);
if (!(lr > 0)) throw new Error(`pretrain-vit: --lr must be a positive number, got '${values.lr}'`);
if (values.init !== 'hf' && values.init !== 'fanin') throw new Error(`pretrain-vit: --init must be 'hf' or 'fanin', got '${values.init}'`);
const out = values.out!;
const recipe = { steps, batch, lr, warmup: 100, weightDecay: 0.05, clip: 1, init: values.init as ViTInit, seed, size };

const engine = await init();
await mkdir(out, { recursive: true });
const config = vitConfig(
  { hidden_size: 64, num_hidden_layers: 4, num_attention_heads: 2, intermediate_size: 256, image_size: size, patch_size: 16 },
  SHAPES_CLASSIFY_LABELS,
);
const model = ViTClassifier.create(config, { seed, init: recipe.init });
const optimizer = classifierOptimizer(model, recipe);
const t0 = performance.now();
const seconds = () => (performance.now() - t0) / 1000;
let recent = 0;

async function save(step: number, accuracy: number | null): Promise<void> {
  await writeAtomic(join(out, 'model.safetensors'), await model.saveSafetensors());
  await writeAtomic(join(out, 'config.json'), model.configJson());
  const info = {
    command: `npx tsx tools/pretrain-vit.ts --steps ${steps} --batch ${batch} --lr ${lr} --seed ${seed} --init ${recipe.init} --size ${size}`,
    task: 'shapes-classify: one shape per image, 9 classes = kind × colour family (yolos/data/shapes-classify.ts)',
    recipe,
    stepsDone: step,
    imagesSeen: step * batch,
    seconds: Math.round(seconds()),
    adapter: describeAdapterOf(engine),
    validation: accuracy === null ? null : { ...SHAPES_CLASSIFY_VAL, count: valCount, accuracy },
  };
  await writeAtomic(join(out, 'training.json'), `${JSON.stringify(info, null, 2)}\n`);
}

for (let step = 0; step < steps; step++) {
  // stream seed `seed`, images step·batch …: never the held-out range (stream 0 from 2⁴⁰)
  const { pixels, labels } = classifyBatch({ seed, start: step * batch, count: batch, size });
  const loss = await classifyStep(model, optimizer, pixels, labels, {
    lr: warmupCosine(step, { warmup: recipe.warmup, total: steps, base: lr }),
    clip: recipe.clip,
  });
  if (!Number.isFinite(loss)) throw new Error(`pretrain-vit: the loss became ${loss} at step ${step}; lower --lr`);
  recent += loss;
  if ((step + 1) % 50 === 0) {
    console.log(`step ${step + 1}/${steps}  loss ${(recent / 50).toFixed(4)}  ${seconds().toFixed(0)} s`);
    recent = 0;
  }
  if ((step + 1) % saveEvery === 0 && step + 1 < steps) await save(step + 1, null);
}
const accuracy = await classifyAccuracy(model, { ...SHAPES_CLASSIFY_VAL, count: valCount });
console.log(`held-out accuracy (${valCount} images): ${(100 * accuracy).toFixed(1)}%`);
await save(steps, accuracy);
model.dispose();
engine.dispose();
