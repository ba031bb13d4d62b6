/**
 * A YOLOS training step on this adapter: median wall time per step after warm-up, images/s, and where
 * the time goes — CPU batch generation, recording the forward, the set loss (which waits for the
 * forward's GPU work, reads the cost matrices back once and solves the assignments), and backward +
 * clip + AdamW up to the loss readback. Default: nano-16 on the shapes data at batch 16 (target on
 * lavapipe: ≤ 180 ms/step; PyTorch CPU: 41–45 ms). `--model tiny --size 512x672
 * --batch 8` (GPU machines): random images with 5 random boxes each over the preset's 91 classes.
 *   npx tsx bench/train.ts [--steps 20] [--batch 16] [--model nano16] [--size HxW] [--compare]
 *   (writes train-<adapter>[-<model>].json into $OUT or bench/results/)
 * `--compare`: today's step against the one before the multi-tensor optimizer and the fused linear
 * backward (per-parameter AdamW and norm launches, batched linear gradients plus reductions), in one
 * process, rounds interleaved so the machine's load falls on both alike; dispatches per step are
 * counted (deterministic). Writes train-step-<adapter source>.json.
 */
import { parseArgs } from 'node:util';
import { rt } from '../engine/runtime.ts';
import { linearGradOptions } from '../engine/ops/matmul.ts';
import { gradNormWith } from '../engine/optim/clip.ts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { init, tensor, scope, describeAdapterOf } from '../engine/node.ts';
import { AdamW, gradNorm } from '../engine/optim/index.ts';
import { Yolos, presets, type PresetName } from '../yolos/index.ts';
import { mulberry32 } from '../engine/prng.ts';
import { labelMap } from '../yolos/train/data.ts';
import { makeSources } from '../yolos/train/data-node.ts';
import { parameterGroups } from '../yolos/train/groups.ts';
import { scratchRecipe, makeOptimizer, makeCriterion } from '../yolos/train/recipe.ts';
import { median, resultsDir } from './harness.ts';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    batch: { type: 'string' },
    model: { type: 'string' },
    size: { type: 'string' },
    compare: { type: 'boolean' },
  },
});
const name = (values.model ?? 'nano16') as PresetName;
if (!(name in presets)) throw new Error(`bench/train: unknown --model ${name} (expected ${Object.keys(presets).join(', ')})`);
const config = presets[name];
const recipe = scratchRecipe(config);
const steps = Number(values.steps ?? 20),
  B = Number(values.batch ?? recipe.batch);
const [H, W] = values.size ? values.size.split('x').map(Number) : config.image_size;
/** nano-16 at its own size trains on the shapes data; anything else on random images and boxes. */
const shapesData = name === 'nano16' && !values.size;
const engine = await init();
const model = Yolos.create(config, { init: recipe.init });
const opt = makeOptimizer(model, recipe);
const criterion = makeCriterion(config.num_labels, recipe);
const nextBatch = await (async () => {
  if (shapesData) {
    const { train: src } = await makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false });
    const labels = labelMap(src.categories, config.num_labels);
    return async (step: number) => {
      const batch = await src.batch(step, B);
      return {
        pixels: batch.pixels,
        shape: batch.shape,
        targets: batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes })),
      };
    };
  }
  const rnd = mulberry32(0);
  return async () => ({
    pixels: Float32Array.from({ length: B * 3 * H * W }, () => 2 * rnd() - 1),
    shape: [B, 3, H, W] as [number, number, number, number],
    targets: Array.from({ length: B }, () => ({
      labels: Int32Array.from({ length: 5 }, () => Math.floor(rnd() * config.num_labels)),
      boxes: Float32Array.from({ length: 20 }, (_, i) => (i % 4 < 2 ? 0.2 + 0.6 * rnd() : 0.05 + 0.3 * rnd())),
    })),
  });
})();
/** The step as it was before (per-parameter launches, batched linear gradients) or as it is now. */
type Variant = 'before' | 'after';
const optimizers: Record<Variant, AdamW> = {
  after: opt,
  before: values.compare
    ? new AdamW(parameterGroups(model, recipe.weightDecay), { lr: recipe.lr, betas: recipe.betas, eps: recipe.eps, foreach: false })
    : opt,
};
const oneStep = async (step: number, variant: Variant) => {
  linearGradOptions.fold = variant === 'after';
  const t0 = performance.now();
  const batch = await nextBatch(step);
  const t1 = performance.now();
  const d0 = rt().dispatches;
  const x = tensor(batch.pixels, batch.shape);
  const out = scope(() => model.forward(x));
  const t2 = performance.now();
  const l = await criterion.forward(out, batch.targets); // waits for the forward, reads the costs back, solves, records the loss
  const t3 = performance.now();
  l.loss.backward();
  const norm = variant === 'after' ? gradNorm(model.parameters()) : gradNormWith(model.parameters(), 6);
  optimizers[variant].step({ clip: { norm, maxNorm: 0.1 } });
  optimizers[variant].zeroGrad();
  await l.loss.item(); // waits for backward, clip and AdamW
  const t4 = performance.now();
  for (const t of [x, out.logits, out.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou, norm]) t.dispose();
  return {
    data: t1 - t0,
    forwardRecord: t2 - t1,
    matchAndLoss: t3 - t2,
    backwardStep: t4 - t3,
    total: t4 - t0,
    dispatches: rt().dispatches - d0,
  };
};
type Row = Awaited<ReturnType<typeof oneStep>>;
/** Medians of timed steps: ms per step, dispatches per step, and each phase. */
const summarize = (timed: Row[]) => {
  const m = (k: keyof Row) => median(timed.map((r) => r[k]));
  return {
    msPerStep: m('total'),
    dispatchesPerStep: m('dispatches'),
    medians: Object.fromEntries((['data', 'forwardRecord', 'matchAndLoss', 'backwardStep', 'total'] as const).map((k) => [k, m(k)])),
    stepsTimed: timed.length,
  };
};
/** What every results file starts with: where and what was measured. */
const runInfo = () => ({
  adapter: describeAdapterOf(engine),
  date: new Date().toISOString(),
  loadavg: loadavg()[0],
  model: name,
  size: [H, W],
  batch: B,
});
const rows: Row[] = [];
if (values.compare) {
  // Warm-up of both (pipelines compile), then rounds of 5 steps each, interleaved.
  const byVariant: Record<Variant, Row[]> = { before: [], after: [] };
  for (let step = 0; step < 3; step++) for (const v of ['before', 'after'] as const) await oneStep(step, v);
  for (let step = 3; step < steps + 3; step += 5) {
    for (const v of ['before', 'after'] as const)
      for (let k = step; k < Math.min(step + 5, steps + 3); k++) byVariant[v].push(await oneStep(k, v));
  }
  const result = { ...runInfo(), before: summarize(byVariant.before), after: summarize(byVariant.after) };
  const ratio = result.after.msPerStep / result.before.msPerStep;
  console.log(`${name} training step at ${H}×${W}, batch ${B}, ${result.adapter}, before/after interleaved in one process`);
  console.log(`| | ms/step (median) | dispatches/step | backward + clip + AdamW ms |\n|---|---|---|---|`);
  for (const v of ['before', 'after'] as const)
    console.log(
      `| ${v} | ${result[v].msPerStep.toFixed(1)} | ${result[v].dispatchesPerStep} | ${result[v].medians.backwardStep.toFixed(1)} |`,
    );
  console.log(`after/before: ${ratio.toFixed(2)}×`);
  await mkdir(resultsDir(), { recursive: true });
  await writeFile(
    join(resultsDir(), `train-step-${engine.adapter.source}.json`),
    `${JSON.stringify({ ...result, afterOverBefore: ratio }, null, 2)}\n`,
  );
  model.dispose();
  opt.dispose();
  optimizers.before.dispose();
  engine.dispose();
  process.exit(0);
}
for (let step = 0; step < steps + 3; step++) {
  const row = await oneStep(step, 'after');
  if (step >= 3) rows.push(row);
}
const summary = summarize(rows);
const total = summary.msPerStep;
const share = (k: string) => summary.medians[k]! / total;
const result = {
  ...runInfo(),
  steps,
  ...summary,
  imagesPerSec: (1000 * B) / total,
  share: {
    data: share('data'),
    forwardRecord: share('forwardRecord'),
    forwardGpuMatchingReadbackLoss: share('matchAndLoss'),
    backwardClipAdamW: share('backwardStep'),
  },
};
console.log(`${name} training step at ${H}×${W}, batch ${B}, ${result.adapter}`);
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
console.log(
  `| ms/step | images/s | data (CPU) | forward recording | forward GPU + cost readback + matching + loss | backward + clip + AdamW (GPU) |\n|---|---|---|---|---|---|`,
);
console.log(
  `| ${total.toFixed(1)} | ${result.imagesPerSec.toFixed(1)} | ${pct(result.share.data)} | ${pct(result.share.forwardRecord)} | ${pct(result.share.forwardGpuMatchingReadbackLoss)} | ${pct(result.share.backwardClipAdamW)} |`,
);
await mkdir(resultsDir(), { recursive: true });
const slug = `${engine.adapter.source}-${engine.adapter.architecture || 'gpu'}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
await writeFile(join(resultsDir(), `train-${slug}${shapesData ? '' : `-${name}-${H}x${W}`}.json`), `${JSON.stringify(result, null, 2)}\n`);
model.dispose();
opt.dispose();
engine.dispose();
