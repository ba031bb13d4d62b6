/**
 * What each YOLOS parameter is, from its (Hugging Face) name: the one classifier behind both the
 * initialisation (init.ts) and the weight-decay groups (train/groups.ts), so the two cannot disagree.
 *
 * The mid-layer position embeddings (`vit.encoder.mid_position_embeddings`, S/B only) are their own
 * role because the original code treats them like the other position embeddings at init
 * (trunc-normal 0.02) but not in the optimizer: its no-decay list names `pos_embed`, `cls_token`,
 * `det_token`, 1-D tensors and biases only, and the mid PEs are 4-D, so they ARE weight-decayed
 * [Y:backbone.py, Y:main.py].
 */

export type ParamRole =
  /** the class and box MLP heads, weights and biases (PyTorch's default Linear init; decayed) */
  | 'head'
  /** LayerNorm weights and biases */
  | 'norm'
  /** ViT biases (patch projection, attention, MLP) */
  | 'bias'
  /** the [CLS] and [DET] tokens */
  | 'token'
  /** the first-layer position-embedding table ([CLS], patch and [DET] rows) */
  | 'position'
  /** the mid-layer position embeddings (decayed, unlike `position`) */
  | 'mid-position'
  /** ViT weight matrices and the patch projection */
  | 'matrix';

/**
 * @example paramRole('vit.encoder.layer.0.layernorm_before.bias') // 'norm'
 * @example paramRole('vit.encoder.mid_position_embeddings') // 'mid-position'
 */
export function paramRole(name: string): ParamRole {
  if (name.startsWith('class_labels_classifier.') || name.startsWith('bbox_predictor.')) return 'head';
  if (name.includes('layernorm')) return 'norm';
  if (name.endsWith('.bias')) return 'bias';
  if (name.endsWith('cls_token') || name.endsWith('detection_tokens')) return 'token';
  if (name.endsWith('mid_position_embeddings')) return 'mid-position';
  if (name.endsWith('position_embeddings')) return 'position';
  return 'matrix';
}
