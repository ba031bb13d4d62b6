/**
 * f16 inference mode (Yolos.to('f16')) against f32, on an adapter with 'shader-f16':
 *   1. forward latency, f32 and f16 runs interleaved (one of each per round, so load drifts hit both),
 *      medians: YOLOS-Ti (presets.tiny, seed 0) at 256×320 b1, nano16 at 64×64 b8;
 *   2. max |Δlogit| and |Δbox| of each against the float64 PyTorch outputs (test/fixtures/yolos-ref);
 *   3. AP / AP50 of models/shapes-nano16.safetensors on the shapes validation stream, f32 and f16.
 *   npx tsx bench/f16.ts [--repeats 7]
 * Writes bench/results/f16-<adapter>.json (atomically), with the load average before and after.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { init, randn, scope, tensor, describeAdapterOf, type Tensor } from '../engine/node.ts';
import { Yolos, presets, parseConfig, readSafetensors, type PresetName, type SafeTensor } from '../yolos/index.ts';
import { labelMap } from '../yolos/train/data.ts';
import { makeSources } from '../yolos/train/data-node.ts';
import { evaluate } from '../yolos/train/evaluate.ts';
import { median, resultsDir } from './harness.ts';

const { values } = parseArgs({ options: { repeats: { type: 'string' } } });
const repeats = Number(values.repeats ?? 7);
const engine = await init();
if (!engine.hasFeature('shader-f16'))
  throw new Error(`bench/f16: the adapter ${describeAdapterOf(engine)} has no 'shader-f16'; run on lavapipe or a GPU that has it`);
const loadBefore = loadavg();

// 1. Latency, interleaved.
const speed = [];
for (const [name, H, W, B] of [
  ['tiny', 256, 320, 1],
  ['nano16', 64, 64, 8],
] as [PresetName, number, number, number][]) {
  const f32 = Yolos.create(presets[name], { seed: 0 });
  const f16 = Yolos.create(presets[name], { seed: 0 }).to('f16', { keepF32: false });
  const x = randn([B, 3, H, W], { seed: 1 });
  const once = async (m: Yolos) => {
    const t = performance.now();
    const out = scope(() => m.predict(x));
    await out.boxes.data();
    out.logits.dispose();
    out.boxes.dispose();
    return performance.now() - t;
  };
  await once(f32);
  await once(f16);
  await once(f32);
  await once(f16); // warm-up: pipelines compiled, pool filled
  const t32: number[] = [],
    t16: number[] = [];
  for (let i = 0; i < repeats; i++) {
    t32.push(await once(f32));
    t16.push(await once(f16));
  }
  const ms32 = median(t32),
    ms16 = median(t16);
  speed.push({ model: name, size: `${H}×${W}`, batch: B, msF32: ms32, msF16: ms16, speedup: ms32 / ms16, timesF32: t32, timesF16: t16 });
  console.log(`${name} ${H}×${W} b${B}: f32 ${ms32.toFixed(1)} ms, f16 ${ms16.toFixed(1)} ms (×${(ms32 / ms16).toFixed(2)})`);
  x.dispose();
  f32.dispose();
  f16.dispose();
}

// 2. Accuracy against the float64 PyTorch reference.
const ref = 'test/fixtures/yolos-ref';
const io = readSafetensors(new Uint8Array(readFileSync(`${ref}/io.safetensors`)));
const exact = (k: string) => {
  const hi = io.get(k) as SafeTensor,
    lo = io.get(`${k}.lo`) as SafeTensor;
  return Float64Array.from(hi.data as Float32Array, (v, i) => v + (lo.data as Float32Array)[i]!);
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
};
const fixture = {} as Record<'f32' | 'f16', { maxAbsLogit: number; maxAbsBox: number }>;
for (const dtype of ['f32', 'f16'] as const) {
  const model = Yolos.fromSafetensors(
    new Uint8Array(readFileSync(`${ref}/model.safetensors`)),
    parseConfig(readFileSync(`${ref}/config.json`, 'utf8')),
  ).to(dtype);
  let dl = 0,
    db = 0;
  for (const i of [0, 1]) {
    const x = io.get(`input${i}`)!;
    const out = scope(() => model.predict(tensor(x.data as Float32Array, x.shape)));
    const read = async (t: Tensor) => {
      const d = await t.data();
      t.dispose();
      return d;
    };
    dl = Math.max(dl, maxDiff(await read(out.logits), exact(`logits${i}`)));
    db = Math.max(db, maxDiff(await read(out.boxes), exact(`boxes${i}`)));
  }
  fixture[dtype] = { maxAbsLogit: dl, maxAbsBox: db };
  console.log(`PyTorch fixture (f64 reference), ${dtype}: max |Δlogit| ${dl.toExponential(2)}, max |Δbox| ${db.toExponential(2)}`);
  model.dispose();
}

// 3. AP of the committed model.
const ap = {} as Record<'f32' | 'f16', { AP: number; AP50: number; AP75: number }>;
for (const dtype of ['f32', 'f16'] as const) {
  const model = Yolos.fromSafetensors(
    new Uint8Array(readFileSync('models/shapes-nano16.safetensors')),
    parseConfig(readFileSync('models/config.json', 'utf8')),
  );
  model.eval().to(dtype);
  const { train, val } = await makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false });
  const { result } = await evaluate(model, val, labelMap(train.categories, model.config.num_labels));
  ap[dtype] = { AP: result.AP, AP50: result.AP50, AP75: result.AP75 };
  console.log(
    `shapes-nano16 on the validation stream (${val.length} images), ${dtype}: AP ${result.AP.toFixed(3)}, AP50 ${result.AP50.toFixed(3)}, AP75 ${result.AP75.toFixed(3)}`,
  );
  model.dispose();
}

const loadAfter = loadavg();
console.log(
  `load average (1/5/15 min) before ${loadBefore.map((l) => l.toFixed(2)).join('/')}, after ${loadAfter.map((l) => l.toFixed(2)).join('/')} on ${cpus().length} CPUs`,
);
await mkdir(resultsDir(), { recursive: true });
const slug = `${engine.adapter.source}`.toLowerCase().replace(/[^a-z0-9]+/g, '-');
const file = join(resultsDir(), `f16-${slug}.json`);
const result = {
  adapter: describeAdapterOf(engine),
  date: new Date().toISOString(),
  cpus: cpus().length,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadAfter,
  repeats,
  speed,
  fixture,
  ap,
};
await writeFile(`${file}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
await rename(`${file}.tmp`, file);
engine.dispose();
