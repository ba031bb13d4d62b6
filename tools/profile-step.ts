/**
 * GPU time per kernel of one nano-16 training step (forward, set loss, backward, clip, AdamW), from
 * timestamp queries around each dispatch (each in its own compute pass while profiling). Needs an
 * adapter with timestamp-query (lavapipe, SwiftShader, GPUs).   [TOP=25] npx tsx tools/profile-step.ts [batch]
 * (TOP: how many kernels to list, slowest first)
 */
import { init, tensor, scope } from '../engine/node.ts';
import { AdamW, gradNorm } from '../engine/optim/index.ts';
import { Yolos, presets } from '../yolos/index.ts';
import { SetCriterion } from '../yolos/criterion.ts';
import { labelMap } from '../yolos/train/data.ts';
import { passDurations } from './pass-timestamps.ts';
import { makeSources } from '../yolos/train/data-node.ts';

const e = await init({ maxDispatchesPerSubmit: 2048 });
if (!e.hasFeature('timestamp-query')) throw new Error('profile-step: the adapter has no timestamp-query');
const B = Number(process.argv[2] ?? 16);
const { train: src } = await makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false });
const labels = labelMap(src.categories, 3);
const model = Yolos.create(presets.nano16, { init: 'fanin' });
const opt = new AdamW(model.parameters(), { lr: 1e-4 });
const crit = new SetCriterion({ numClasses: 3 });

const N = 2048;
const querySet = e.device.createQuerySet({ type: 'timestamp', count: 2 * N });
const resolve = e.device.createBuffer({ size: 16 * N, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
const keys: string[] = [];
const step = async (profile: boolean) => {
  if (profile) {
    keys.length = 0;
    e.passPerDispatch = true;
    e.passTimestamps = () => ({ querySet, beginningOfPassWriteIndex: 2 * keys.length, endOfPassWriteIndex: 2 * keys.length + 1 });
    e.onDispatchRecorded = (k) => keys.push(k);
  }
  const batch = await src.batch(0, B);
  const targets = batch.targets.map((t) => ({ labels: Int32Array.from(t.labels, labels.toIndex), boxes: t.boxes }));
  const x = tensor(batch.pixels, batch.shape);
  const out = scope(() => model.forward(x));
  const l = await crit.forward(out, targets);
  l.loss.backward();
  const n = gradNorm(model.parameters());
  opt.step({ clip: { norm: n, maxNorm: 0.1 } });
  opt.zeroGrad();
  await e.flush();
  for (const z of [x, out.logits, out.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou, n]) z.dispose();
  e.passPerDispatch = false;
  e.passTimestamps = null;
  e.onDispatchRecorded = null;
};
await step(false);
await step(false);
// The forward before the criterion's readback is one submit and the rest another: resolve both halves.
const all: { key: string; ns: number }[] = [];
{
  await step(true);
  const count = keys.length;
  const durations = await passDurations(e.device, querySet, resolve, count);
  for (let i = 0; i < count; i++) all.push({ key: keys[i], ns: durations[i] });
}
const byKey = new Map<string, { n: number; ns: number }>();
for (const { key, ns } of all) {
  const v = byKey.get(key) ?? { n: 0, ns: 0 };
  v.n++;
  v.ns += ns;
  byKey.set(key, v);
}
const total = all.reduce((a, b) => a + b.ns, 0);
console.log(`batch ${B}: ${all.length} dispatches, ${(total / 1e6).toFixed(1)} ms of GPU time`);
for (const [k, v] of [...byKey].sort((a, b) => b[1].ns - a[1].ns).slice(0, Number(process.env.TOP ?? 25))) {
  console.log(
    `${(v.ns / 1e6).toFixed(2).padStart(8)} ms ${((100 * v.ns) / total).toFixed(1).padStart(5)}%  ×${String(v.n).padStart(3)}  ${k}`,
  );
}
e.dispose();
