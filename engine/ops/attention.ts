/**
 * Fused scaled-dot-product attention, forward and backward without a T×T matrix in memory
 * (kernels and their design in kernels/wgsl/attention.wgsl.ts).
 */
import { Tensor } from '../tensor.ts';
import { DTypeError, ShapeError, fmtShape } from '../errors.ts';
import { requireF16, type StoreType } from '../dtype.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import {
  attentionGrid,
  attentionPlan,
  type AttentionForwardLayout,
  attentionWorkgroupBytes,
  attentionForwardKernel,
  attentionBackwardDqKernel,
  attentionBackwardDkvKernel,
  ATTENTION_VARIANTS,
  type AttentionPlan,
  type AttentionStorage,
  type AttentionVariant,
} from '../kernels/wgsl/attention.wgsl.ts';
import { requireFixedSubgroups, requireWorkgroupFits, workgroupMisfit, type DeviceLimits, type DeviceTraits } from '../limits.ts';
import { buf, checkTensor, checkStorage, forcedVariant } from './run.ts';
import { record, needsGrad } from '../autograd/node.ts';

export interface AttentionOptions {
  /** Multiplies the logits q·kᵀ before the softmax (default 1/√D). */
  scale?: number;
  /**
   * Dtype of the result (default f32). 'f16' needs 'shader-f16' and is not differentiable, as for
   * matmul; q, k and v may each be f16 or f32 whatever the result (arithmetic is f32 throughout).
   */
  outDtype?: StoreType;
  /**
   * Kernel layout (results are the same bit for bit): 'blocked' (several rows per invocation; CPU
   * adapters), 'broadcast' (the forward shares key blocks over a subgroup: CPU adapters whose
   * subgroups have one size; backward as 'blocked'), 'row' (one row per invocation), 'tiled' (one row per invocation, tiles of the other
   * sequence in workgroup memory; GPUs). 'auto' (default) picks by adapter; YOLOS_ATTENTION overrides.
   */
  variant?: 'auto' | AttentionVariant;
}

/**
 * The kernel layout for this device at head dimension d (`forced` from the options or
 * YOLOS_ATTENTION; a forced one that does not fit the device's limits throws a LimitError).
 */
export function chooseAttentionVariant(forced?: 'auto' | AttentionVariant, d = 64, device: DeviceTraits = rt()): AttentionVariant {
  return attentionLayout(d, forced, device).variant;
}

type AttentionPlans = Record<'fwd' | 'dq' | 'dkv', AttentionPlan>;

/** The variant and the three kernels' plans, fitted to the device (tiles sized by its workgroup storage). */
function attentionLayout(
  d: number,
  forced: 'auto' | AttentionVariant | undefined,
  device: DeviceTraits,
): { variant: AttentionVariant; plans: AttentionPlans } {
  const want = forcedVariant('attention', 'YOLOS_ATTENTION', forced, ATTENTION_VARIANTS);
  const sg = device.adapter.subgroupSize ?? null;
  if (want === 'broadcast') requireFixedSubgroups('attention', want, device);
  // CPU adapters: the broadcast forward where subgroups have one size (≤ 32 lanes: the kernel keeps
  // a key block of chunks spread over the lanes) and D ≤ 128 (its unrolled D loops took lavapipe's
  // LLVM 15 s to compile at D = 200, 6 s at 128, 3.5 s at 64), else the blocked one; GPUs: tiled.
  const cpu = sg && sg <= 32 && d <= 128 ? 'broadcast' : 'blocked';
  const variant = want ?? (device.adapter.isSoftware ? cpu : 'tiled');
  const plans = plansFor(d, variant, device.limits, sg);
  for (const kernel of ['fwd', 'dq', 'dkv'] as const) {
    const needs = { size: [plans[kernel].wg] as const, bytes: attentionWorkgroupBytes(d, kernel, plans[kernel]) };
    if (want) requireWorkgroupFits(`attention (${kernel}, D = ${d})`, want, needs, device.limits);
    // 'row' needs 32 invocations and no workgroup storage: within every device's limits
    else if (workgroupMisfit(needs, device.limits)) return { variant: 'row', plans: plansFor(d, 'row', device.limits) };
  }
  return { variant, plans };
}

function plansFor(d: number, variant: AttentionVariant, limits: DeviceLimits, sg: number | null = null): AttentionPlans {
  const wgBytes = limits.maxComputeWorkgroupStorageSize;
  return {
    fwd: attentionPlan(d, 'fwd', variant, wgBytes, sg),
    dq: attentionPlan(d, 'dq', variant, wgBytes, sg),
    dkv: attentionPlan(d, 'dkv', variant, wgBytes, sg),
  };
}

/** Dispatches the forward kernel on `ts` (q, k, v, o[, lse]) for bh heads of tq queries and tk keys. */
function forward(
  op: string,
  ts: Tensor[],
  d: number,
  st: AttentionStorage,
  plan: AttentionPlan,
  n: { bh: number; tq: number; tk: number; scale: number },
  layout: AttentionForwardLayout,
): void {
  if (n.bh * n.tq === 0) return;
  const qBlocks = Math.ceil(n.tq / plan.r);
  const params = new Params()
    .u32(n.bh, n.tq, n.tk)
    .f32(n.scale)
    .u32(qBlocks, Math.ceil(d / 4))
    .bytes();
  rt().dispatch(
    attentionForwardKernel(d, st, plan, layout),
    params,
    ts.map((t) => buf(op, t)),
    attentionGrid(qBlocks, n.bh, plan),
  );
}

/** Largest head dimension D the kernels are compiled for (private arrays of 2·R·D floats). */
export const ATTENTION_MAX_D = 256;

/** The storage dtypes of q, k, v (each its own) and of the result, checked. */
function attentionStorage(op: string, q: Tensor, k: Tensor, v: Tensor, outDtype: AttentionOptions['outDtype']): AttentionStorage {
  const st: AttentionStorage = {
    q: checkStorage(op, q, 'q'),
    k: checkStorage(op, k, 'k'),
    v: checkStorage(op, v, 'v'),
    o: outDtype ?? 'f32',
  };
  if (st.o !== 'f32' && st.o !== 'f16') throw new DTypeError(`${op}: outDtype must be f32 or f16, got ${st.o as string}`);
  if (st.o === 'f16') requireF16(op);
  return st;
}

/**
 * softmax(q·kᵀ·scale)·v over the last two axes: q [..., Tq, D], k and v [..., Tk, D] with the same
 * leading (batch, head) axes, e.g. [B, H, T, D] or [B, T, D]; returns [..., Tq, D]. Memory is linear
 * in T: no Tq×Tk matrix is stored, forward or backward. q, k, v may be f16 (storage only: loaded as
 * f32, see AttentionStorage); gradients are f32.
 * @example const o = attention(q, k, v); // q, k, v: [B, H, T, D]
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'attention';
  checkTensor(op, q, 'q');
  checkTensor(op, k, 'k');
  checkTensor(op, v, 'v');
  const st = attentionStorage(op, q, k, v, opts.outDtype);
  if (st.o === 'f16' && needsGrad(q, k, v))
    throw new DTypeError(`${op}: an f16 result is not differentiable; use outDtype 'f32' when q, k or v requires a gradient`);
  const shapes = `q=${fmtShape(q.shape)} k=${fmtShape(k.shape)} v=${fmtShape(v.shape)}`;
  if (q.rank < 2) throw new ShapeError(`${op}: q, k and v must have rank ≥ 2 ([..., T, D]), got ${shapes}`);
  if (k.rank !== q.rank || v.rank !== q.rank) throw new ShapeError(`${op}: q, k and v must have the same rank, got ${shapes}`);
  if (k.shape.some((n, i) => n !== v.shape[i])) throw new ShapeError(`${op}: k and v must have the same shape [..., Tk, D], got ${shapes}`);
  const r = q.rank;
  if (q.shape.slice(0, r - 2).some((n, i) => n !== k.shape[i])) {
    throw new ShapeError(`${op}: the leading (batch, head) axes of q and k differ: ${shapes}`);
  }
  const d = q.shape[r - 1],
    tq = q.shape[r - 2],
    tk = k.shape[r - 2];
  if (k.shape[r - 1] !== d) throw new ShapeError(`${op}: head dimensions differ: ${shapes} (${d} vs ${k.shape[r - 1]})`);
  if (d < 1 || d > ATTENTION_MAX_D) throw new ShapeError(`${op}: head dimension D must be in 1..${ATTENTION_MAX_D}, got ${d} (${shapes})`);
  const bh = q.shape.slice(0, r - 2).reduce((a, b) => a * b, 1);
  if (tk === 0 && bh * tq > 0) throw new ShapeError(`${op}: no keys to attend to (Tk = 0): ${shapes}`);
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new ShapeError(`${op}: scale must be a finite number, got ${scale}`);

  const { plans } = attentionLayout(d, opts.variant, rt());
  const out = Tensor.empty(q.shape, st.o, op);
  if (!needsGrad(q, k, v)) {
    // inference: no log-sum-exp to keep for backward
    forward(op, [q, k, v, out], d, st, plans.fwd, { bh, tq, tk, scale }, { lse: false });
    return out;
  }
  const lse = Tensor.empty(q.shape.slice(0, r - 1), 'f32', `${op}.lse`);
  const chunks = Math.ceil(d / 4);
  forward(op, [q, k, v, out, lse], d, st, plans.fwd, { bh, tq, tk, scale }, {});
  record(
    op,
    [q, k, v],
    out,
    (g, [qs, ks, vs, os, ls]) => {
      const bop = `${op}.backward`;
      const dq = Tensor.empty(qs.shape, 'f32', `${op}.dq`);
      const dk = Tensor.empty(ks.shape, 'f32', `${op}.dk`);
      const dv = Tensor.empty(vs.shape, 'f32', `${op}.dv`);
      const delta = Tensor.empty(ls.shape, 'f32', `${op}.delta`);
      if (bh * tq > 0) {
        const qBlocks = Math.ceil(tq / plans.dq.r);
        const params = new Params().u32(bh, tq, tk).f32(scale).u32(qBlocks, chunks).bytes();
        rt().dispatch(
          attentionBackwardDqKernel(d, st, plans.dq),
          params,
          [qs, ks, vs, os, ls, g, dq, delta].map((t) => buf(bop, t)),
          attentionGrid(qBlocks, bh, plans.dq),
        );
      }
      if (bh * tk > 0) {
        // With Tq = 0 this writes dK = dV = 0 (the loop over queries is empty).
        const kBlocks = Math.ceil(tk / plans.dkv.r);
        const params = new Params().u32(bh, tq, tk).f32(scale).u32(kBlocks, chunks).bytes();
        rt().dispatch(
          attentionBackwardDkvKernel(d, st, plans.dkv),
          params,
          [qs, ks, vs, ls, delta, g, dk, dv].map((t) => buf(bop, t)),
          attentionGrid(kBlocks, bh, plans.dkv),
        );
      }
      return [dq, dk, dv];
    },
    [q, k, v, out, lse],
  );
  lse.dispose();
  return out;
}

/**
 * attention() with the heads packed in the last axis, as the linear layers around it lay them out:
 * q [B, Tq, H·D], k and v [B, Tk, H·D] → [B, Tq, H·D]. The same numbers, bit for bit, as splitting
 * the heads ([B, H, T, D] by reshape + permute), attention() and merging them back. Without a
 * gradient that is one kernel reading and writing the packed rows (no permute copies, no
 * log-sum-exp); with one, it is that composition (attention's backward works on [B, H, T, D]).
 * @example const o = attentionHeads(q, k, v, 3); // q, k, v: [B, L, 192] → o: [B, L, 192], 3 heads of 64
 */
export function attentionHeads(q: Tensor, k: Tensor, v: Tensor, heads: number, opts: AttentionOptions = {}): Tensor {
  const op = 'attentionHeads';
  checkTensor(op, q, 'q');
  checkTensor(op, k, 'k');
  checkTensor(op, v, 'v');
  const shapes = `q=${fmtShape(q.shape)} k=${fmtShape(k.shape)} v=${fmtShape(v.shape)}`;
  if (!Number.isInteger(heads) || heads < 1) throw new ShapeError(`${op}: heads must be a positive integer, got ${heads} (${shapes})`);
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) throw new ShapeError(`${op}: q, k and v must be [B, T, heads·D], got ${shapes}`);
  const [B, tq, hd] = q.shape,
    tk = k.shape[1];
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[2] !== hd || v.shape[2] !== hd || v.shape[1] !== tk) {
    throw new ShapeError(`${op}: expected q [B, Tq, E], k and v [B, Tk, E] with the same B and E, got ${shapes}`);
  }
  if (hd % heads !== 0) throw new ShapeError(`${op}: the last axis (${hd}) is not a multiple of heads (${heads}): ${shapes}`);
  const d = hd / heads;
  if (needsGrad(q, k, v)) {
    const split = (t: Tensor) => t.reshape([B, t.shape[1], heads, d]).permute([0, 2, 1, 3]);
    return attention(split(q), split(k), split(v), opts).permute([0, 2, 1, 3]).reshape([B, tq, hd]);
  }
  if (d > ATTENTION_MAX_D) throw new ShapeError(`${op}: head dimension D = ${hd}/${heads} must be in 1..${ATTENTION_MAX_D} (${shapes})`);
  if (tk === 0 && B * tq > 0) throw new ShapeError(`${op}: no keys to attend to (Tk = 0): ${shapes}`);
  const st = attentionStorage(op, q, k, v, opts.outDtype);
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  if (!Number.isFinite(scale)) throw new ShapeError(`${op}: scale must be a finite number, got ${scale}`);
  const { plans } = attentionLayout(d, opts.variant, rt());
  const out = Tensor.empty(q.shape, st.o, op);
  forward(op, [q, k, v, out], d, st, plans.fwd, { bh: B * heads, tq, tk, scale }, { heads, lse: false });
  return out;
}
