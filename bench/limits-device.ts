/**
 * The default-limits checks of test/gpu/limits.test.ts as one script, for a machine with a hardware
 * GPU but no test runner: every matmul and attention variant forced, reductions through subgroups,
 * a YOLOS-Ti forward at 512×672 with 'auto' (the GPU variants) against the register/blocked ones.
 *   YOLOS_ADAPTER=hardware npx tsx bench/limits-device.ts      (prints PASS/FAIL lines; exit 1 on a failure)
 */
import { init, matmul, attention, softmax, layerNorm, tensor, scope, describeAdapterOf } from '../engine/node.ts';
import { MATMUL_VARIANTS } from '../engine/ops/matmul.ts';
import { ATTENTION_VARIANTS } from '../engine/kernels/wgsl/attention.wgsl.ts';
import { Params } from '../engine/params.ts';
import { mulberry32 } from '../engine/prng.ts';
import * as R from '../engine/reference/index.ts';
import { Yolos, presets } from '../yolos/index.ts';

const e = await init({ limits: 'default' });
console.log(
  `adapter: ${describeAdapterOf(e)}; limits ${e.limitsChoice}: workgroup storage ${e.limits.maxComputeWorkgroupStorageSize}, invocations ${e.limits.maxComputeInvocationsPerWorkgroup}, storage buffers ${e.limits.maxStorageBuffersPerShaderStage}`,
);
let failed = 0;
const check = (name: string, err: number, tol: number) => {
  const ok = err <= tol;
  if (!ok) failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: max error ${err.toExponential(2)} (tolerance ${tol.toExponential(1)})`);
};
const rand = (shape: number[], seed: number) => {
  const next = mulberry32(seed);
  const f = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * next() - 1);
  return { t: tensor(f, shape), r: { shape, data: Float64Array.from(f) } };
};
const maxErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) || (Number.isNaN(got[i]) ? Infinity : 0));
  return m;
};

if (e.hasFeature('subgroups')) {
  const out = scope(() => {
    return tensor(new Uint32Array(512), [512]);
  });
  e.dispatch(
    {
      key: 'probe/subgroup-size',
      inputs: 0,
      outputs: 1,
      code: () => `enable subgroups;
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) sgs: u32, @builtin(num_subgroups) nsg: u32) { out[lid] = sgs; out[256u + lid] = nsg; }`,
    },
    new Params().u32(0).bytes(),
    [out.storageFor('probe').pb],
    [1],
  );
  const got = await out.data();
  const info = (e.device as unknown as { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
  console.log(`subgroup size ${got[0]} (adapter ${info?.subgroupMinSize}..${info?.subgroupMaxSize}), ${got[256]} subgroups per 256`);
  check('full subgroups (size × count − 256)', Math.abs(got[0] * got[256] - 256), 0);
}
for (const variant of MATMUL_VARIANTS) {
  for (const [sa, sb] of [
    [
      [33, 65],
      [65, 31],
    ],
    [
      [1030, 300],
      [300, 517],
    ],
  ]) {
    const A = rand(sa, 1),
      B = rand(sb, 2);
    const want = R.matmul(A.r, B.r);
    const K = sa[1];
    const y = await matmul(A.t, B.t, { variant }).data();
    let m = 0;
    for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - want.data[i]) / (want.absProd[i] + 1e-30));
    check(`matmul ${variant} ${sa}×${sb} (error / Σ|a·b|)`, m, 2 * K * 2 ** -24);
  }
}
for (const variant of ATTENTION_VARIANTS) {
  const q = rand([2, 3, 300, 64], 3),
    k = rand([2, 3, 290, 64], 4),
    v = rand([2, 3, 290, 64], 5),
    dO = rand([2, 3, 300, 64], 6);
  for (const x of [q, k, v]) x.t.requiresGrad = true;
  const o = attention(q.t, k.t, v.t, { variant });
  check(`attention ${variant} forward`, maxErr(await o.data(), R.attention(q.r, k.r, v.r).data), 2e-5);
  o.mul(dO.t).sum().backward();
  const g = R.attentionBackward(q.r, k.r, v.r, dO.r);
  check(
    `attention ${variant} dq/dk/dv`,
    Math.max(
      maxErr(await q.t.grad!.data(), g.dq.data),
      maxErr(await k.t.grad!.data(), g.dk.data),
      maxErr(await v.t.grad!.data(), g.dv.data),
    ),
    1e-4,
  );
}
for (const shape of [
  [5, 70_001],
  [64, 1000],
  [300, 192],
]) {
  const X = rand(shape, 7),
    W = rand([shape[1]], 8),
    B = rand([shape[1]], 9);
  check(`sum ${shape}`, maxErr(await X.t.sum(1).data(), R.reduce('sum', X.r, 1).data), 1e-3);
  check(`max ${shape}`, maxErr(await X.t.max(1).data(), R.reduce('max', X.r, 1).data), 0);
  check(`argmax ${shape}`, maxErr(await X.t.argmax(1).data(), R.reduce('argmax', X.r, 1).data), 0);
  check(`variance ${shape}`, maxErr(await X.t.variance(1).data(), R.reduce('variance', X.r, 1).data), 1e-5);
  check(`softmax ${shape}`, maxErr(await softmax(X.t, -1).data(), R.softmax(X.r, -1).data), 1e-6);
  check(`layerNorm ${shape}`, maxErr(await layerNorm(X.t, W.t, B.t, 1e-5).data(), R.layerNorm(X.r, W.r, B.r, 1e-5).data), 1e-4);
}
const model = Yolos.create(presets.tiny, { seed: 0 });
const x = rand([1, 3, 512, 672], 10).t;
const keys = new Set<string>();
const forward = async () => {
  const o = scope(() => model.predict(x));
  const r = [await o.logits.data(), await o.boxes.data()];
  o.logits.dispose();
  o.boxes.dispose();
  return r;
};
e.kernelOverride = (spec) => {
  keys.add(spec.key.split('/').slice(0, 2).join('/'));
  return undefined;
};
const [la, ba] = await forward();
console.log(`YOLOS-Ti auto kernels: ${[...keys].filter((k) => /^(matmul|attention)/.test(k)).join(', ')}`);
e.kernelOverride = null;
process.env.YOLOS_MATMUL = 'register8x4';
process.env.YOLOS_ATTENTION = 'blocked';
const [lb, bb] = await forward();
check('YOLOS-Ti 512×672 logits, auto vs register8x4/blocked', maxErr(la, lb), 1e-3);
check('YOLOS-Ti 512×672 boxes, auto vs register8x4/blocked', maxErr(ba, bb), 1e-4);
console.log(failed ? `${failed} FAILED` : 'ALL PASS');
e.dispose();
process.exit(failed ? 1 : 0);
