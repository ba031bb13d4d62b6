/**
 * YOLOS forward latency (median after warm-up, wall clock around the readback of the outputs) and
 * peak GPU memory, batch 1 and 8: nano16 at 64×64 on software adapters; with --gpu also tiny at
 * 256×320 and 512×672 (421 and 1 445 tokens: 320 or 1 344 patches, [CLS], 100 [DET]).
 *   npx tsx bench/yolos.ts [--gpu]
 * Writes bench/results/yolos-<adapter>.json (atomically). Against ONNX Runtime: bench/ort.ts.
 */
import { parseArgs } from 'node:util';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { init, randn, scope, describeAdapterOf } from '../engine/node.ts';
import { Yolos, presets, type PresetName } from '../yolos/index.ts';
import { median, resultsDir } from './harness.ts';

const { values } = parseArgs({ options: { gpu: { type: 'boolean' }, repeats: { type: 'string' } } });
const engine = await init();
const repeats = Number(values.repeats ?? 7);
const cases: [PresetName, number, number][] = [['nano16', 64, 64]];
if (values.gpu) cases.push(['tiny', 256, 320], ['tiny', 512, 672]);
const rows = [];
for (const [name, H, W] of cases) {
  const model = Yolos.create(presets[name], { seed: 0 });
  for (const B of [1, 8]) {
    const x = randn([B, 3, H, W], { seed: 1 });
    const run = async () => {
      const out = scope(() => model.predict(x));
      await out.boxes.data();
      out.logits.dispose();
      out.boxes.dispose();
    };
    await run();
    await run(); // warm-up: pipelines compiled, pool filled
    engine.pool.resetPeak();
    const base = engine.memory().liveBytes;
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    const ms = median(times);
    const peakMiB = (engine.memory().peakBytes - base) / 2 ** 20;
    rows.push({
      model: name,
      size: `${H}×${W}`,
      batch: B,
      msPerForward: ms,
      imagesPerSec: (1000 * B) / ms,
      peakActivationMiB: peakMiB,
      weightsMiB: model.parameters().reduce((n, p) => n + p.size * 4, 0) / 2 ** 20,
    });
    x.dispose();
  }
  model.dispose();
}
console.log(
  `YOLOS forward, ${describeAdapterOf(engine)}\n| model | input | batch | ms | images/s | peak activations MiB |\n|---|---|---|---|---|---|`,
);
for (const r of rows)
  console.log(
    `| ${r.model} | ${r.size} | ${r.batch} | ${r.msPerForward.toFixed(1)} | ${r.imagesPerSec.toFixed(1)} | ${r.peakActivationMiB.toFixed(2)} |`,
  );
await mkdir(resultsDir(), { recursive: true });
const slug = `${engine.adapter.source}-${engine.adapter.architecture || 'gpu'}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const file = join(resultsDir(), `yolos-${slug}.json`);
await writeFile(
  `${file}.tmp`,
  `${JSON.stringify({ adapter: describeAdapterOf(engine), date: new Date().toISOString(), rows }, null, 2)}\n`,
);
await rename(`${file}.tmp`, file);
engine.dispose();
