/**
 * Kernel benchmarks, ours vs TensorFlow.js's WebGPU backend on the same adapter, same inputs.
 *
 * Run by `npm run bench` (bench/index.ts; `-- --only=attention` for a subset) and bench/gpu.ts.
 *
 * Every case first runs once and is validated against the CPU reference with the op table's
 * tolerance (engine/ops/registry.ts `OPS[op].check`, engine/validate.ts; a bench of a wrong kernel is
 * worthless: a mismatch ends the case), on every `step`-th row where the full reference would cost
 * more than REF_BUDGET multiply-adds; then it compares with TF.js and times both (bench/harness.ts).
 * The fwd+bwd cases (attention gradients, the ViT block) have no reference (engine/reference has
 * no autograd): TF.js is their only oracle. Throughput, per launch:
 *  - matmul M=N=K=n: 2n³ flops.
 *  - attention [B,H,T,D]: forward 4·B·H·T²·D flops (q·kᵀ and p·v, 2·T²·D each per head; the softmax's
 *    O(T²) is not counted); forward + backward 3× that (backward: dV = pᵀ·dO, dP = dO·vᵀ, dQ = dS·k,
 *    dK = dSᵀ·q, four more products of the same size).
 *  - layer norm, GELU, softmax: GB/s of the bytes they must move: read x, write y (4 bytes each; layer
 *    norm also reads its [D] weight and bias) — an effective bandwidth, the same formula for both.
 *  - ViT encoder block [B,T,D], MLP 4D, forward: 2·B·T·D²·(3 + 1 + 8) (q, k, v, output projection
 *    and the two MLP matmuls) + 4·B·T²·D (attention) flops; forward + backward 3× that.
 * The ViT block's linear layers use matmul's fused epilogue (bias, GELU, residual); TF.js composes them.
 * Attention and the ViT block use the engine's fused `attention` when engine/index.ts exports it,
 * else the composition matmul → scale → softmax → matmul (the row's `variant` says which). TF.js has
 * no fused attention, layer norm or GELU: it runs their compositions (tf.moments + arithmetic; the
 * exact erf GELU 0.5·x·(1 + erf(x/√2)); tf.softmax).
 */
import * as E from '../engine/node.ts';
import { tensor, noGrad, gradients, type Tensor, type MatmulOptions } from '../engine/node.ts';
import {
  randomNormal,
  timeOurs,
  oursSampler,
  tfSampler,
  timeInterleaved,
  tfjs,
  commonMethod,
  type Timing,
  type Method,
  type TfPeer,
  type TimeOptions,
  type TF,
} from './harness.ts';
import { chooseVariant, type MatmulVariant } from '../engine/ops/matmul.ts';
import type { AttentionVariant } from '../engine/kernels/wgsl/attention.wgsl.ts';
import { checkOf, toleranceFor, type CheckedOp, type CheckOptions } from '../engine/ops/registry.ts';
import * as R from '../engine/reference/index.ts';
import { roundToF16 } from '../engine/dtype.ts';
import { validate, describeValidation } from '../engine/validate.ts';

type TfTensor = ReturnType<TF['tensor']>;

export type CaseKind = 'matmul' | 'attention' | 'attention-fwd-bwd' | 'layernorm' | 'gelu' | 'softmax' | 'vit-block';

export interface CaseSpec {
  kind: CaseKind;
  /** matmul: [n] (n³); attention: [B, H, T, D]; layernorm/gelu: [rows, D]; softmax: any shape; vit-block: [B, T, D, H]. */
  shape: number[];
  /**
   * matmul and attention: 'f16' stores our operands in f16 (f32 arithmetic; needs 'shader-f16').
   * TF.js's WebGPU backend has no f16, so its side stays f32: the ratio is what f16 storage buys.
   */
  dtype?: 'f16';
  /**
   * attention: force the engine's kernel layout (default: by adapter), or 'composed' (our matmul →
   * scale → softmax → matmul, T² memory), to compare them on one device.
   */
  attentionVariant?: AttentionVariant | 'composed';
  /** matmul: force a kernel (default: by adapter and shape), to compare them on one device. */
  matmulVariant?: MatmulVariant;
}

export interface BenchRow {
  name: string;
  shape: string;
  unit: 'GFLOP/s' | 'GB/s';
  /** Flops or bytes per launch. */
  work: number;
  /** What ran on our side (e.g. 'fused attention kernel' or 'matmul+softmax+matmul'). */
  variant: string;
  tfVariant: string;
  /** The clock the comparison uses and the median ms per launch on it. */
  method: Method;
  oursMs: number;
  tfjsMs: number | null;
  /** Throughput on `method`'s clock. */
  ours: number;
  tfjs: number | null;
  /** TF.js ms / our ms: > 1 means ours is faster. */
  speedup: number | null;
  /** The same ratio on the wall clock. */
  speedupWall: number | null;
  oursTiming: Timing;
  tfjsTiming: Timing | null;
  /** The validation against engine/reference: what and which rows were compared, the worst error. */
  reference: { compared: string; rows: string; n: number; maxAbs: number; worstRatio: number } | null;
  /** max |ours − TF.js| over the compared outputs, and max |TF.js| (the scale). */
  check: { compared: string; maxAbsDiff: number; maxAbs: number; ok: boolean } | null;
}

export interface KernelBenchOptions extends TimeOptions {
  cases: CaseSpec[];
  /** Skip the TF.js side (ours only). */
  noTfjs?: boolean;
  /** Print a line per case as it completes. */
  log?: (line: string) => void;
  /** When given, a case that throws is reported here and skipped instead of ending the run. */
  onError?: (c: CaseSpec, error: Error) => void;
}

/** f16-storage twins of the matmul and attention cases with the default kernels (adapters with 'shader-f16'). */
const withF16 = (cases: CaseSpec[], f16: boolean | undefined): CaseSpec[] =>
  f16
    ? [
        ...cases,
        ...cases
          .filter((c) => (c.kind === 'matmul' || c.kind.startsWith('attention')) && !c.matmulVariant && !c.attentionVariant)
          .map((c) => ({ ...c, dtype: 'f16' as const })),
      ]
    : cases;

/**
 * The cases of `npm run bench` on a software adapter; `large` adds the GPU-sized matmul, `f16` the
 * f16-storage twins of the matmul and attention cases.
 */
export function defaultCases(opts: { quick?: boolean; large?: boolean; f16?: boolean } = {}): CaseSpec[] {
  const cases: CaseSpec[] = [
    { kind: 'matmul', shape: [512] },
    { kind: 'matmul', shape: [1024] },
    { kind: 'attention', shape: [2, 3, 164, 64] },
    { kind: 'attention', shape: [1, 3, 1024, 64] },
    { kind: 'attention-fwd-bwd', shape: [2, 3, 164, 64] },
    { kind: 'attention-fwd-bwd', shape: [1, 3, 1024, 64] },
    { kind: 'layernorm', shape: [328, 192] },
    { kind: 'gelu', shape: [328, 768] },
    { kind: 'softmax', shape: [6, 164, 164] },
    { kind: 'vit-block', shape: [2, opts.large ? 1445 : 164, 192, 3] },
  ];
  if (opts.large) cases.splice(2, 0, { kind: 'matmul', shape: [4096] });
  // --quick (SwiftShader): drop the cases that take minutes there.
  return withF16(
    opts.quick
      ? cases.filter((c) => !(c.shape.includes(1024) && c.kind !== 'matmul') && !(c.kind === 'matmul' && c.shape[0] > 512))
      : cases,
    opts.f16,
  );
}

/** Cases sized for a real GPU (bench/gpu.ts): YOLOS-Ti at 512×672 has 1 + 1344 + 100 = 1445 tokens. */
export function gpuCases(opts: { f16?: boolean } = {}): CaseSpec[] {
  return withF16(
    [
      { kind: 'matmul', shape: [1024] },
      { kind: 'matmul', shape: [2048] },
      { kind: 'matmul', shape: [4096] },
      { kind: 'matmul', shape: [4096], matmulVariant: 'shared' },
      { kind: 'matmul', shape: [1024], matmulVariant: 'shared128' },
      { kind: 'attention', shape: [8, 3, 1445, 64] },
      { kind: 'attention', shape: [8, 3, 1445, 64], attentionVariant: 'row' },
      { kind: 'attention', shape: [8, 3, 1445, 64], attentionVariant: 'blocked' },
      { kind: 'attention', shape: [8, 3, 1445, 64], attentionVariant: 'composed' },
      { kind: 'attention-fwd-bwd', shape: [8, 3, 1445, 64], attentionVariant: 'row' },
      { kind: 'attention-fwd-bwd', shape: [8, 3, 1445, 64], attentionVariant: 'composed' },
      { kind: 'attention', shape: [1, 12, 4096, 64] },
      { kind: 'attention-fwd-bwd', shape: [8, 3, 1445, 64] },
      { kind: 'layernorm', shape: [8 * 1445, 192] },
      { kind: 'gelu', shape: [8 * 1445, 768] },
      { kind: 'softmax', shape: [8 * 3, 1445, 1445] },
      { kind: 'vit-block', shape: [2, 1445, 192, 3] },
      { kind: 'vit-block', shape: [8, 1445, 192, 3] },
    ],
    opts.f16,
  );
}

// ------------------------------------------------------------------ the operations, both sides

type AttentionFn = (q: Tensor, k: Tensor, v: Tensor, opts?: { variant?: AttentionVariant }) => Tensor;

/** The engine's fused attention when engine/index.ts exports it, else null. */
export function fusedAttention(): AttentionFn | null {
  const f = (E as Record<string, unknown>).attention;
  return typeof f === 'function' ? (f as AttentionFn) : null;
}

function composedAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const scale = 1 / Math.sqrt(q.shape[q.rank - 1]);
  return q.matmul(k, { transposeB: true }).mul(scale).softmax(-1).matmul(v); // [B,H,T,T] → [B,H,T,D]
}

export function oursAttention(): { fn: AttentionFn; variant: string } {
  const f = fusedAttention();
  return f ? { fn: f, variant: 'fused attention kernel' } : { fn: composedAttention, variant: 'matmul+scale+softmax+matmul' };
}

function tfAttention(tf: TF, q: TfTensor, k: TfTensor, v: TfTensor): TfTensor {
  const scale = 1 / Math.sqrt(q.shape[q.rank - 1]);
  return tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale)), v);
}

function tfLayerNorm(tf: TF, x: TfTensor, w: TfTensor, b: TfTensor, eps: number): TfTensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
}

function tfGelu(tf: TF, x: TfTensor): TfTensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** ViT encoder block parameters in PyTorch's Linear layout (W [out, in]), as host data. */
interface VitParams {
  [name: string]: { data: Float32Array; shape: number[] };
}

const VIT_PARAM_NAMES = ['ln1w', 'ln1b', 'wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo', 'ln2w', 'ln2b', 'w1', 'b1', 'w2', 'b2'] as const;

function vitParams(d: number, seed: number): VitParams {
  const p: VitParams = {};
  let s = seed;
  const normal = (shape: number[], std: number) => ({
    data: randomNormal(
      shape.reduce((a, b) => a * b, 1),
      s++,
      std,
    ),
    shape,
  });
  const ones = (n: number) => ({ data: new Float32Array(n).fill(1), shape: [n] });
  for (const name of VIT_PARAM_NAMES) {
    if (name === 'ln1w' || name === 'ln2w') p[name] = ones(d);
    else if (name.startsWith('ln')) p[name] = normal([d], 0.02);
    else if (name === 'w1') p[name] = normal([4 * d, d], 0.02);
    else if (name === 'b1') p[name] = normal([4 * d], 0.02);
    else if (name === 'w2') p[name] = normal([d, 4 * d], 0.02);
    else if (name.startsWith('w')) p[name] = normal([d, d], 0.02);
    else p[name] = normal([d], 0.02);
  }
  return p;
}

const VIT_EPS = 1e-12; // YOLOS's layer_norm_eps

/**
 * x: [B, T, D] → [B, T, D]; pre-norm block: x + attn(ln1(x)), then + mlp(ln2(·)). The linear layers
 * use matmul's fused epilogue (bias, GELU, residual), as the engine's own layers do.
 */
function vitBlockOurs(x: Tensor, P: Record<string, Tensor>, heads: number, attn: AttentionFn): Tensor {
  const [B, T, D] = x.shape;
  const dh = D / heads;
  const lin = (h: Tensor, w: string, b: string, more: MatmulOptions = {}) => h.matmul(P[w], { transposeB: true, bias: P[b], ...more }); // [B·T, in] → [B·T, out]
  const split = (h: Tensor) => h.reshape([B, T, heads, dh]).permute([0, 2, 1, 3]); // [B, H, T, dh]
  const x2 = x.reshape([B * T, D]);
  const h = x2.layerNorm(P.ln1w, P.ln1b, VIT_EPS); // [B·T, D]
  const a = attn(split(lin(h, 'wq', 'bq')), split(lin(h, 'wk', 'bk')), split(lin(h, 'wv', 'bv'))); // [B, H, T, dh]
  const merged = a.permute([0, 2, 1, 3]).reshape([B * T, D]);
  const x1 = lin(merged, 'wo', 'bo', { residual: x2 }); // x + proj(attn): [B·T, D]
  const m = lin(x1.layerNorm(P.ln2w, P.ln2b, VIT_EPS), 'w1', 'b1', { activation: 'gelu' }); // [B·T, 4D]
  return lin(m, 'w2', 'b2', { residual: x1 }).reshape([B, T, D]); // x1 + mlp: [B, T, D]
}

function vitBlockTf(tf: TF, x: TfTensor, P: Record<string, TfTensor>, heads: number): TfTensor {
  const [B, T, D] = x.shape;
  const dh = D / heads;
  const lin = (h: TfTensor, w: string, b: string) => tf.add(tf.matMul(h, P[w], false, true), P[b]);
  const split = (h: TfTensor) => tf.transpose(tf.reshape(h, [B, T, heads, dh]), [0, 2, 1, 3]);
  const h = tfLayerNorm(tf, tf.reshape(x, [B * T, D]), P.ln1w, P.ln1b, VIT_EPS);
  const a = tfAttention(tf, split(lin(h, 'wq', 'bq')), split(lin(h, 'wk', 'bk')), split(lin(h, 'wv', 'bv')));
  const merged = tf.reshape(tf.transpose(a, [0, 2, 1, 3]), [B * T, D]);
  const x1 = tf.add(tf.reshape(x, [B * T, D]), lin(merged, 'wo', 'bo'));
  const m = lin(tfGelu(tf, lin(tfLayerNorm(tf, x1, P.ln2w, P.ln2b, VIT_EPS), 'w1', 'b1')), 'w2', 'b2');
  return tf.reshape(tf.add(x1, m), [B, T, D]);
}

// ------------------------------------------------------------------ cases

interface Prepared {
  name: string;
  unit: 'GFLOP/s' | 'GB/s';
  work: number;
  variant: string;
  tfVariant: string;
  ours: () => void;
  tf: (() => void) | null;
  /** Runs ours once and validates it against engine/reference (throws on a mismatch); null: no reference. */
  reference: (() => Promise<NonNullable<BenchRow['reference']>>) | null;
  /** Runs both once and returns the outputs to compare (ours, theirs) and what they are. */
  compare: (() => Promise<{ compared: string; ours: Float32Array; theirs: Float32Array }>) | null;
  dispose: () => void;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Multiply-adds the CPU reference may spend on one case (a few seconds); above it, rows are sampled. */
const REF_BUDGET = 2e8;

async function prepare(c: CaseSpec, peer: TfPeer | null, seed: number): Promise<Prepared> {
  const tf = peer?.tf ?? null;
  const ourT: Tensor[] = [];
  const tfT: TfTensor[] = [];
  const half = c.dtype === 'f16';
  const input = (shape: number[], s: number, std = 1, requiresGrad = false, dtype: 'f32' | 'f16' = 'f32') => {
    const data = randomNormal(size(shape), s, std);
    const t = tensor(data, shape, { requiresGrad, dtype });
    ourT.push(t);
    let u: TfTensor | null = null;
    if (tf) {
      u = tf.tensor(data, shape);
      tfT.push(u);
    }
    // what our tensor holds, for the reference
    const r = R.ref(dtype === 'f16' ? roundToF16(data) : data, shape);
    return { t, u: u as TfTensor, data, r };
  };
  /** Validates `run`'s output against op's reference on every `step`-th row along `axis` of operand 0 and the output. */
  const against =
    (op: CheckedOp, run: () => Tensor, refs: R.RefTensor[], o: CheckOptions = {}, axis = -2, work = 0) =>
    async () => {
      const step = Math.max(1, Math.ceil(work / REF_BUDGET));
      const rows = (x: R.RefTensor) =>
        step === 1
          ? x
          : R.slice(
              x,
              [],
              undefined,
              x.shape.map((_, d) => (d === x.shape.length + axis ? step : 1)),
            );
      const y = E.scope(run);
      const got = R.ref(await y.data(), y.shape);
      y.dispose();
      const check = checkOf(op);
      const xs = [rows(refs[0]), ...refs.slice(1)];
      const want = check.ref(xs, o);
      const v = validate(rows(got).data, want.data, toleranceFor(check, want, xs, o, c.dtype ?? 'f32'));
      const what = `${op} ${describeCase(c)}${step > 1 ? `, every ${step}th row` : ''}`;
      if (!v.pass) throw new Error(`bench: ${what} disagrees with engine/reference:\n${describeValidation(v)}`);
      return { compared: op, rows: step > 1 ? `every ${step}th row` : 'all', n: v.n, maxAbs: v.maxAbs, worstRatio: v.worstRatio };
    };
  const dispose = () => {
    for (const t of ourT) t.dispose();
    for (const u of tfT) u.dispose();
  };
  const read = async (t: Tensor) => (await t.data()) as Float32Array;
  const readTf = async (u: TfTensor) => (await u.data()) as Float32Array;
  const both = async (compared: string, o: () => Tensor | Tensor[], f: () => TfTensor | TfTensor[]) => {
    const os = E.scope(() => [o()].flat());
    const ours = concatF32(await Promise.all(os.map(read)));
    for (const t of os) t.dispose();
    const fs = tf!.tidy(() => [f()].flat());
    const theirs = concatF32(await Promise.all(fs.map(readTf)));
    for (const u of fs) u.dispose();
    return { compared, ours, theirs };
  };

  switch (c.kind) {
    case 'matmul': {
      const [n] = c.shape;
      const a = input([n, n], seed, 1, false, c.dtype),
        b = input([n, n], seed + 1, 1, false, c.dtype);
      const mo = c.matmulVariant ? { variant: c.matmulVariant } : {};
      const kernel = chooseVariant(n, n, c.matmulVariant);
      return {
        name: 'matmul',
        unit: 'GFLOP/s',
        work: 2 * n ** 3,
        variant: `matmul (${kernel}${half ? ', f16 operands' : ''})`,
        tfVariant: 'tf.matMul',
        ours: () => {
          a.t.matmul(b.t, mo);
        },
        reference: against('matmul', () => a.t.matmul(b.t, mo), [a.r, b.r], {}, -2, n ** 3),
        tf:
          tf &&
          (() => {
            tf.matMul(a.u, b.u);
          }),
        compare:
          tf &&
          (() =>
            both(
              'C',
              () => a.t.matmul(b.t, mo),
              () => tf.matMul(a.u, b.u),
            )),
        dispose,
      };
    }
    case 'attention':
    case 'attention-fwd-bwd': {
      const [B, H, T, D] = c.shape;
      const fwdOnly = c.kind === 'attention';
      const composed = c.attentionVariant === 'composed';
      const ours = composed ? { fn: composedAttention, variant: 'matmul+scale+softmax+matmul' } : oursAttention();
      const variant =
        (half ? `${ours.variant}, f16 q/k/v${fwdOnly ? '' : ' (cast from f32 in the step)'}` : ours.variant) +
        (c.attentionVariant && !composed ? `, variant ${c.attentionVariant}` : '');
      // f16 forward: f16 inputs. f16 forward + backward: f32 leaves cast to f16 inside the step (f16
      // tensors cannot be leaves that require gradients; the three casts are part of the figure).
      const leafType = fwdOnly ? c.dtype : 'f32';
      const q = input([B, H, T, D], seed, 1, !fwdOnly, leafType),
        k = input([B, H, T, D], seed + 1, 1, !fwdOnly, leafType),
        v = input([B, H, T, D], seed + 2, 1, !fwdOnly, leafType);
      const opts = c.attentionVariant && !composed ? { variant: c.attentionVariant as AttentionVariant } : {};
      const attend = (a: Tensor, b: Tensor, cc: Tensor) =>
        half && !fwdOnly ? ours.fn(a.cast('f16'), b.cast('f16'), cc.cast('f16'), opts) : ours.fn(a, b, cc, opts);
      const flops = 4 * B * H * T * T * D * (fwdOnly ? 1 : 3);
      const tfVariant = 'tf.matMul+mul+tf.softmax+tf.matMul';
      if (fwdOnly) {
        return {
          name: 'attention fwd',
          unit: 'GFLOP/s',
          work: flops,
          variant,
          tfVariant,
          ours: () => {
            noGrad(() => attend(q.t, k.t, v.t));
          },
          reference: against('attention', () => noGrad(() => attend(q.t, k.t, v.t)), [q.r, k.r, v.r], {}, -2, B * H * T * T * D),
          tf:
            tf &&
            (() => {
              tfAttention(tf, q.u, k.u, v.u);
            }),
          compare:
            tf &&
            (() =>
              both(
                'o',
                () => noGrad(() => attend(q.t, k.t, v.t)),
                () => tfAttention(tf, q.u, k.u, v.u),
              )),
          dispose,
        };
      }
      const dy = input([B, H, T, D], seed + 3);
      const oursStep = () => {
        const o = attend(q.t, k.t, v.t);
        const g = gradients(o, dy.t);
        return [g.get(q.t)!, g.get(k.t)!, g.get(v.t)!];
      };
      const tfGrads = tf && tf.grads((a: TfTensor, b: TfTensor, cc: TfTensor) => tfAttention(tf, a, b, cc));
      return {
        name: 'attention fwd+bwd',
        unit: 'GFLOP/s',
        work: flops,
        variant,
        tfVariant: `${tfVariant}, tf.grads`,
        ours: () => {
          for (const g of oursStep()) g.dispose();
        },
        reference: null,
        tf:
          tf &&
          (() => {
            tfGrads!([q.u, k.u, v.u], dy.u);
          }),
        compare: tf && (() => both('dq,dk,dv', oursStep, () => tfGrads!([q.u, k.u, v.u], dy.u))),
        dispose,
      };
    }
    case 'layernorm': {
      const [rows, D] = c.shape;
      const x = input([rows, D], seed),
        w = input([D], seed + 1, 0.5),
        b = input([D], seed + 2, 0.5);
      return {
        name: 'layer norm',
        unit: 'GB/s',
        work: 4 * (2 * rows * D + 2 * D),
        variant: 'layerNorm (fused kernel)',
        tfVariant: 'tf.moments + arithmetic',
        ours: () => {
          x.t.layerNorm(w.t, b.t, 1e-5);
        },
        reference: against('layerNorm', () => x.t.layerNorm(w.t, b.t, 1e-5), [x.r, w.r, b.r], {}, -2, rows * D),
        tf:
          tf &&
          (() => {
            tfLayerNorm(tf, x.u, w.u, b.u, 1e-5);
          }),
        compare:
          tf &&
          (() =>
            both(
              'y',
              () => x.t.layerNorm(w.t, b.t, 1e-5),
              () => tfLayerNorm(tf, x.u, w.u, b.u, 1e-5),
            )),
        dispose,
      };
    }
    case 'gelu': {
      const x = input(c.shape, seed, 2);
      return {
        name: 'GELU (erf)',
        unit: 'GB/s',
        work: 4 * 2 * size(c.shape),
        variant: 'gelu (one kernel)',
        tfVariant: '0.5·x·(1 + tf.erf(x/√2))',
        ours: () => {
          x.t.gelu();
        },
        reference: against('gelu', () => x.t.gelu(), [x.r]),
        tf:
          tf &&
          (() => {
            tfGelu(tf, x.u);
          }),
        compare:
          tf &&
          (() =>
            both(
              'y',
              () => x.t.gelu(),
              () => tfGelu(tf, x.u),
            )),
        dispose,
      };
    }
    case 'softmax': {
      const x = input(c.shape, seed, 3);
      return {
        name: 'softmax',
        unit: 'GB/s',
        work: 4 * 2 * size(c.shape),
        variant: 'softmax (one kernel)',
        tfVariant: 'tf.softmax',
        ours: () => {
          x.t.softmax(-1);
        },
        reference: against('softmax', () => x.t.softmax(-1), [x.r], { axis: -1 }, -2, size(c.shape)),
        tf:
          tf &&
          (() => {
            tf.softmax(x.u);
          }),
        compare:
          tf &&
          (() =>
            both(
              'y',
              () => x.t.softmax(-1),
              () => tf.softmax(x.u),
            )),
        dispose,
      };
    }
    case 'vit-block': {
      const [B, T, D, H] = c.shape;
      const { fn, variant } = oursAttention();
      const x = input([B, T, D], seed, 1, true);
      const dy = input([B, T, D], seed + 1);
      const host = vitParams(D, seed + 10);
      const P: Record<string, Tensor> = {};
      const Q: Record<string, TfTensor> = {};
      for (const name of VIT_PARAM_NAMES) {
        P[name] = tensor(host[name].data, host[name].shape, { requiresGrad: true });
        ourT.push(P[name]);
        if (tf) {
          Q[name] = tf.tensor(host[name].data, host[name].shape);
          tfT.push(Q[name]);
        }
      }
      const leaves = [x.t, ...VIT_PARAM_NAMES.map((n) => P[n])];
      const oursStep = () => {
        const y = vitBlockOurs(x.t, P, H, fn);
        const g = gradients(y, dy.t);
        return leaves.map((l) => g.get(l)!);
      };
      const tfGrads =
        tf &&
        tf.grads((...args: TfTensor[]) => {
          const [xx, ...ps] = args;
          return vitBlockTf(tf, xx, Object.fromEntries(VIT_PARAM_NAMES.map((n, i) => [n, ps[i]])), H);
        });
      const tfArgs = tf ? [x.u, ...VIT_PARAM_NAMES.map((n) => Q[n])] : [];
      const fwd = 2 * B * T * D * D * 12 + 4 * B * T * T * D;
      return {
        name: 'ViT block fwd+bwd',
        unit: 'GFLOP/s',
        work: 3 * fwd,
        variant: `autograd, matmul epilogues (bias, GELU, residual); attention: ${variant}`,
        tfVariant: 'tf.grads over the composed block',
        ours: () => {
          for (const g of oursStep()) g.dispose();
        },
        reference: null,
        tf:
          tf &&
          (() => {
            tfGrads!(tfArgs, dy.u);
          }),
        // compares the gradients of x and of every parameter
        compare: tf && (() => both('dx and all parameter grads', oursStep, () => tfGrads!(tfArgs, dy.u))),
        dispose,
      };
    }
  }
}

function concatF32(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function describeShape(c: CaseSpec): string {
  switch (c.kind) {
    case 'matmul':
      return `${c.shape[0]}³`;
    case 'vit-block':
      return `B=${c.shape[0]} T=${c.shape[1]} D=${c.shape[2]} H=${c.shape[3]}`;
    default:
      return `[${c.shape.join(',')}]`;
  }
}

/** The shape column: the shape, and the storage when it is not f32. */
const describeCase = (c: CaseSpec) =>
  describeShape(c) +
  (c.dtype ? ` ${c.dtype}` : '') +
  (c.attentionVariant ? ` (${c.attentionVariant})` : '') +
  (c.matmulVariant ? ` (${c.matmulVariant})` : '');

/** Runs the cases on the running engine (and TF.js on the same adapter unless noTfjs). */
export async function runKernelBench(opts: KernelBenchOptions): Promise<BenchRow[]> {
  const peer = opts.noTfjs ? null : await tfjs();
  const rows: BenchRow[] = [];
  let seed = 100;
  for (const c of opts.cases) {
    let p: Prepared | null = null;
    try {
      p = await prepare(c, peer, (seed += 10));
      const reference = p.reference ? await p.reference() : null;
      let check: BenchRow['check'] = null;
      if (p.compare) {
        const r = await p.compare();
        let maxAbs = 0;
        for (const v of r.theirs) maxAbs = Math.max(maxAbs, Math.abs(v));
        // Both sides compute in f32 in different orders; 1e-3 of the output scale is far above their
        // rounding (≤ ~K·2⁻²⁴ relative for K ≤ 4096) and far below what a wrong kernel produces.
        // Our f16 operands were rounded (2⁻¹¹ relative each; errors of random sign over K terms
        // stay near 2⁻¹¹ of the scale): 1e-2.
        const rtol = c.dtype === 'f16' ? 1e-2 : 1e-3;
        const v = validate(r.ours, r.theirs, { atol: rtol * Math.max(maxAbs, 1e-6) });
        check = { compared: r.compared, maxAbsDiff: v.maxAbs, maxAbs, ok: v.pass };
      }
      const so = await oursSampler(p.ours, opts);
      const st = p.tf && peer ? await tfSampler(peer, p.tf, opts) : null;
      const [ours, theirs] = st ? await timeInterleaved(so, st, opts.repeats ?? 5) : [await timeOurs(p.ours, opts), null];
      const cm = theirs ? commonMethod(ours, theirs) : { method: ours.method, a: ours.ms, b: NaN };
      const work = p.work;
      const per = (ms: number) => work / (ms * 1e-3) / 1e9;
      const row: BenchRow = {
        name: p.name,
        shape: describeCase(c),
        unit: p.unit,
        work: p.work,
        variant: p.variant,
        tfVariant: p.tfVariant,
        method: cm.method,
        oursMs: cm.a,
        tfjsMs: theirs ? cm.b : null,
        ours: per(cm.a),
        tfjs: theirs ? per(cm.b) : null,
        speedup: theirs ? cm.b / cm.a : null,
        speedupWall: theirs ? theirs.wallMs / ours.wallMs : null,
        oursTiming: ours,
        tfjsTiming: theirs,
        reference,
        check,
      };
      rows.push(row);
      opts.log?.(
        `${row.name} ${row.shape}: ours ${fmtMs(row.oursMs)} (${row.ours.toFixed(2)} ${row.unit})` +
          (theirs
            ? `, TF.js ${fmtMs(row.tfjsMs!)} (${row.tfjs!.toFixed(2)} ${row.unit}), ×${row.speedup!.toFixed(2)} [${row.method}]`
            : ` [${row.method}]`) +
          (reference
            ? `; reference ok (${reference.rows}, worst ${reference.worstRatio.toExponential(1)}× its tolerance)`
            : '; no reference') +
          (check
            ? `; TF.js check ${check.ok ? 'ok' : 'MISMATCH'} (max diff ${check.maxAbsDiff.toExponential(1)} of ${check.maxAbs.toExponential(1)})`
            : ''),
      );
    } catch (err) {
      if (!opts.onError) throw err;
      opts.onError(c, err as Error);
    } finally {
      p?.dispose();
    }
  }
  return rows;
}

export function fmtMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
}

/** The markdown table of the rows. */
export function markdownTable(rows: BenchRow[]): string {
  const lines = [
    '| op | shape | ours | TF.js | ours, throughput | TF.js, throughput | TF.js ÷ ours | clock | wall: TF.js ÷ ours | check |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const tp = (v: number | null) => (v === null ? '—' : `${v >= 100 ? v.toFixed(0) : v.toFixed(2)} ${r.unit}`);
    lines.push(
      `| ${r.name} | ${r.shape} | ${fmtMs(r.oursMs)} | ${r.tfjsMs === null ? '—' : fmtMs(r.tfjsMs)} | ${tp(r.ours)} | ${tp(r.tfjs)} | ` +
        `${r.speedup === null ? '—' : `${r.speedup.toFixed(2)}×`} | ${r.method} | ${r.speedupWall === null ? '—' : `${r.speedupWall.toFixed(2)}×`} | ` +
        `${r.check ? (r.check.ok ? 'ok' : `**mismatch** ${r.check.maxAbsDiff.toExponential(1)}`) : '—'} |`,
    );
  }
  return lines.join('\n');
}

/** The variants row notes under the table. */
export function variantNotes(rows: BenchRow[]): string {
  const seen = new Map<string, string>();
  for (const r of rows) seen.set(r.name, `${r.name}: ours = ${r.variant}; TF.js = ${r.tfVariant}`);
  return [...seen.values()].map((s) => `- ${s}`).join('\n');
}
