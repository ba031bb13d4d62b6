/**
 * clipGradNorm: PyTorch's clip_grad_norm_ (L2) without reading anything back. The global norm
 * √(Σ over all gradients of Σg²) is reduced on the GPU into one buffer (kernels/wgsl/clip.wgsl.ts:
 * partial sums of squares of as many gradients per launch as the adapter's storage-buffer limit
 * allows, into disjoint slots of one buffer, one final reduce: `gradNorm`), and every gradient is
 * scaled in place by min(1, maxNorm / (norm + 1e-6)) by a kernel that reads that buffer.
 * ⌈gradients / per launch⌉ + 1 + gradients dispatches (per launch: 15 on lavapipe, 7 under WebGPU's
 * default limits), no sync point.
 * @example
 * const norm = clipGradNorm(model.parameters(), 1.0); // a scalar Tensor; read it only when logging
 */
import { Tensor } from '../tensor.ts';
import { EngineError, ShapeError, fmtShape } from '../errors.ts';
import type { Storage } from '../storage.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d, gridRows } from '../kernels/wgsl/common.ts';
import { CLIP_CHUNK, SUMSQ_MAX_GRADS, sumsqKernel, normKernel, scaleKernel } from '../kernels/wgsl/clip.wgsl.ts';
import { buf } from '../ops/run.ts';
import { full } from '../ops/creation.ts';

/**
 * The global L2 norm √(Σ g²) over the gradients of `params` (those that have one), as a rank-0 f32
 * tensor on the GPU (the caller owns it); gradients are not changed. 0 when there are none.
 */
export function gradNorm(params: Iterable<Tensor>): Tensor {
  return normOf(gradientsOf(params, 'gradNorm'));
}

/**
 * Scales the gradients of `params` (those that have one) so that their global L2 norm is at most
 * `maxNorm`, in place; returns the norm before clipping as a rank-0 f32 tensor (the caller owns it).
 * (AdamW.step({ clip: { norm: gradNorm(ps), maxNorm } }) applies the same coefficient inside the
 * update instead, bit for bit, without writing the gradients: one launch less per parameter.)
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): Tensor {
  checkMaxNorm('clipGradNorm', maxNorm);
  const grads = gradientsOf(params, 'clipGradNorm');
  const norm = normOf(grads);
  const r = rt();
  // Gradients that share storage (autograd may hand one tensor to two parameters) are scaled once.
  const scaled = new Set<Storage>();
  for (const g of grads) {
    const s = g.storageFor('clipGradNorm');
    if (scaled.has(s)) continue;
    scaled.add(s);
    r.dispatch(
      scaleKernel(),
      new Params().u32(g.size).f32(maxNorm).bytes(),
      [buf('clipGradNorm', norm), buf('clipGradNorm', g)],
      grid1d(g.size),
    );
    g.version++;
  }
  return norm;
}

export function checkMaxNorm(op: string, maxNorm: number): void {
  if (!(maxNorm >= 0) || !Number.isFinite(maxNorm)) throw new EngineError(`${op}: maxNorm must be a finite number ≥ 0, got ${maxNorm}`);
}

/** The non-empty f32 gradients of `params`. */
function gradientsOf(params: Iterable<Tensor>, op: string): Tensor[] {
  const grads: Tensor[] = [];
  for (const p of params) {
    const g = p.grad;
    if (!g || g.disposed) continue;
    if (g.dtype !== 'f32') throw new ShapeError(`${op}: gradient of dtype ${g.dtype}${fmtShape(g.shape)}; expected f32`);
    if (g.size > 0) grads.push(g);
  }
  return grads;
}

/**
 * @internal gradNorm with `perLaunch` gradients per sum-of-squares launch (tests compare counts: the
 * result is the same bits for any).
 */
export function gradNormWith(params: Iterable<Tensor>, perLaunch: number): Tensor {
  return normOf(gradientsOf(params, 'gradNorm'), perLaunch);
}

/** Gradients per sum-of-squares launch: one storage buffer each, beside the partials. */
function sumsqGradsPerLaunch(): number {
  return Math.max(1, Math.min(SUMSQ_MAX_GRADS, rt().limits.maxStorageBuffersPerShaderStage - 1));
}

/** √(Σ g²) over `grads`: partial sums of squares (`perLaunch` gradients a launch) into disjoint slots, then one final reduce. */
function normOf(grads: Tensor[], perLaunch = sumsqGradsPerLaunch()): Tensor {
  if (grads.length === 0) return full([], 0);
  const r = rt();
  const slots = grads.map((g) => Math.ceil(g.size / CLIP_CHUNK));
  const total = slots.reduce((a, b) => a + b, 0);
  const partials = Tensor.empty([total], 'f32', 'clipGradNorm');
  if (!(Number.isInteger(perLaunch) && perLaunch >= 1 && perLaunch <= SUMSQ_MAX_GRADS))
    throw new EngineError(`gradNorm: ${perLaunch} gradients per launch (expected an integer in [1, ${SUMSQ_MAX_GRADS}])`);
  for (let slot = 0, i = 0; i < grads.length; i += perLaunch) {
    const group = grads.slice(i, i + perLaunch);
    const ends: number[] = [];
    let end = 0;
    for (let b = 0; b < group.length; b++) ends.push((end += slots[i + b]));
    const p = new Params()
      .u32(slot, CLIP_CHUNK)
      .vec4Array(
        group.map((g) => g.size),
        SUMSQ_MAX_GRADS / 4,
      )
      .vec4Array(ends, SUMSQ_MAX_GRADS / 4);
    r.dispatch(
      sumsqKernel(group.length),
      p.bytes(),
      [...group, partials].map((t) => buf('clipGradNorm', t)),
      gridRows(end),
    );
    slot += end;
  }
  const norm = Tensor.empty([], 'f32', 'clipGradNorm');
  r.dispatch(normKernel(), new Params().u32(total).bytes(), [buf('clipGradNorm', partials), buf('clipGradNorm', norm)], [1]);
  partials.dispose();
  return norm;
}
