/**
 * Peak memory of one YOLOS inference: `engine.memory().peakBytes` (exact: GPU bytes of live tensors,
 * size classes included, weights excluded) and the process's resident set (approximate on a shared
 * machine; on lavapipe GPU buffers are host memory, so RSS holds weights, activations, the idle pool
 * and the driver). Random weights (`Yolos.create`), one forward after a warm-up forward, in a scope.
 *   npx tsx bench/memory.ts [--model tiny] [--size 512x672] [--batch 1] [--label current]
 * Merges a row (by label) into bench/results/memory-<adapter source>.json, written atomically.
 */
import { parseArgs } from 'node:util';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { init, randn, scope, describeAdapterOf } from '../engine/node.ts';
import { Yolos, presets, type PresetName } from '../yolos/index.ts';
import { resultsDir } from './harness.ts';

const { values } = parseArgs({
  options: { model: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, label: { type: 'string' } },
});
const name = (values.model ?? 'tiny') as PresetName;
if (!(name in presets)) throw new Error(`bench/memory: unknown model '${name}' (expected ${Object.keys(presets).join(', ')})`);
const size = /^(\d+)x(\d+)$/.exec(values.size ?? '512x672');
if (!size) throw new Error(`bench/memory: --size must be HxW, e.g. 512x672, got '${values.size}'`);
const [H, W] = [Number(size[1]), Number(size[2])];
const B = Number(values.batch ?? 1);
const MiB = 2 ** 20;
const rssMiB = () => process.memoryUsage().rss / MiB;
const maxRssMiB = () => process.resourceUsage().maxRSS / 1024; // KiB → MiB, since the process started

const engine = await init();
const rssAtInit = rssMiB();
const model = Yolos.create(presets[name], { seed: 0 });
const x = randn([B, 3, H, W], { seed: 1 });
const forward = async () => {
  const out = scope(() => model.predict(x));
  await out.boxes.data();
  out.logits.dispose();
  out.boxes.dispose();
};
await forward(); // warm-up: pipelines compiled, pool filled
const weightsBytes = engine.memory().liveBytes;
engine.trimPool();
await engine.flush();
const rssBefore = rssMiB();
engine.pool.resetPeak();
const t = performance.now();
await forward();
const ms = performance.now() - t;
const peakBytes = engine.memory().peakBytes - weightsBytes;
const idleAfter = engine.memory().pooledBytes;
const trimmed = engine.trimPool();
await engine.flush();
const row = {
  label: values.label ?? 'current',
  model: name,
  size: `${H}×${W}`,
  batch: B,
  peakActivationMiB: peakBytes / MiB,
  weightsAndInputMiB: weightsBytes / MiB,
  idlePoolAfterMiB: idleAfter / MiB,
  trimPoolFreedMiB: trimmed / MiB,
  rssAtInitMiB: rssAtInit,
  rssBeforeForwardMiB: rssBefore,
  maxRssMiB: maxRssMiB(),
  rssAfterTrimMiB: rssMiB(),
  msForward: ms,
};
console.log(`${describeAdapterOf(engine)}\n${JSON.stringify(row, null, 2)}`);

await mkdir(resultsDir(), { recursive: true });
const file = join(resultsDir(), `memory-${engine.adapter.source}.json`);
let rows: (typeof row)[] = [];
try {
  rows = (JSON.parse(await readFile(file, 'utf8')) as { rows: (typeof row)[] }).rows;
} catch {
  /* first run */
}
rows = [...rows.filter((r) => r.label !== row.label || r.model !== row.model || r.size !== row.size || r.batch !== row.batch), row];
const tmp = `${file}.${process.pid}.tmp`;
await writeFile(
  tmp,
  `${JSON.stringify({ adapter: describeAdapterOf(engine), date: new Date().toISOString(), note: 'peakActivationMiB is engine.memory().peakBytes minus the weights (exact); RSS figures are approximate (shared machine)', rows }, null, 2)}\n`,
);
await rename(tmp, file);
x.dispose();
model.dispose();
engine.dispose();
