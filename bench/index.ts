/**
 * `npm run bench`: the kernel benchmarks (ours vs TensorFlow.js's WebGPU backend on the same adapter)
 * and the linear-assignment benchmark; prints markdown tables and writes
 * `bench/results/<adapter-slug>.json` (adapter, date, every figure with the clock it was taken on).
 *
 *   npm run bench [-- --quick] [-- --gpu] [-- --no-tfjs] [-- --no-hungarian] [-- --only=attention]
 *
 *   --quick         fewer and smaller cases, fewer launches per sample (for SwiftShader); the file
 *                   gets a `-quick` suffix
 *   --gpu, --large  adds matmul 4096³ and a 1445-token ViT block (YOLOS-Ti at 512×672)
 *   --only=TEXT     only the kernel cases whose name contains TEXT
 * Force the adapter with YOLOS_ADAPTER=lavapipe|swiftshader|hardware.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, describeAdapterOf } from '../engine/node.ts';
import { adapterSlug, tfjs } from './harness.ts';
import { defaultCases, runKernelBench, markdownTable, variantNotes, oursAttention } from './kernels.ts';
import { runHungarianBench } from './hungarian.ts';

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const known = ['--quick', '--gpu', '--large', '--no-tfjs', '--no-hungarian'];
const unknown = argv.filter((a) => !known.includes(a) && !a.startsWith('--only='));
if (unknown.length) {
  console.error(`bench: unknown argument ${unknown.join(' ')} (expected ${known.join(', ')}, --only=TEXT)`);
  process.exit(2);
}
const quick = flag('--quick');
const large = flag('--gpu') || flag('--large');

const loadBefore = loadavg();
const e = await init();
console.log(`adapter: ${describeAdapterOf(e)}`);
const peer = flag('--no-tfjs') ? null : await tfjs();
if (peer) console.log(`peer: TensorFlow.js ${peer.version}, WebGPU backend on ${peer.adapter || '?'} (the engine's WebGPU instance)`);
const attention = oursAttention().variant;
console.log(`attention (ours): ${attention}\n`);

let cases = defaultCases({ quick, large, f16: e.hasFeature('shader-f16') });
if (only) cases = cases.filter((c) => c.kind.includes(only));
const timing = quick ? { warmup: 1, repeats: 5, targetMs: 0, maxInner: 1 } : { warmup: 2, repeats: 7, targetMs: 60, maxInner: 64 };
const rows = await runKernelBench({ cases, noTfjs: !peer, ...timing, log: (l) => console.log(`  ${l}`) });

console.log(
  `\n## Kernels: ours vs TensorFlow.js (WebGPU backend), ${e.adapter.description || e.adapter.architecture} (${e.adapter.source})\n`,
);
console.log(markdownTable(rows));
console.log(
  `\nms per launch, median of ${timing.repeats} samples after warm-up, ours and TF.js samples interleaved; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs. "TF.js ÷ ours" > 1: ours is faster. ` +
    'gpu-timestamp = Σ compute-pass durations from timestamp queries (ours: per batch of dispatches; TF.js: tf.time kernelMs); ' +
    'wall-clock = host time to record + submit + finish.',
);
console.log(variantNotes(rows));

const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${adapterSlug(e)}${quick ? '-quick' : ''}${only ? `-only-${only}` : ''}.json`);
const payload = {
  bench: 'kernels',
  date: new Date().toISOString(),
  host: hostname(),
  node: process.version,
  argv,
  // the machine is shared: the 1-minute load average before and after, over this many CPUs
  load: { cpus: cpus().length, before: loadBefore[0], after: loadavg()[0] },
  adapter: e.adapter,
  peer: peer ? { name: 'TensorFlow.js WebGPU backend', version: peer.version, adapter: peer.adapter } : null,
  attention,
  timing: {
    ...timing,
    clocks: {
      'gpu-timestamp':
        'Σ (end − start) of timestamp queries around each compute pass: ours via the runtime passTimestamps hook (one pass per batch of dispatches), TF.js via tf.time() kernelMs (one pass per kernel). Dawn quantises timestamps.',
      'wall-clock':
        'performance.now() around recording the launches and waiting for the queue (engine.flush(); TF.js submitQueue + onSubmittedWorkDone)',
    },
    figure: 'ms per launch, median over samples; speedup = TF.js ms / our ms on the same clock',
  },
  rows,
  hungarian: null as unknown,
};
// Written now and again after the (CPU) assignment bench, so the GPU figures survive an interrupted run.
writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
console.log(`\nwrote ${file}`);
e.dispose();

if (!flag('--no-hungarian')) {
  console.log('\n## Linear assignment (CPU)\n');
  payload.hungarian = await runHungarianBench();
  writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  console.log(`\nadded the assignment figures to ${file}`);
}
