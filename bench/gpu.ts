/**
 * The kernel benchmarks on a real GPU machine (see ../shared/GPU.md): GPU-sized shapes (matmul up to
 * 4096³, attention and a ViT block at YOLOS-Ti's 1445 tokens), ours vs TensorFlow.js's WebGPU backend
 * on the same adapter. Prints the table and writes `kernels-<adapter-slug>.json` into $OUT (the
 * folder the device run brings back), or into bench/results/ when OUT is not set.
 *
 *   here (lavapipe, small shapes, end to end):  npx tsx bench/gpu.ts --small
 *   packed:  ../shared/device/pack.sh bench/gpu.ts;  on the GPU machine:  bash .gpu/run.sh gpu.mjs
 *
 * Flags: --small (shapes a software adapter runs in a minute or two), --no-tfjs, --only=TEXT.
 * A case that fails is recorded in the JSON's `errors` and the run goes on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { init, describeAdapterOf } from '../engine/node.ts';
import { adapterSlug, resultsDir, tfjs } from './harness.ts';
import { gpuCases, runKernelBench, markdownTable, variantNotes, oursAttention, type CaseSpec } from './kernels.ts';

const argv = process.argv.slice(2);
const small = argv.includes('--small');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const unknown = argv.filter((a) => !['--small', '--no-tfjs'].includes(a) && !a.startsWith('--only='));
if (unknown.length) {
  console.error(`gpu: unknown argument ${unknown.join(' ')} (expected --small, --no-tfjs, --only=TEXT)`);
  process.exit(2);
}

/** Small stand-ins of gpuCases() for a software adapter (the same kinds, so every path runs). */
const SMALL: CaseSpec[] = [
  { kind: 'matmul', shape: [256] },
  { kind: 'matmul', shape: [512] },
  { kind: 'matmul', shape: [512], matmulVariant: 'shared128' },
  { kind: 'attention', shape: [1, 3, 164, 64] },
  { kind: 'attention', shape: [1, 3, 164, 64], attentionVariant: 'row' },
  { kind: 'attention', shape: [1, 3, 164, 64], attentionVariant: 'tiled' },
  { kind: 'attention', shape: [1, 3, 164, 64], attentionVariant: 'composed' },
  { kind: 'attention-fwd-bwd', shape: [1, 3, 164, 64] },
  { kind: 'layernorm', shape: [328, 192] },
  { kind: 'gelu', shape: [328, 768] },
  { kind: 'softmax', shape: [3, 164, 164] },
  { kind: 'vit-block', shape: [1, 164, 192, 3] },
  { kind: 'matmul', shape: [512], dtype: 'f16' },
  { kind: 'attention-fwd-bwd', shape: [1, 3, 164, 64], dtype: 'f16' },
];

const started = performance.now();
const e = await init();
console.log(`adapter: ${describeAdapterOf(e)}`);
const l = e.limits;
console.log(
  `limits: maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`,
);
const peer = argv.includes('--no-tfjs') ? null : await tfjs();
if (peer) console.log(`peer: TensorFlow.js ${peer.version} WebGPU backend on ${peer.adapter || '?'}`);
const attention = oursAttention().variant;
console.log(`attention (ours): ${attention}`);

const f16 = e.hasFeature('shader-f16');
let cases = small ? SMALL.filter((c) => f16 || !c.dtype) : gpuCases({ f16 });
if (only) cases = cases.filter((c) => c.kind.includes(only));
// Fast kernels need many launches per sample for the 65.536 µs timestamp quantum to vanish.
const timing = small ? { warmup: 1, repeats: 5, targetMs: 30, maxInner: 16 } : { warmup: 3, repeats: 7, targetMs: 50, maxInner: 512 };
const errors: { case: CaseSpec; error: string }[] = [];
const rows = await runKernelBench({
  cases,
  noTfjs: !peer,
  ...timing,
  log: (line) => console.log(`  ${line}`),
  onError: (c, err) => {
    errors.push({ case: c, error: err.message });
    console.log(`  ${c.kind} [${c.shape.join(',')}]: FAILED: ${err.message.split('\n')[0]}`);
  },
});

console.log(`\n${markdownTable(rows)}\n\n${variantNotes(rows)}`);
const out = resultsDir();
mkdirSync(out, { recursive: true });
const file = join(out, `kernels-${adapterSlug(e)}${small ? '-small' : ''}${only ? `-only-${only}` : ''}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      bench: 'kernels-gpu',
      date: new Date().toISOString(),
      host: hostname(),
      node: process.version,
      argv,
      load: { cpus: cpus().length, after: loadavg()[0] },
      adapter: e.adapter,
      limits: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize },
      peer: peer ? { name: 'TensorFlow.js WebGPU backend', version: peer.version, adapter: peer.adapter } : null,
      attention,
      timing,
      rows,
      errors,
      seconds: (performance.now() - started) / 1e3,
    },
    null,
    2,
  )}\n`,
);
console.log(
  `\nwrote ${file} (${((performance.now() - started) / 1e3).toFixed(0)} s${errors.length ? `, ${errors.length} case(s) failed` : ''})`,
);
e.dispose();
