/**
 * GPU time per kernel of one YOLOS inference forward (predict, batch 1), from timestamp queries around
 * each dispatch (each in its own compute pass while profiling), grouped by kernel key, slowest first.
 * Needs an adapter with timestamp-query (lavapipe, SwiftShader, GPUs).
 *
 *   [TOP=25] npx tsx tools/profile-forward.ts [HxW ...] [--preset tiny]     (default 256x320 512x672)
 */
import { parseArgs } from 'node:util';
import { init, randn, scope } from '../engine/node.ts';
import { Yolos, presets, type PresetName } from '../yolos/index.ts';
import { passDurations } from './pass-timestamps.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { preset: { type: 'string', default: 'tiny' } } });
const name = values.preset as PresetName;
if (!(name in presets)) throw new Error(`profile-forward: unknown preset '${name}' (expected ${Object.keys(presets).join(', ')})`);
const sizes = (positionals.length ? positionals : ['256x320', '512x672']).map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`profile-forward: size '${s}' must be HxW, e.g. 512x672`);
  return [Number(m[1]), Number(m[2])] as const;
});

const N = 2048; // timestamp pairs (WebGPU allows 4096 queries per set); a forward has fewer dispatches
const e = await init({ maxDispatchesPerSubmit: N });
if (!e.hasFeature('timestamp-query')) throw new Error('profile-forward: the adapter has no timestamp-query');
const model = Yolos.create(presets[name], { seed: 0 });
const querySet = e.device.createQuerySet({ type: 'timestamp', count: 2 * N });
const resolve = e.device.createBuffer({ size: 16 * N, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });

for (const [H, W] of sizes) {
  const P = presets[name].patch_size;
  const x = randn([1, 3, H, W], { seed: 1 });
  const forward = async () => {
    const out = scope(() => model.predict(x));
    await out.boxes.data();
    out.logits.dispose();
    out.boxes.dispose();
  };
  await forward();
  await forward(); // pipelines compiled, pool filled
  const keys: string[] = [];
  e.passPerDispatch = true;
  e.passTimestamps = () =>
    keys.length < N ? { querySet, beginningOfPassWriteIndex: 2 * keys.length, endOfPassWriteIndex: 2 * keys.length + 1 } : undefined;
  e.onDispatchRecorded = (k) => keys.push(k);
  const t0 = performance.now();
  await forward();
  const wall = performance.now() - t0;
  e.passPerDispatch = false;
  e.passTimestamps = null;
  e.onDispatchRecorded = null;
  const count = Math.min(keys.length, N);
  const durations = await passDurations(e.device, querySet, resolve, count);
  const byKey = new Map<string, { n: number; ns: number }>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const ns = durations[i]!;
    total += ns;
    const v = byKey.get(keys[i]) ?? { n: 0, ns: 0 };
    v.n++;
    v.ns += ns;
    byKey.set(keys[i], v);
  }
  const L = (H / P) * (W / P) + 1 + presets[name].num_detection_tokens;
  console.log(
    `\n${name} ${H}×${W} (${L} tokens): ${count} dispatches, ${(total / 1e6).toFixed(1)} ms GPU time, ${wall.toFixed(0)} ms wall (one pass per dispatch)`,
  );
  for (const [k, v] of [...byKey].sort((a, b) => b[1].ns - a[1].ns).slice(0, Number(process.env.TOP ?? 25))) {
    console.log(
      `${(v.ns / 1e6).toFixed(2).padStart(9)} ms ${((100 * v.ns) / total).toFixed(1).padStart(5)}%  ×${String(v.n).padStart(3)}  ${k}`,
    );
  }
  x.dispose();
}
model.dispose();
e.dispose();
