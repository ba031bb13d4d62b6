/**
 * One optimisation step of the ViT classifier: forward, cross-entropy, backward, global-norm clip and
 * AdamW in one `scope` (everything the step made is freed but the loss, read back once).
 */
import { tensor, scope, crossEntropy, optim, type Tensor } from '../../engine/index.ts';
import type { ViTClassifier } from './vit-classifier.ts';

/** AdamW over the classifier: weight decay on the weight matrices only (not biases, LayerNorms, tokens, PEs). */
export function classifierOptimizer(model: ViTClassifier, { lr, weightDecay }: { lr: number; weightDecay: number }): optim.AdamW {
  const decay: Tensor[] = [],
    noDecay: Tensor[] = [];
  for (const [name, t] of model.params) {
    const skip = name.endsWith('.bias') || name.includes('layernorm') || name.endsWith('cls_token') || name.endsWith('position_embeddings');
    (skip ? noDecay : decay).push(t);
  }
  return new optim.AdamW(
    [
      { params: decay, weightDecay },
      { params: noDecay, weightDecay: 0 },
    ],
    { lr, betas: [0.9, 0.999], eps: 1e-8 },
  );
}

/**
 * @param pixels [B, 3, S, S] normalised images; labels [B] class indices
 * @returns the batch's mean cross-entropy before the update
 */
export async function classifyStep(
  model: ViTClassifier,
  optimizer: optim.AdamW,
  pixels: Float32Array,
  labels: Int32Array,
  { lr, clip }: { lr: number; clip: number },
): Promise<number> {
  const S = model.config.image_size,
    B = labels.length;
  optimizer.setLr(lr);
  const loss = scope(() => {
    const l = crossEntropy(model.forward(tensor(pixels, [B, model.config.num_channels, S, S])), tensor(labels, [B]));
    l.backward();
    optimizer.step({ clip: { norm: optim.gradNorm(model.parameters()), maxNorm: clip } });
    optimizer.zeroGrad();
    return l;
  });
  try {
    return ((await loss.data()) as Float32Array)[0];
  } finally {
    loss.dispose();
  }
}
