/**
 * `npm start` — the main job: trains YOLOS nano-16 from scratch on the synthetic shapes data for a
 * budget, evaluates it and the committed model (models/shapes-nano16.safetensors) on the held-out
 * validation stream, prints both COCO tables and writes
 *   out/detections.png  validation images with the committed model's boxes and labels
 *   out/loss.svg        the scratch run's loss curve
 *   out/metrics.json    { scratch: {…}, pretrained: {…} } — cocoEvaluate results + steps, images, seconds, adapter
 * Options: --minutes M (default 10), --steps N, --quick (1 minute), --out DIR, --seed N.
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile, readFile, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { init, describeAdapterOf } from './engine/node.ts';
import { Yolos, parseConfig, formatCocoStats, drawDetections, type Detection } from './yolos/index.ts';
import { encodePng } from './yolos/image-io.ts';
import { train, abortOnSignals } from './yolos/train/train.ts';
import { labelMap, SHAPES_VAL } from './yolos/train/data.ts';
import { makeSources } from './yolos/train/data-node.ts';
import { evaluate } from './yolos/train/evaluate.ts';
import { shapesDataset } from './yolos/data/shapes.ts';
import { writeShapesCoco } from './yolos/data/shapes-node.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    steps: { type: 'string' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
    seed: { type: 'string' },
  },
});
const out = values.out ?? 'out';
const minutes = values.quick ? 1 : Number(values.minutes ?? 10);
const steps = values.steps ? Number(values.steps) : undefined;
if (!(minutes > 0) || (steps !== undefined && !(Number.isInteger(steps) && steps > 0))) {
  console.error('npm start: --minutes must be > 0 and --steps a positive integer');
  process.exit(2);
}
const seed = Number(values.seed ?? 0);
const PRETRAINED = 'models/shapes-nano16.safetensors';

const engine = await init();
const adapter = describeAdapterOf(engine);
console.log(`adapter: ${adapter}`);
await mkdir(out, { recursive: true });

// 1. Data: the training stream is made on demand; the validation stream (200 images) is also written in COCO format.
const valSet = shapesDataset({ ...SHAPES_VAL });
await writeShapesCoco(valSet, join(out, 'shapes-val'), 'val');
console.log(
  `data: shapes — training stream (seed ${seed}, generated on demand), validation ${valSet.length} images → ${join(out, 'shapes-val')}`,
);

// 2. Train nano-16 from scratch for the budget.
console.log(`training nano16 from scratch for ${steps ? `${steps} steps` : `${minutes} minute(s)`}…`);
const stop = abortOnSignals(); // Ctrl-C/SIGTERM/SIGHUP end training early (with a checkpoint); evaluation still runs
const run = await train({
  data: 'shapes',
  model: 'nano16',
  minutes,
  steps,
  seed,
  out: join(out, 'scratch'),
  progress: process.stderr.isTTY ? 'bar' : 'lines',
  logEvery: 10,
  checkpointEvery: 1000,
  signal: stop.signal,
});
stop.dispose();
await copyFile(join(out, 'scratch', 'loss.svg'), join(out, 'loss.svg'));

// 3. Evaluate the scratch model and the committed one on the validation stream.
const { train: src, val } = await makeSources({ data: 'shapes', seed, model: 'nano16', augment: false });
const labels = labelMap(src.categories, run.model.config.num_labels);
const scratchEval = await evaluate(run.model.eval(), val, labels);
console.log(
  `\n== scratch model (${run.steps} steps, ${run.imagesSeen} images, ${run.seconds.toFixed(0)} s) ==\n${formatCocoStats(scratchEval.result)}`,
);
const metrics: Record<string, unknown> = {
  scratch: { ...scratchEval.result, steps: run.steps, imagesSeen: run.imagesSeen, seconds: run.seconds, adapter },
  pretrained: null,
};
let pretrained: Yolos | null = null;
if (existsSync(PRETRAINED)) {
  const config = parseConfig(await readFile('models/config.json', 'utf8'));
  pretrained = Yolos.fromSafetensors(await readFile(PRETRAINED), config, { name: PRETRAINED });
  const info = JSON.parse(await readFile('models/training.json', 'utf8').catch(() => '{}'));
  const t0 = performance.now();
  const preEval = await evaluate(pretrained.eval(), val, labels);
  console.log(`\n== committed model ${PRETRAINED} (${info.steps ?? '?'} steps) ==\n${formatCocoStats(preEval.result)}`);
  metrics.pretrained = {
    ...preEval.result,
    steps: info.steps ?? null,
    imagesSeen: info.imagesSeen ?? null,
    seconds: info.seconds ?? null,
    evalSeconds: (performance.now() - t0) / 1000,
    adapter: info.adapter ?? adapter,
  };
  // 4. Validation images with the committed model's detections.
  await writeFile(join(out, 'detections.png'), await detectionGrid(pretrained, preEval.detections));
} else {
  console.log(`\n(no committed model at ${PRETRAINED}: run 'npm run train:shapes' to make one; detections drawn with the scratch model)`);
  await writeFile(join(out, 'detections.png'), await detectionGrid(run.model, scratchEval.detections));
}
await writeFile(
  join(out, 'metrics.json'),
  `${JSON.stringify(metrics, (_k, v) => (v instanceof Float64Array || v instanceof Float32Array ? undefined : v), 2)}\n`,
);
console.log(`\nwrote ${join(out, 'detections.png')}, ${join(out, 'loss.svg')}, ${join(out, 'metrics.json')}`);
run.model.dispose();
pretrained?.dispose();
engine.dispose();

/** A 4×4 grid of validation images (3× scale) with detections scoring above 0.5. */
async function detectionGrid(
  model: Yolos,
  dets: { image_id: number; category_id: number; bbox: number[]; score: number }[],
): Promise<Uint8Array> {
  const n = 16,
    cols = 4,
    scale = 3,
    S = 64 * scale,
    pad = 4;
  const W = cols * (S + pad) + pad,
    H = Math.ceil(n / cols) * (S + pad) + pad;
  const canvas = { width: W, height: H, data: new Uint8Array(W * H * 4).fill(255) };
  const names = model.config.id2label ?? {};
  for (let i = 0; i < n; i++) {
    const s = await val.get(i);
    const ox = pad + (i % cols) * (S + pad),
      oy = pad + Math.floor(i / cols) * (S + pad);
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const sx = Math.floor(x / scale),
          sy = Math.floor(y / scale),
          p = ((oy + y) * W + ox + x) * 4;
        for (let c = 0; c < 3; c++) canvas.data[p + c] = Math.round(255 * s.image[(c * 64 + sy) * 64 + sx]);
        canvas.data[p + 3] = 255;
      }
    const mine: Detection[] = dets
      .filter((d) => d.image_id === s.imageId && d.score > 0.5)
      .map((d) => {
        const cls = labels.categoryIds.indexOf(d.category_id);
        return {
          score: d.score,
          label: cls,
          labelName: names[String(cls)] ?? String(d.category_id),
          box: [ox + d.bbox[0] * scale, oy + d.bbox[1] * scale, ox + (d.bbox[0] + d.bbox[2]) * scale, oy + (d.bbox[1] + d.bbox[3]) * scale],
        };
      });
    drawDetections(canvas, mine, { scale: 1 });
  }
  return encodePng({ ...canvas, channels: 4 });
}
