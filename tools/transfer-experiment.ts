/**
 * The YOLOS paper's thesis in miniature: nano-16 detection fine-tuned from the ViT pre-trained here
 * (models/vit-shapes, tools/pretrain-vit.ts) against nano-16 from scratch, with the same budget —
 * steps, batch, learning-rate schedule, data stream and seeds — and evaluated on the trainer's
 * validation stream (SHAPES_VAL, 200 images, `evaluate`). The only difference between the arms is
 * the initial model:
 *   pretrained  loadInitialModel('models/vit-shapes', nano16): the path a Hub ViT takes (fromBackbone:
 *               the 3×3 PE grid resized to 4×4; [DET] tokens and heads new, HF init)
 *   scratch     Yolos.create(nano16, { init: 'fanin' }): the committed model's from-scratch init
 * Both train with one recipe (the scratch recipe's optimizer and loss, its lr, a shorter warm-up,
 * cosine to 0 over --steps), so the comparison is of the start, not of two recipes.
 * Every finished run is written at once (atomically) to --out (default models/transfer.json), so a
 * cut-off run leaves the finished ones; a rerun skips the (arm, seed) pairs already there with the
 * same recipe.
 * Usage: npx tsx tools/transfer-experiment.ts [--steps 600] [--batch 16] [--seeds 0,1,2] [--lr 5e-4] [--warmup 50]
 *        [--arms pretrained,scratch] [--out models/transfer.json] [--runs-from other.json]
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { init, describeAdapterOf } from '../engine/node.ts';
import { presets } from '../yolos/config.ts';
import { Yolos } from '../yolos/model.ts';
import { loadInitialModel } from '../yolos/transfer-node.ts';
import { scratchRecipe, makeOptimizer, makeCriterion, lrAt } from '../yolos/train/recipe.ts';
import { trainStep } from '../yolos/train/step.ts';
import { labelMap, SHAPES_VAL } from '../yolos/train/data.ts';
import { makeSources } from '../yolos/train/data-node.ts';
import { evaluate } from '../yolos/train/evaluate.ts';
import { writeAtomic } from '../yolos/train/files-node.ts';
import { summarizeArms, type TransferRun } from '../yolos/classify/transfer-summary.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '600' },
    batch: { type: 'string', default: '16' },
    seeds: { type: 'string', default: '0,1,2' },
    lr: { type: 'string', default: '5e-4' },
    warmup: { type: 'string', default: '50' },
    backbone: { type: 'string', default: 'models/vit-shapes' },
    out: { type: 'string', default: 'models/transfer.json' },
    arms: { type: 'string', default: 'pretrained,scratch' },
    'runs-from': { type: 'string' },
  },
});
const int = (k: 'steps' | 'batch' | 'warmup', min: number) => {
  const v = Number(values[k]);
  if (!Number.isInteger(v) || v < min) throw new Error(`transfer-experiment: --${k} must be an integer ≥ ${min}, got '${values[k]}'`);
  return v;
};
const steps = int('steps', 1),
  batch = int('batch', 1),
  warmup = int('warmup', 0),
  lr = Number(values.lr);
if (!(lr > 0)) throw new Error(`transfer-experiment: --lr must be a positive number, got '${values.lr}'`);
const seeds = values.seeds!.split(',').map((s) => {
  if (!/^\d+$/.test(s.trim()))
    throw new Error(`transfer-experiment: --seeds must be comma-separated non-negative integers, got '${values.seeds}'`);
  return Number(s);
});
const arms = values.arms!.split(',') as TransferRun['arm'][];
for (const a of arms)
  if (a !== 'pretrained' && a !== 'scratch') throw new Error(`transfer-experiment: --arms takes 'pretrained' and/or 'scratch', got '${a}'`);
const backbone = values.backbone!,
  out = values.out!;

const engine = await init();
const config = presets.nano16;
const base = scratchRecipe(config);
const recipe = {
  steps,
  batch,
  lr,
  warmup,
  schedule: 'cosine to 0 after linear warm-up, per step',
  weightDecay: base.weightDecay,
  clip: base.clip,
  loss: base.loss,
  matcher: base.matcher,
  data: 'shapes (no augmentation), training stream = seed',
  validation: SHAPES_VAL,
};
const backboneInfo = JSON.parse(await readFile(`${backbone}/training.json`, 'utf8').catch(() => 'null'));
const previous = JSON.parse(await readFile(out, 'utf8').catch(() => 'null'));
const runs: TransferRun[] = previous && JSON.stringify(previous.recipe) === JSON.stringify(recipe) ? previous.runs : [];
// --runs-from: finished runs of another process (e.g. one arm run beside the other) with the same recipe
if (values['runs-from']) {
  const other = JSON.parse(await readFile(values['runs-from'], 'utf8'));
  if (JSON.stringify(other.recipe) !== JSON.stringify(recipe))
    throw new Error(
      `transfer-experiment: ${values['runs-from']} was run with another recipe (${JSON.stringify(other.recipe)}); expected ${JSON.stringify(recipe)}`,
    );
  for (const r of other.runs as TransferRun[]) if (!runs.some((m) => m.arm === r.arm && m.seed === r.seed)) runs.push(r);
}

async function write(): Promise<void> {
  const doc = {
    description:
      'nano-16 detection fine-tuned from the ViT pre-trained on shapes-classify (models/vit-shapes) vs from scratch, same budget; AP/AP50 on SHAPES_VAL',
    command: `npx tsx tools/transfer-experiment.ts --steps ${steps} --batch ${batch} --seeds ${seeds.join(',')} --lr ${lr} --warmup ${warmup}`,
    adapter: describeAdapterOf(engine),
    backbone: { path: backbone, pretraining: backboneInfo },
    recipe,
    summary: summarizeArms(runs),
    runs,
  };
  await writeAtomic(out, `${JSON.stringify(doc, null, 2)}\n`);
}

for (const seed of seeds) {
  for (const arm of arms) {
    if (runs.some((r) => r.arm === arm && r.seed === seed)) continue;
    const { train: source, val } = await makeSources({ data: 'shapes', seed, model: 'nano16', augment: false });
    const labels = labelMap(source.categories, config.num_labels);
    const model =
      arm === 'pretrained'
        ? (await loadInitialModel(backbone, config, { seed, id2label: labels.id2label })).model
        : Yolos.create({ ...config, id2label: labels.id2label }, { seed, init: 'fanin' });
    model.train();
    const optimizer = makeOptimizer(model, { ...base, lr });
    const criterion = makeCriterion(config.num_labels, base);
    const t0 = performance.now();
    let lossTail = 0;
    for (let step = 0; step < steps; step++) {
      const b = await source.batch(step, batch);
      const targets = b.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes }));
      const s = await trainStep(model, optimizer, criterion, b.pixels, b.shape, targets, {
        lr: lrAt(step, { schedule: 'step', lr, lrMin: 0, warmup, total: steps, stepsPerEpoch: 1 }),
        clip: base.clip,
      });
      if (!Number.isFinite(s.loss)) throw new Error(`transfer-experiment: ${arm} seed ${seed}: the loss became ${s.loss} at step ${step}`);
      if (step >= steps - 50) lossTail += s.loss / Math.min(50, steps);
      if ((step + 1) % 100 === 0)
        console.log(
          `${arm} seed ${seed}: step ${step + 1}/${steps} loss ${s.loss.toFixed(3)} ${((performance.now() - t0) / 1000).toFixed(0)} s`,
        );
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const { result } = await evaluate(model.eval(), val, labels);
    model.dispose();
    runs.push({
      arm,
      seed,
      AP: result.AP,
      AP50: result.AP50,
      AP75: result.AP75,
      finalLoss: lossTail,
      trainSeconds: Math.round(trainSeconds),
    });
    console.log(`${arm} seed ${seed}: AP ${result.AP.toFixed(4)} AP50 ${result.AP50.toFixed(4)} (${trainSeconds.toFixed(0)} s)`);
    await write();
  }
}
await write();
engine.dispose();
