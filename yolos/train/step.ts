/**
 * One optimisation step, shared by the Node trainer and the browser page: forward, set loss (the
 * matcher's readback is the step's one sync point), backward, global-norm clip, AdamW, and the
 * scalars read back for logging. Every tensor it makes is freed before it returns.
 */
import { tensor, scope } from '../../engine/index.ts';
import { gradNorm as globalGradNorm, type AdamW } from '../../engine/optim/index.ts';
import type { Yolos } from '../model.ts';
import type { SetCriterion } from '../criterion.ts';

export interface StepLosses {
  loss: number;
  lossCe: number;
  lossBbox: number;
  lossGiou: number;
  classError: number;
  cardinalityError: number;
  gradNorm: number;
}

/**
 * @param pixels [B, 3, H, W] normalised images (zero-padded), as from `collate`
 * @param targets per image: class indices (0…numLabels−1) and cxcywh boxes
 */
export async function trainStep(
  model: Yolos, optimizer: AdamW, criterion: SetCriterion,
  pixels: Float32Array, shape: [number, number, number, number],
  targets: { labels: Int32Array; boxes: Float32Array }[],
  { lr, clip }: { lr: number; clip: number },
): Promise<StepLosses> {
  optimizer.setLr(lr);
  const x = tensor(pixels, shape);
  const outputs = scope(() => model.forward(x)); // forward
  const l = await criterion.forward(outputs, targets); // set loss (sync: the matcher's cost matrix)
  l.loss.backward(); // backward
  const norm = globalGradNorm(model.parameters()); // the global norm, on the GPU
  optimizer.step({ clip: { norm, maxNorm: clip } }); // AdamW on the clipped gradients (clip fused in)
  optimizer.zeroGrad();
  // log: the scalars (the GPU has finished the step when they arrive)
  const [loss, lossCe, lossBbox, lossGiou, gradNorm] = await Promise.all([l.loss.item(), l.lossCe.item(), l.lossBbox.item(), l.lossGiou.item(), norm.item()]);
  for (const t of [x, outputs.logits, outputs.boxes, l.loss, l.lossCe, l.lossBbox, l.lossGiou, norm]) t.dispose();
  return { loss, lossCe, lossBbox, lossGiou, classError: l.classError, cardinalityError: l.cardinalityError, gradNorm };
}
