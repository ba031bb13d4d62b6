/**
 * One optimisation step, shared by the Node trainer and the browser page, DETR's way: forward, match
 * (the step's one sync point: the matcher's cost matrices read back and the assignments solved on the
 * CPU), then set loss, backward, global-norm clip and AdamW in one `scope`, which frees everything the
 * step made except the logged scalars it returns (one tensor, read back once). The forward's outputs
 * cross the wait for the matching, so they are freed when the step ends, whatever happens.
 */
import { tensor, scope, noGrad, concat, optim } from '../../engine/index.ts';

const globalGradNorm = optim.gradNorm;
type AdamW = optim.AdamW;
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
  model: Yolos,
  optimizer: AdamW,
  criterion: SetCriterion,
  pixels: Float32Array,
  shape: [number, number, number, number],
  targets: { labels: Int32Array; boxes: Float32Array }[],
  { lr, clip }: { lr: number; clip: number },
): Promise<StepLosses> {
  optimizer.setLr(lr);
  // forward (recorded; the input is freed here, the graph keeps its own handle on what backward needs)
  const outputs = scope(() => model.forward(tensor(pixels, shape)));
  try {
    const matching = await criterion.match(outputs, targets); // sync: the cost matrices (and arg-max) read back
    const logged = scope(() => {
      const l = criterion.loss(outputs, targets, matching); // set loss
      l.loss.backward(); // backward
      const norm = globalGradNorm(model.parameters()); // clip: the global norm, on the GPU …
      optimizer.step({ clip: { norm, maxNorm: clip } }); // … fused into AdamW on the clipped gradients
      optimizer.zeroGrad();
      // log: the five scalars as one tensor, read back with one copy after the scope
      const scalars = noGrad(() => concat([l.loss, l.lossCe, l.lossBbox, l.lossGiou, norm].map((t) => t.reshape([1]))));
      return { scalars, classError: l.classError, cardinalityError: l.cardinalityError };
    });
    // sync: the GPU has finished the step when the values arrive
    const [loss, lossCe, lossBbox, lossGiou, gradNorm] = await logged.scalars.data().finally(() => logged.scalars.dispose());
    return { loss, lossCe, lossBbox, lossGiou, classError: logged.classError, cardinalityError: logged.cardinalityError, gradNorm };
  } finally {
    outputs.logits.dispose();
    outputs.boxes.dispose();
  }
}
