/**
 * Batched matrix product with NumPy matmul semantics (1-D operands, broadcast batch dimensions),
 * either operand transposed without a copy, f32 or f16 operands (f32 accumulation), and a fused
 * epilogue act(a·b + bias) + residual — all differentiable.
 *
 * Kernel choice (see kernels/wgsl/matmul.wgsl.ts for the variants and their measurements):
 * software adapters (lavapipe, SwiftShader) take the barrier-free `register` kernel, whose
 * per-invocation tile depends on the shape; hardware GPUs take the `shared` (workgroup-memory tiled)
 * kernel; software adapters whose subgroups have one fixed size take the `broadcast` kernel (one
 * subgroup shares each block of B through subgroupBroadcast). `YOLOS_MATMUL=register4x4|register8x4|
 * broadcast|shared|shared128` (Node) or `{ variant }` forces one.
 * The choice reads the device's limits: where a variant's workgroup does not fit them, 'auto' takes
 * the next smaller one and a forced one throws a LimitError (at WebGPU's default limits all fit).
 */
import { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { broadcastShapes, broadcastStrides, collapseDims, sameShape, sizeOf } from '../shape.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { requireF16 } from '../dtype.ts';
import {
  matmulKernel,
  sharedTile,
  sharedWorkgroupBytes,
  type MatmulActivation,
  type MatmulKernelConfig,
  type StoreType,
} from '../kernels/wgsl/matmul.wgsl.ts';
import { buf, checkTensor, checkStorage, forcedVariant } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';
import { sumToShape } from './reduce.ts';
import { reshape } from './movement.ts';
import { requireFixedSubgroups, requireWorkgroupFits, workgroupMisfit, type DeviceTraits, type WorkgroupNeeds } from '../limits.ts';

/**
 * The kernels one can force: register tiles (rows×cols of C per invocation) or the shared-memory ones
 * ('shared': 64×64 per workgroup, 'shared128': 128×128).
 */
export type MatmulVariant = 'register4x4' | 'register8x4' | 'broadcast' | 'shared' | 'shared128';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['register4x4', 'register8x4', 'broadcast', 'shared', 'shared128'];

/** Per-invocation tile and workgroup of each register variant (workgroup: x along N, y along M). */
const REGISTER_TILES = {
  register4x4: { tm: 4, tn: 4, wx: 8, wy: 8 }, // 32×32 per workgroup: small or thin products
  register8x4: { tm: 8, tn: 4, wx: 16, wy: 8 }, // 64×64 per workgroup: the fastest on lavapipe and SwiftShader
} as const;
/**
 * The broadcast variant for subgroups of `sg` lanes: 4 rows per invocation, the workgroup (one
 * subgroup) sharing max(32, sg) columns.
 */
const broadcastTile = (sg: number) => ({ tm: 4, tn: Math.max(32, sg), wx: sg, wy: 1 });
/** Outputs per invocation (tm = tn) of each shared variant: 4×4 → 64×64 tiles, 8×8 → 128×128. */
const SHARED_TILES = { shared: 4, shared128: 8 } as const;
/** Workgroup of every shared variant (the kernel's @workgroup_size). */
const SHARED_WG = 16;

/** The workgroup size and workgroup storage a variant's kernel needs. */
export function matmulWorkgroup(v: MatmulVariant, subgroupSize: number | null = null): WorkgroupNeeds {
  if (v === 'shared' || v === 'shared128') return { size: [SHARED_WG, SHARED_WG], bytes: sharedWorkgroupBytes(SHARED_TILES[v]) };
  if (v === 'broadcast') return { size: [subgroupSize ?? 1], bytes: 0 };
  const t = REGISTER_TILES[v];
  return { size: [t.wx, t.wy], bytes: 0 };
}

/** Largest first: where a variant does not fit the device, the choice takes the next. */
const BY_SIZE: readonly MatmulVariant[] = ['shared128', 'shared', 'register8x4', 'register4x4'];

export interface MatmulOptions {
  /** Use Aᵀ: `a` is [..., K, M]. */
  transposeA?: boolean;
  /** Use Bᵀ: `b` is [..., N, K]. */
  transposeB?: boolean;
  /** Added to every row before the activation: shape [N], f32 or f16. */
  bias?: Tensor;
  /** Applied after the bias (exact erf GELU, or ReLU). */
  activation?: 'gelu' | 'relu';
  /** Added after the activation: exactly the output's shape [..., M, N], f32 or f16. */
  residual?: Tensor;
  /** Dtype of the result (default f32; f16 needs 'shader-f16' and is not differentiable). */
  outDtype?: 'f32' | 'f16';
  /** Forces a kernel (tests, benchmarks); default 'auto' picks per adapter and shape. */
  variant?: 'auto' | MatmulVariant;
}

/**
 * `act(a @ b + bias) + residual`. a: [..., M, K] (or [..., K, M] with transposeA), b: [..., K, N]
 * (or [..., N, K] with transposeB); the epilogue options are optional and fused into the kernel.
 * @example a.matmul(w, { transposeB: true })                                   // x·Wᵀ, W stored [out, in]
 * @example matmul(x, w1, { transposeB: true, bias: b1, activation: 'gelu' })  // an MLP's first layer
 * @example matmul(h, w2, { transposeB: true, bias: b2, residual: x })         // its second, plus the residual
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkTensor('matmul', a, 'a');
  checkTensor('matmul', b, 'b');
  if (a.rank === 0 || b.rank === 0)
    throw new ShapeError(`matmul: operands must have rank ≥ 1, got a=${fmtShape(a.shape)} b=${fmtShape(b.shape)}`);
  if (a.rank > 1 && b.rank > 1) return matmul2(a, b, opts);
  // NumPy: a 1-D a is a row [1, K], a 1-D b a column [K, 1]; the added axis is removed after.
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const o = { ...opts };
  if (a.rank === 1) o.transposeA = false;
  if (b.rank === 1) o.transposeB = false;
  let r2: Tensor | undefined;
  if (opts.residual) {
    checkTensor('matmul', opts.residual, 'residual');
    const { batch, M, N } = productShape(a2, b2, !!o.transposeA, !!o.transposeB);
    const want = squeezeOut([...batch, M, N], a.rank === 1, b.rank === 1);
    if (!sameShape(opts.residual.shape, want)) {
      throw new ShapeError(
        `matmul: residual ${fmtShape(opts.residual.shape)} must have the output's shape ${fmtShape(want)} (a=${fmtShape(a.shape)} b=${fmtShape(b.shape)})`,
      );
    }
    o.residual = r2 = reshape(opts.residual, [...batch, M, N]);
  }
  const c = matmul2(a2, b2, o);
  const out = reshape(c, squeezeOut(c.shape, a.rank === 1, b.rank === 1));
  for (const t of [a2, b2, c, r2]) if (t && t !== a && t !== b && t !== opts.residual) t.dispose();
  return out;
}

/** The output shape without the axes a 1-D operand added. */
function squeezeOut(shape: readonly number[], aVec: boolean, bVec: boolean): number[] {
  const s = [...shape];
  if (bVec) s.splice(s.length - 1, 1);
  if (aVec) s.splice(s.length - (bVec ? 1 : 2), 1);
  return s;
}

function productShape(a: Tensor, b: Tensor, tA: boolean, tB: boolean) {
  const [M, Ka] = tA ? [a.shape[a.rank - 1], a.shape[a.rank - 2]] : [a.shape[a.rank - 2], a.shape[a.rank - 1]];
  const [Kb, N] = tB ? [b.shape[b.rank - 1], b.shape[b.rank - 2]] : [b.shape[b.rank - 2], b.shape[b.rank - 1]];
  if (Ka !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a=${fmtShape(a.shape)}${tA ? 'ᵀ' : ''} b=${fmtShape(b.shape)}${tB ? 'ᵀ' : ''} (${Ka} vs ${Kb})`,
    );
  }
  const batch = broadcastShapes('matmul (batch dimensions)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { M, N, K: Ka, batch };
}

const storeType = (what: string, t: Tensor): StoreType => checkStorage('matmul', t, what);

/**
 * The kernel for a shape on this device (`forced` from the options or YOLOS_MATMUL; a forced one
 * that does not fit the device's limits throws a LimitError).
 */
export function chooseVariant(
  M: number,
  N: number,
  forced?: 'auto' | MatmulVariant,
  batches = 1,
  device: DeviceTraits = rt(),
): MatmulVariant {
  const want = forcedVariant('matmul', 'YOLOS_MATMUL', forced, MATMUL_VARIANTS);
  const sg = device.adapter.subgroupSize ?? null;
  if (want) {
    if (want === 'broadcast') requireFixedSubgroups('matmul', want, device);
    requireWorkgroupFits('matmul', want, matmulWorkgroup(want, sg), device.limits);
    return want;
  }
  // CPU adapters with fixed-size subgroups: the broadcast kernel wherever a product has a
  // workgroup's columns (measured in kernels/wgsl/matmul.wgsl.ts: 2–3× register8x4 on lavapipe).
  if (device.adapter.isSoftware && sg && sg <= 32 && N >= 16 && M >= 8 && !workgroupMisfit(matmulWorkgroup('broadcast', sg), device.limits))
    return 'broadcast';
  const preferred = preferredVariant(M, N, batches, device.adapter.isSoftware);
  return BY_SIZE.slice(BY_SIZE.indexOf(preferred)).find((v) => !workgroupMisfit(matmulWorkgroup(v), device.limits)) ?? 'register4x4';
}

function preferredVariant(M: number, N: number, batches: number, isSoftware: boolean): Exclude<MatmulVariant, 'broadcast'> {
  // GPUs: 128×128 tiles (twice the FMAs per workgroup-memory read) once there are enough of them to
  // occupy a large GPU (≥ 128 workgroups; an H100 has 132 SMs), else 64×64. Not yet timed on a GPU:
  // bench/gpu.ts times both at each size.
  if (!isSoftware) return Math.ceil(M / 128) * Math.ceil(N / 128) * batches >= 128 ? 'shared128' : 'shared';
  // Software rasterisers: barrier-free; an 8-row tile only where M has the rows to fill it.
  return M >= 64 && N >= 16 ? 'register8x4' : 'register4x4';
}

/** `rowSumA` (internal, one batch, no gradient): also receives Σ_k op(A)[m, k] per row m. */
function matmul2(a: Tensor, b: Tensor, opts: MatmulOptions, rowSumA?: Tensor): Tensor {
  const tA = !!opts.transposeA,
    tB = !!opts.transposeB;
  const typeA = storeType('a', a),
    typeB = storeType('b', b);
  const { M, N, K, batch } = productShape(a, b, tA, tB);
  const outShape = [...batch, M, N];
  const { bias, residual } = opts;
  const act: MatmulActivation = opts.activation ?? 'none';
  if (act !== 'none' && act !== 'gelu' && act !== 'relu')
    throw new ShapeError(`matmul: unknown activation '${act as string}' (expected gelu or relu)`);
  if (bias) {
    checkTensor('matmul', bias, 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== N)
      throw new ShapeError(
        `matmul: bias ${fmtShape(bias.shape)} must have shape [${N}] (N of a=${fmtShape(a.shape)} b=${fmtShape(b.shape)})`,
      );
  }
  if (residual) {
    checkTensor('matmul', residual, 'residual');
    if (!sameShape(residual.shape, outShape))
      throw new ShapeError(
        `matmul: residual ${fmtShape(residual.shape)} must have the output's shape ${fmtShape(outShape)} (a=${fmtShape(a.shape)} b=${fmtShape(b.shape)})`,
      );
  }
  const typeC: StoreType = opts.outDtype ?? 'f32';
  if (typeC !== 'f32' && typeC !== 'f16') throw new DTypeError(`matmul: outDtype must be f32 or f16, got ${typeC as string}`);
  if (typeC === 'f16') requireF16('matmul');
  const grads = needsGrad(a, b, bias, residual);
  if (grads && typeC === 'f16')
    throw new DTypeError(`matmul: an f16 result is not differentiable; use outDtype 'f32' when an input requires a gradient`);
  // The activation's backward needs the pre-activation z = a·b + bias: the kernel writes it too.
  const savePre = act !== 'none' && needsGrad(a, b, bias);

  const out = Tensor.empty(outShape, typeC, 'matmul');
  const pre = savePre ? Tensor.empty(outShape, 'f32', 'matmul.preActivation') : null;
  const nb = sizeOf(batch);
  if (out.size > 0) {
    const c = collapseDims(batch, [
      broadcastStrides(a.shape.slice(0, -2), batch).map((s) => s * M * K),
      broadcastStrides(b.shape.slice(0, -2), batch).map((s) => s * K * N),
    ]);
    if (c.shape.length > 4) throw new ShapeError(`matmul: more than 4 independent batch dimensions in ${fmtShape(batch)}`);
    if (nb > 65535) throw new ShapeError(`matmul: ${nb} batches exceed 65535`);
    const pad = (v: number[], fill: number) => [...new Array(4 - v.length).fill(fill), ...v];
    const p = new Params()
      .u32(M, N, K, nb, tA ? 1 : K, tA ? M : 1, tB ? 1 : N, tB ? K : 1)
      .vec4Array(pad(c.shape, 1))
      .vec4Array(pad(c.strides[0], 0))
      .vec4Array(pad(c.strides[1], 0));
    const variant = chooseVariant(M, N, opts.variant, nb);
    const common = {
      tA,
      tB,
      typeA,
      typeB,
      typeC,
      bias: bias ? storeType('bias', bias) : null,
      residual: residual ? storeType('residual', residual) : null,
      act,
      savePre,
      rowSumA: !!rowSumA,
    };
    let cfg: MatmulKernelConfig;
    let groups: [number, number, number];
    if (variant === 'shared' || variant === 'shared128') {
      const t = SHARED_TILES[variant];
      cfg = { ...common, variant: 'shared', tm: t, tn: t, wx: SHARED_WG, wy: SHARED_WG, vecA: false, vecB: false, vecC: false };
      groups = [Math.ceil(N / sharedTile(t)), Math.ceil(M / sharedTile(t)), nb];
    } else if (variant === 'broadcast') {
      const sg = rt().adapter.subgroupSize!;
      const t = broadcastTile(sg);
      cfg = {
        ...common,
        variant: 'broadcast',
        sg,
        ...t,
        vecA: tA ? M % 4 === 0 : K % 4 === 0,
        vecB: tB ? K % 4 === 0 : N % 4 === 0,
        vecC: N % 4 === 0,
      };
      groups = [Math.ceil(N / t.tn), Math.ceil(M / (t.tm * sg)), nb];
    } else {
      const t = REGISTER_TILES[variant];
      cfg = {
        ...common,
        variant: 'register',
        ...t,
        vecA: tA ? M % 4 === 0 : K % 4 === 0,
        vecB: tB ? K % 4 === 0 : N % 4 === 0,
        vecC: N % 4 === 0,
      };
      groups = [Math.ceil(N / (t.tn * t.wx)), Math.ceil(M / (t.tm * t.wy)), nb];
    }
    const bufs = [buf('matmul', a), buf('matmul', b)];
    if (bias) bufs.push(buf('matmul', bias));
    if (residual) bufs.push(buf('matmul', residual));
    bufs.push(buf('matmul', out));
    if (pre) bufs.push(buf('matmul', pre));
    if (rowSumA) bufs.push(buf('matmul', rowSumA));
    rt().dispatch(matmulKernel(cfg), p.bytes(), bufs, groups);
  }
  if (grads) {
    const inputs = [a, b, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
    const need = { a: a.requiresGrad, b: b.requiresGrad, bias: !!bias?.requiresGrad, residual: !!residual?.requiresGrad };
    const variant = opts.variant;
    record(
      'matmul',
      inputs,
      out,
      (g, [sa, sb, z]) => {
        // y = act(z) + r, z = op(A)·op(B) + bias: dz = g ⊙ act'(z), dr = g, dbias = Σ_rows dz.
        const dz = act === 'relu' ? g.mul(z.gt(0)) : act === 'gelu' ? g.mul(z.geluGrad()) : g;
        if (linearGradOptions.fold && sb.rank === 2 && sa.rank > 2 && !tA && sa.size > 0 && N > 0) {
          const lin = linearGrads(dz, sa, sb, tB, need, !!bias, variant);
          if (residual) lin.push(need.residual ? sumToShape(g, outShape) : null);
          return lin;
        }
        // d op(A) = dz·op(B)ᵀ, d op(B) = op(A)ᵀ·dz, transposed back where the operand was (same kernels).
        const ga = !need.a
          ? null
          : tA
            ? matmul(sb, dz, { transposeA: tB, transposeB: true, variant })
            : matmul(dz, sb, { transposeB: !tB, variant });
        const gb = !need.b
          ? null
          : tB
            ? matmul(dz, sa, { transposeA: true, transposeB: tA, variant })
            : matmul(sa, dz, { transposeA: !tA, variant });
        const grads: (Tensor | null)[] = [ga && sumToShape(ga, sa.shape), gb && sumToShape(gb, sb.shape)];
        if (bias) grads.push(need.bias ? sumToShape(dz, [N]) : null);
        if (residual) grads.push(need.residual ? sumToShape(g, outShape) : null);
        return grads;
      },
      pre ? [a, b, pre] : [a, b],
    );
  }
  pre?.dispose();
  return out;
}

/**
 * @internal false: linear layers' gradients take the batched path (per-batch products, then sums over
 * the batch and the rows) — for bench/train.ts's before/after comparison in one process.
 */
export const linearGradOptions = { fold: true };

/**
 * Gradients of a linear layer: a [..., M, K] (not transposed) times a 2-D b shared by every batch.
 * The batch folds into the rows (a: [R, K], dz: [R, N], views), so each gradient is one 2-D product —
 * the weight's needs no sum over the batch — and with b stored [N, K] (x·Wᵀ, as nn.Linear) the
 * weight-gradient kernel dzᵀ·a also writes the bias gradient Σ_r dz[r, n] (its row sums of dzᵀ,
 * `rowSumA`): one launch instead of three. Each output is still one serial f32 sum, over K for
 * d a and over the R rows for d b and the bias: |err| ≤ γ_R·Σ|terms|, as the batched products had.
 */
function linearGrads(
  dz: Tensor,
  sa: Tensor,
  sb: Tensor,
  tB: boolean,
  need: { a: boolean; b: boolean; bias: boolean },
  hasBias: boolean,
  variant: MatmulOptions['variant'],
): (Tensor | null)[] {
  const K = sa.shape[sa.rank - 1],
    N = dz.shape[dz.rank - 1],
    R = sa.size / K;
  const dz2 = dz.view([R, N]),
    a2 = sa.view([R, K]);
  try {
    let ga: Tensor | null = null;
    if (need.a) {
      const g2 = matmul2(dz2, sb, { transposeB: !tB, variant });
      ga = g2.view(sa.shape);
      g2.dispose();
    }
    let gb: Tensor | null = null,
      gbias: Tensor | null = null;
    const fuseBias = hasBias && need.bias && tB;
    if (need.b || fuseBias) {
      if (fuseBias) gbias = Tensor.empty([N], 'f32', 'matmul.biasGrad');
      gb = tB ? matmul2(dz2, a2, { transposeA: true, variant }, gbias ?? undefined) : matmul2(a2, dz2, { transposeA: true, variant });
      if (!need.b) {
        gb.dispose();
        gb = null;
      }
    }
    if (hasBias && need.bias && !gbias) gbias = sumToShape(dz2, [N]);
    return hasBias ? [ga, gb, gbias] : [ga, gb];
  } finally {
    dz2.dispose();
    a2.dispose();
  }
}
