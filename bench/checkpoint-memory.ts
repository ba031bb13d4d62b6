/**
 * Peak GPU memory of one training forward + backward (set loss on random targets, gradients into
 * .grad; no optimizer) with and without `model.checkpointBlocks`, and the step's wall time. Peak is
 * the pool's highest live bytes (engine.memory().peakBytes, real buffer sizes) from the start of the
 * step; `activationPeakBytes` subtracts what was live before it (parameters, inputs).
 * Default cases: nano16 batch 16 at 64×64 and tiny batch 1 at 512×672 (tens of seconds per step on
 * lavapipe). Without checkpointing every block's saved activations are live at the start of
 * backward; with it, each block's input plus one block's recompute.
 *   npx tsx bench/checkpoint-memory.ts [--cases nano16:16:64x64,tiny:1:512x672] [--warmup 1]
 *   (writes checkpoint-memory-<adapter>.json into $OUT or bench/results/)
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { init, tensor, scope, describeAdapterOf } from '../engine/node.ts';
import { Yolos, presets, SetCriterion, type PresetName } from '../yolos/index.ts';
import { mulberry32 } from '../engine/prng.ts';
import { resultsDir } from './harness.ts';

const { values } = parseArgs({ options: { cases: { type: 'string' }, warmup: { type: 'string' } } });
const warmup = Number(values.warmup ?? 1);
const cases = (values.cases ?? 'nano16:16:64x64,tiny:1:512x672').split(',').map((spec) => {
  const [name, b, size] = spec.split(':');
  const [H, W] = (size ?? '').split('x').map(Number);
  if (!(name in presets) || !(Number(b) > 0) || !(H > 0 && W > 0))
    throw new Error(
      `bench/checkpoint-memory: --cases entry '${spec}' is not <model>:<batch>:<H>x<W> with model in ${Object.keys(presets).join(', ')}`,
    );
  return { name: name as PresetName, B: Number(b), H, W };
});

const engine = await init();
const MiB = (b: number) => +(b / 2 ** 20).toFixed(2);

/** One step; returns its peak bytes above the live bytes at its start, and its wall time. */
async function step(model: Yolos, criterion: SetCriterion, B: number, H: number, W: number, seed: number) {
  const rnd = mulberry32(seed);
  const targets = Array.from({ length: B }, () => ({
    labels: Int32Array.from({ length: 5 }, () => Math.floor(rnd() * model.config.num_labels)),
    boxes: Float32Array.from({ length: 20 }, (_, i) => (i % 4 < 2 ? 0.2 + 0.6 * rnd() : 0.05 + 0.3 * rnd())),
  }));
  const x = tensor(
    Float32Array.from({ length: B * 3 * H * W }, () => 2 * rnd() - 1),
    [B, 3, H, W],
  );
  await engine.flush();
  const base = engine.memory().liveBytes;
  engine.pool.resetPeak();
  const t0 = performance.now();
  const out = scope(() => model.forward(x));
  const l = await criterion.forward(out, targets); // waits for the forward (the matcher's readback)
  l.loss.backward();
  await l.loss.item(); // waits for backward
  const ms = performance.now() - t0;
  const peak = engine.memory().peakBytes;
  for (const t of [x, out.logits, out.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou]) t.dispose();
  for (const p of model.parameters()) {
    p.grad?.dispose();
    p.grad = null;
  }
  return { peakBytes: peak, activationPeakBytes: peak - base, baseBytes: base, ms };
}

const rows = [];
for (const { name, B, H, W } of cases) {
  const config = presets[name];
  const model = Yolos.create(config, { init: 'fanin' });
  const criterion = new SetCriterion({ numClasses: config.num_labels });
  const row: Record<string, unknown> = {
    model: name,
    batch: B,
    size: [H, W],
    layers: config.num_hidden_layers,
    tokens: 1 + (H / 16) * (W / 16) + config.num_detection_tokens,
  };
  for (const ck of [false, true]) {
    model.checkpointBlocks = ck;
    for (let i = 0; i < warmup; i++) await step(model, criterion, B, H, W, 100 + i);
    const r = await step(model, criterion, B, H, W, 1);
    row[ck ? 'checkpointed' : 'plain'] = { ...r, peakMiB: MiB(r.peakBytes), activationPeakMiB: MiB(r.activationPeakBytes) };
    console.log(
      `${name} b${B} ${H}×${W} ${ck ? 'checkpointBlocks' : 'plain           '}: peak ${MiB(r.peakBytes)} MiB (activations ${MiB(r.activationPeakBytes)} MiB), ${r.ms.toFixed(0)} ms`,
    );
  }
  const p = row.plain as { activationPeakBytes: number; ms: number },
    c = row.checkpointed as { activationPeakBytes: number; ms: number };
  row.activationPeakRatio = +(c.activationPeakBytes / p.activationPeakBytes).toFixed(3);
  row.timeRatio = +(c.ms / p.ms).toFixed(3);
  rows.push(row);
  model.dispose();
}

const result = {
  adapter: describeAdapterOf(engine),
  date: new Date().toISOString(),
  loadavg: loadavg()[0],
  warmupSteps: warmup,
  note: "one training forward + set loss + backward per row; peak = pool live bytes (size classes); no optimizer state; ms is one step's wall time under the machine's load at the time",
  rows,
};
const slug = `${engine.adapter.source}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const dir = resultsDir();
await mkdir(dir, { recursive: true });
const file = join(dir, `checkpoint-memory-${slug}.json`);
await writeFile(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`); // tmp + rename: a killed run leaves the old file whole
await rename(`${file}.tmp`, file);
console.log(`wrote ${file}`);
engine.dispose();
