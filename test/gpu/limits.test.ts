/**
 * The kernels at WebGPU's default limits — what a browser page that requests nothing gets (16 KiB
 * of workgroup storage, 256 invocations per workgroup, 8 storage buffers per stage, 128 MiB per
 * binding): `init({ limits: 'default' })`. Every matmul variant and attention layout forced
 * (including the GPU ones, shared/shared128 and tiled), layer norm, softmax, reductions and a small
 * YOLOS forward, against the reference; forced variants that cannot fit a device throw a
 * LimitError naming the limit, and 'auto' falls back. Runs on lavapipe (node project) and
 * SwiftShader (browser project). The full kernel suites also run under `YOLOS_LIMITS=default`.
 *
 * Tolerances: matmul γ_K·Σ|a·b| as in matmul.test.ts; the rest are loose (errors here are ~1e-7;
 * a kernel that breaks under the limits is off by O(1)): the exact bounds live in each op's suite.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  init,
  matmul,
  attention,
  layerNorm,
  softmax,
  logSoftmax,
  scope,
  Tensor,
  LimitError,
  EngineError,
  type Engine,
} from '../../engine/index.ts';
import { MATMUL_VARIANTS, chooseVariant } from '../../engine/ops/matmul.ts';
import { chooseAttentionVariant } from '../../engine/ops/attention.ts';
import { ATTENTION_VARIANTS } from '../../engine/kernels/wgsl/attention.wgsl.ts';
import type { DeviceLimits } from '../../engine/limits.ts';
import { Params } from '../../engine/params.ts';
import { Yolos, presets, type YolosConfig } from '../../yolos/index.ts';
import * as R from '../../engine/reference/index.ts';
import { randomPair, expectClose, EPS } from './util.ts';

/** WebGPU's default limits (the spec's table) that the kernels depend on. */
const DEFAULTS = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 134217728,
};

let e: Engine;
beforeAll(async () => {
  const fromEnv = typeof process !== 'undefined' && process.env?.YOLOS_LIMITS;
  if (!fromEnv)
    await expect(init({ limits: 'bogus' as 'default' })).rejects.toThrow(/unknown limits 'bogus' \(expected adapter or default/);
  e = await init({ limits: 'default' });
});
afterAll(() => e?.dispose());

const gamma = (k: number) => (k * EPS) / (1 - k * EPS);

describe('at WebGPU default limits', () => {
  it('the device has the default limits', () => {
    expect(e.limitsChoice).toBe('default');
    for (const [k, v] of Object.entries(DEFAULTS)) expect(e.limits[k as keyof GPUSupportedLimits], k).toBe(v);
  });

  it.each(MATMUL_VARIANTS)('matmul %s, forced, with a fused epilogue and its backward', async (variant) => {
    for (const [sa, sb, tA, tB] of [
      [[33, 65], [65, 31], false, false],
      [[2, 12, 36], [2, 44, 12], true, true],
      [[130, 300], [300, 67], false, false],
    ] as const) {
      const A = randomPair([...sa], 1),
        B = randomPair([...sb], 2);
      const want = R.matmul(A.r, B.r, tA, tB);
      const K = tA ? sa[sa.length - 2] : sa[sa.length - 1];
      const y = matmul(A.t, B.t, { transposeA: tA, transposeB: tB, variant });
      expectClose(await y.data(), want, { bound: want.absProd.map((s) => gamma(K) * s + 1e-30) }, `matmul ${variant} ${sa}×${sb}`);
    }
    // act(a·b + bias) + residual with gradients: the kernel then also writes the pre-activation
    const A = randomPair([70, 20], 3),
      W = randomPair([24, 20], 4),
      b = randomPair([24], 5),
      r = randomPair([70, 24], 6);
    A.t.requiresGrad = true;
    const y = matmul(A.t, W.t, { transposeB: true, bias: b.t, activation: 'relu', residual: r.t, variant });
    const z = R.binary('add', R.matmul(A.r, W.r, false, true), R.broadcastTo(b.r, [70, 24]));
    const want = R.binary('add', R.unary('relu', z), r.r);
    expectClose(await y.data(), want, { atol: 1e-5, rtol: 1e-5 }, `matmul ${variant} epilogue`);
    y.sum().backward();
    // d/dA Σ relu(A·Wᵀ + b) = 1[z > 0]·W
    const mask = R.binary('gt', z, { shape: [], data: Float64Array.of(0) });
    expectClose(await A.t.grad!.data(), R.matmul(mask, W.r), { atol: 1e-5, rtol: 1e-5 }, `matmul ${variant} dA`);
  });

  it.each(ATTENTION_VARIANTS)('attention %s, forced, forward and backward (tiles across several workgroup tiles)', async (variant) => {
    for (const [shape, tk] of [[[1, 2, 70, 20], 75]] as const) {
      // tiles of 64 rows at D = 20: two of them
      const q = randomPair([...shape], 7),
        k = randomPair([...shape.slice(0, -2), tk, shape[3]], 8),
        v = randomPair([...shape.slice(0, -2), tk, shape[3]], 9);
      const dO = randomPair([...shape], 10);
      for (const t of [q, k, v]) t.t.requiresGrad = true;
      const o = attention(q.t, k.t, v.t, { variant });
      expectClose(await o.data(), R.attention(q.r, k.r, v.r), { atol: 2e-6, rtol: 1e-5 }, `attention ${variant} ${shape}`);
      o.mul(dO.t).sum().backward();
      const g = R.attentionBackward(q.r, k.r, v.r, dO.r);
      expectClose(await q.t.grad!.data(), g.dq, { atol: 1e-5, rtol: 1e-4 }, `attention ${variant} dq`);
      expectClose(await k.t.grad!.data(), g.dk, { atol: 1e-5, rtol: 1e-4 }, `attention ${variant} dk`);
      expectClose(await v.t.grad!.data(), g.dv, { atol: 1e-5, rtol: 1e-4 }, `attention ${variant} dv`);
    }
  });

  it('layer norm, softmax and reductions (workgroup and subgroup kernels)', async () => {
    for (const shape of [
      [3, 1000],
      [70, 20],
    ]) {
      const d = shape[1];
      const X = randomPair(shape, 11, -3, 5),
        W = randomPair([d], 12, 0.5, 1.5),
        B = randomPair([d], 13);
      expectClose(
        await layerNorm(X.t, W.t, B.t, 1e-5).data(),
        R.layerNorm(X.r, W.r, B.r, 1e-5),
        { atol: 1e-5, rtol: 1e-5 },
        `layerNorm ${shape}`,
      );
      expectClose(await softmax(X.t, -1).data(), R.softmax(X.r, -1), { atol: 1e-9, rtol: 2e-6 }, `softmax ${shape}`);
      expectClose(await logSoftmax(X.t, -1).data(), R.softmax(X.r, -1, true), { atol: 2e-6, rtol: 2e-6 }, `logSoftmax ${shape}`);
      for (const kind of ['sum', 'mean', 'variance', 'max', 'argmax', 'argmin'] as const) {
        expectClose(await X.t[kind](1).data(), R.reduce(kind, X.r, 1), { atol: 1e-4, rtol: 1e-5 }, `${kind} ${shape}`);
      }
    }
    const big = randomPair([70_001], 14);
    expectClose(await big.t.sum().data(), R.reduce('sum', big.r), { atol: 1e-2 }, 'sum of 70 001');
  });

  it('a YOLOS forward: the same detections with the GPU variants forced as with auto', async () => {
    const config: YolosConfig = {
      ...presets.nano16,
      hidden_size: 32,
      num_hidden_layers: 2,
      intermediate_size: 64,
      num_detection_tokens: 5,
      image_size: [64, 48],
    };
    const model = Yolos.create(config, { seed: 3 });
    const x = randomPair([1, 3, 64, 48], 15).t;
    const run = async () => {
      const { logits, boxes } = scope(() => model.predict(x));
      const out = [await logits.data(), await boxes.data()];
      logits.dispose();
      boxes.dispose();
      return out;
    };
    const [logits, boxes] = await run();
    for (const v of [...logits, ...boxes]) expect(Number.isFinite(v)).toBe(true);
    const env = typeof process !== 'undefined' ? process.env : undefined;
    if (!env) return; // browser: no environment to force the variants model.forward uses
    for (const [mm, at] of [['shared', 'tiled']]) {
      env.YOLOS_MATMUL = mm;
      env.YOLOS_ATTENTION = at;
      try {
        const [l2, b2] = await run();
        expectClose(l2, logits, { atol: 1e-5, rtol: 1e-4 }, `YOLOS logits (${mm}, ${at})`);
        expectClose(b2, boxes, { atol: 1e-5, rtol: 1e-4 }, `YOLOS boxes (${mm}, ${at})`);
      } finally {
        delete env.YOLOS_MATMUL;
        delete env.YOLOS_ATTENTION;
      }
    }
    model.dispose();
  });

  it('a kernel binding more storage buffers than the device allows throws a LimitError naming the limit', () => {
    const spec = { key: 'nine-bindings', code: () => '', inputs: 8, outputs: 1 };
    expect(() => e.pipeline(spec)).toThrow(LimitError);
    expect(() => e.pipeline(spec)).toThrow(
      /kernel 'nine-bindings' binds 9 storage buffers, more than the device's maxStorageBuffersPerShaderStage of 8/,
    );
  });

  it('subgroups: every invocation of a 256-wide workgroup is in a full subgroup of a power-of-two size', async () => {
    if (!e.hasFeature('subgroups')) return;
    const info = (e.device as GPUDevice & { adapterInfo?: { subgroupMinSize?: number; subgroupMaxSize?: number } }).adapterInfo;
    const out = Tensor.empty([512], 'u32', 'subgroup-probe');
    e.dispatch(
      {
        key: 'test/subgroup-probe',
        inputs: 0,
        outputs: 1,
        code: () => /* wgsl */ `enable subgroups;
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) sgs: u32, @builtin(num_subgroups) nsg: u32) {
  out[lid] = sgs; out[256u + lid] = nsg;
}`,
      },
      new Params().u32(0).bytes(),
      [out.storageFor('probe').pb],
      [1],
    );
    const got = Array.from(await out.data());
    out.dispose();
    const size = got[0],
      count = got[256];
    console.log(
      `[limits.test] ${e.adapter.source}: subgroup size ${size} (adapter reports ${info?.subgroupMinSize}..${info?.subgroupMaxSize}), ${count} subgroups per 256`,
    );
    expect(got.slice(0, 256).every((s) => s === size)).toBe(true);
    expect(size & (size - 1)).toBe(0);
    expect(size * count).toBe(256);
    if (info?.subgroupMinSize) {
      expect(size).toBeGreaterThanOrEqual(info.subgroupMinSize);
      expect(size).toBeLessThanOrEqual(info.subgroupMaxSize!);
    }
  });
});

/** A device below WebGPU's defaults (none exists in tests): what each choice does with it. */
const tiny = (over: Partial<DeviceLimits>, isSoftware = false) => ({ adapter: { isSoftware }, limits: { ...DEFAULTS, ...over } });

describe('variant choice reads the device limits', () => {
  it('matmul: a forced variant that does not fit throws a LimitError; auto takes the next smaller', () => {
    const small = tiny({ maxComputeWorkgroupStorageSize: 4096 });
    expect(() => chooseVariant(512, 512, 'shared128', 1, small)).toThrow(LimitError);
    expect(() => chooseVariant(512, 512, 'shared', 1, small)).toThrow(
      /matmul: variant 'shared' needs 8192 bytes of workgroup storage, more than the device's maxComputeWorkgroupStorageSize of 4096/,
    );
    expect(chooseVariant(2048, 2048, 'auto', 1, tiny({}))).toBe('shared128');
    expect(chooseVariant(2048, 2048, 'auto', 1, small)).toBe('register8x4');
    expect(() => chooseVariant(64, 64, 'register8x4', 1, tiny({ maxComputeInvocationsPerWorkgroup: 64 }))).toThrow(
      /needs 128 invocations per workgroup, more than the device's maxComputeInvocationsPerWorkgroup of 64/,
    );
    expect(chooseVariant(64, 64, 'auto', 1, tiny({ maxComputeInvocationsPerWorkgroup: 64 }, true))).toBe('register4x4');
    expect(() => chooseVariant(64, 64, 'shared', 1, tiny({ maxComputeWorkgroupSizeY: 8 }))).toThrow(/maxComputeWorkgroupSizeY of 8/);
  });

  it('attention: a forced tiled layout that does not fit throws a LimitError; auto takes row', () => {
    const small = tiny({ maxComputeWorkgroupStorageSize: 4096 });
    expect(chooseAttentionVariant('auto', 64, tiny({}))).toBe('tiled');
    expect(chooseAttentionVariant('auto', 64, small)).toBe('tiled'); // tiles shrink to fit: 4096 B hold 8 rows at D = 64
    expect(() => chooseAttentionVariant('tiled', 256, small)).toThrow(LimitError);
    expect(() => chooseAttentionVariant('tiled', 256, small)).toThrow(
      /attention \(fwd, D = 256\): variant 'tiled' needs 8192 bytes of workgroup storage, more than the device's maxComputeWorkgroupStorageSize of 4096/,
    );
    expect(chooseAttentionVariant('auto', 256, small)).toBe('row');
    expect(chooseAttentionVariant('auto', 256, tiny({}, true))).toBe('blocked');
    expect(() => chooseAttentionVariant('nope' as 'row', 64, small)).toThrow(EngineError);
  });
});

describe('subgroup sums at every WebGPU subgroup size (a model of wg_sum in reduce.wgsl.ts)', () => {
  // Each value carries the depth of the addition tree behind it; adding a zero is exact (no level).
  type V = { v: number; depth: number; zero: boolean };
  const add = (a: V, b: V): V => (a.zero ? b : b.zero ? a : { v: a.v + b.v, depth: Math.max(a.depth, b.depth) + 1, zero: false });
  const ZERO: V = { v: 0, depth: 0, zero: true };
  /** The butterfly t += shuffleXor(t, m) over one subgroup's lanes. */
  const butterfly = (lanes: V[]) => {
    let t = lanes.slice();
    for (let m = 1; m < t.length; m <<= 1) t = t.map((x, l) => add(x, t[l ^ m]));
    return t;
  };
  it.each([4, 8, 16, 32, 64, 128])('size %i: exact sum, 8 levels deep like the 256-way tree, the same in every lane', (sgs) => {
    const values = Array.from({ length: 256 }, (_, i): V => ({ v: i + 1, depth: 0, zero: false }));
    const nsg = 256 / sgs;
    const partials = Array.from({ length: nsg }, (_, s) => butterfly(values.slice(s * sgs, (s + 1) * sgs))[0]);
    const perLane = Array.from({ length: sgs }, (_, lane) => {
      const q: V[] = new Array(16).fill(ZERO);
      let i = 0;
      for (let j = lane; j < nsg; j += sgs) {
        q[i & 15] = add(q[i & 15], partials[j]);
        i++;
      }
      for (let w = 1; w < 16; w <<= 1) for (let k = 0; k < 16; k += 2 * w) q[k] = add(q[k], q[k + w]);
      return q[0];
    });
    const result = butterfly(perLane);
    for (const r of result) {
      expect(r.v).toBe((256 * 257) / 2);
      expect(r.depth).toBe(8);
    }
  });
});
