/**
 * f16 inference mode (Yolos.to): the matmul weights — every Linear weight [out, in] and the patch
 * projection [D, C, P, P], which forward reshapes into a matmul operand — are stored in f16; matmul
 * reads them as f16 and accumulates in f32. Biases, LayerNorm, the tokens and the position
 * embeddings stay f32: the ops that use them (add, layerNorm, the bicubic resize) refuse f16, and
 * they are < 3% of the weights. Activations stay f32 between ops (the fused epilogues add an f32
 * bias and residual). Error of one output: each weight moves by ≤ 2⁻¹¹ relative, so a dot product
 * moves by ≤ 2⁻¹¹·Σ|w·x| (plus f32's own K·2⁻²⁴·Σ|w·x|).
 */
import { type Tensor, keep, noGrad, DTypeError, requireF16 } from '../engine/index.ts';

/** What to('f16') changed, so to('f32') can undo it. */
export interface HalfState {
  /** The f32 weights replaced by f16 copies (exact restore), or null when to('f16', { keepF32: false }) freed them. */
  master: Map<string, Tensor> | null;
  /** Every parameter's requiresGrad before: f16 mode freezes them all (inference only). */
  requiresGrad: Map<string, boolean>;
}

/** The parameters stored in f16: the matrices matmul reads (LayerNorm weights are rank 1). */
export function isMatmulWeight(name: string, t: Tensor): boolean {
  return name.endsWith('.weight') && t.rank >= 2;
}

/** Replaces the matmul weights in `params` by f16 copies; throws a DTypeError naming the adapter without 'shader-f16'. */
export function toHalf(params: Map<string, Tensor>, keepF32: boolean): HalfState {
  requireF16("Yolos.to('f16')");
  const state: HalfState = { master: keepF32 ? new Map() : null, requiresGrad: new Map() };
  for (const [name, t] of params) {
    state.requiresGrad.set(name, t.requiresGrad);
    if (!isMatmulWeight(name, t)) {
      t.requiresGrad = false;
      continue;
    }
    const half = keep(noGrad(() => t.cast('f16')));
    params.set(name, half);
    if (state.master) {
      t.requiresGrad = false;
      state.master.set(name, t);
    } else t.dispose();
  }
  return state;
}

/** Undoes toHalf: the kept f32 weights (bit-exact), or else the f16 values widened (exact, but rounded once). */
export function toFull(params: Map<string, Tensor>, state: HalfState): void {
  for (const [name, t] of params) {
    if (t.dtype === 'f16') {
      const full = state.master?.get(name) ?? keep(noGrad(() => t.cast('f32')));
      t.dispose();
      params.set(name, full);
    }
    params.get(name)!.requiresGrad = state.requiresGrad.get(name) ?? true;
  }
  state.master = null;
}

/** Frees the f32 copies kept by toHalf. */
export function disposeHalf(state: HalfState | null): void {
  state?.master?.forEach((t) => t.dispose());
}

/** The error of operations that need f32 parameters (training, saving, loading) on a model in f16 mode. */
export function f16ModeError(op: string): DTypeError {
  return new DTypeError(
    `${op}: the model is in f16 inference mode (f16 weights cannot require gradients or be written as F32); call model.to('f32') first`,
  );
}
