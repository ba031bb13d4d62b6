/**
 * nano-16 training step at batch 16 on this adapter: median wall time per step after warm-up, images/s,
 * and where the time goes — CPU batch generation, recording the forward, the set loss (which waits
 * for the forward's GPU work, reads the cost matrices back once and solves the assignments), and
 * backward + clip + AdamW up to the loss readback. Target on lavapipe (training issue): ≤ 180 ms/step (PyTorch CPU: 41–45 ms).
 *   npx tsx bench/train.ts [--steps 20] [--batch 16]      (writes bench/results/train-<adapter>.json)
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { init, tensor, scope, describeAdapterOf } from '../engine/index.ts';
import { AdamW, gradNorm } from '../engine/optim/index.ts';
import { Yolos, presets, SetCriterion } from '../yolos/index.ts';
import { makeSources, labelMap } from '../yolos/train/data.ts';
import { parameterGroups } from '../yolos/train/groups.ts';
import { median, resultsDir } from './harness.ts';

const { values } = parseArgs({ options: { steps: { type: 'string' }, batch: { type: 'string' } } });
const steps = Number(values.steps ?? 20), B = Number(values.batch ?? 16);
const engine = await init();
const { train: src } = await makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false });
const labels = labelMap(src.categories, 3);
const model = Yolos.create(presets.nano16, { init: 'fanin' });
const opt = new AdamW(parameterGroups(model, 1e-4), { lr: 5e-4 });
const criterion = new SetCriterion({ numClasses: 3 });
const rows: Record<string, number>[] = [];
for (let step = 0; step < steps + 3; step++) {
  const t0 = performance.now();
  const batch = await src.batch(step, B);
  const targets = batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes }));
  const t1 = performance.now();
  const x = tensor(batch.pixels, batch.shape);
  const out = scope(() => model.forward(x));
  const t2 = performance.now();
  const l = await criterion.forward(out, targets); // waits for the forward, reads the costs back, solves, records the loss
  const t3 = performance.now();
  l.loss.backward();
  const norm = gradNorm(model.parameters());
  opt.step({ clip: { norm, maxNorm: 0.1 } }); opt.zeroGrad();
  await l.loss.item(); // waits for backward, clip and AdamW
  const t4 = performance.now();
  for (const t of [x, out.logits, out.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou, norm]) t.dispose();
  if (step >= 3) rows.push({ data: t1 - t0, forwardRecord: t2 - t1, matchAndLoss: t3 - t2, backwardStep: t4 - t3, total: t4 - t0 });
}
const med = (k: string) => median(rows.map((r) => r[k]));
const total = med('total');
const result = {
  adapter: describeAdapterOf(engine), date: new Date().toISOString(), loadavg: loadavg()[0], batch: B, steps,
  msPerStep: total, imagesPerSec: (1000 * B) / total,
  share: { data: med('data') / total, forwardRecord: med('forwardRecord') / total, forwardGpuMatchingReadbackLoss: med('matchAndLoss') / total, backwardClipAdamW: med('backwardStep') / total },
  medians: Object.fromEntries(['data', 'forwardRecord', 'matchAndLoss', 'backwardStep', 'total'].map((k) => [k, med(k)])),
};
console.log(`nano-16 training step, batch ${B}, ${result.adapter}`);
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
console.log(`| ms/step | images/s | data (CPU) | forward recording | forward GPU + cost readback + matching + loss | backward + clip + AdamW (GPU) |\n|---|---|---|---|---|---|`);
console.log(`| ${total.toFixed(1)} | ${result.imagesPerSec.toFixed(1)} | ${pct(result.share.data)} | ${pct(result.share.forwardRecord)} | ${pct(result.share.forwardGpuMatchingReadbackLoss)} | ${pct(result.share.backwardClipAdamW)} |`);
await mkdir(resultsDir(), { recursive: true });
const slug = `${engine.adapter.source}-${engine.adapter.architecture || 'gpu'}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
await writeFile(join(resultsDir(), `train-${slug}.json`), `${JSON.stringify(result, null, 2)}\n`);
model.dispose(); opt.dispose();
engine.dispose();
