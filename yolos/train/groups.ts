/** Optimiser parameter groups for YOLOS (browser-safe: the Node trainer and the web page share it). */
import type { Tensor } from '../../engine/index.ts';
import type { Yolos } from '../model.ts';
import { paramRole, type ParamRole } from '../param-roles.ts';

/**
 * Weight decay by role, as the original code's groups [Y:main.py]: the heads (biases included), the
 * ViT matrices and the mid-layer position embeddings are decayed; ViT biases, norms, the [CLS]/[DET]
 * tokens and the first-layer position embeddings are not.
 */
const DECAYED: Record<ParamRole, boolean> = {
  head: true,
  matrix: true,
  'mid-position': true,
  norm: false,
  bias: false,
  token: false,
  position: false,
};

/**
 * Two groups, decayed and not; frozen parameters (requiresGrad false, e.g. after freezeBackbone) are
 * left out, and a group left empty is dropped.
 * @example new AdamW(parameterGroups(model, 1e-4), { lr: 5e-4 })
 */
export function parameterGroups(model: Yolos, weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  const decay: Tensor[] = [],
    noDecay: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    if (!p.requiresGrad) continue;
    (DECAYED[paramRole(name)] ? decay : noDecay).push(p);
  }
  const groups = [
    { params: decay, weightDecay },
    { params: noDecay, weightDecay: 0 },
  ].filter((g) => g.params.length > 0);
  if (!groups.length) throw new Error('parameterGroups: every parameter of the model is frozen (requiresGrad false); nothing to train');
  return groups;
}
