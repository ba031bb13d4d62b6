/** Optimiser parameter groups for YOLOS (browser-safe: the Node trainer and the web page share it). */
import type { Tensor } from '../../engine/index.ts';
import type { Yolos } from '../model.ts';

/** Parameter groups of spec §6.1: no weight decay on ViT biases, norms, tokens and the first-layer position embeddings. */
export function parameterGroups(model: Yolos, weightDecay: number): { params: Tensor[]; weightDecay: number }[] {
  const decay: Tensor[] = [], noDecay: Tensor[] = [];
  for (const [name, p] of model.namedParameters()) {
    const head = name.startsWith('class_labels_classifier') || name.startsWith('bbox_predictor');
    const skip = !head && (p.rank === 1 || name.endsWith('.bias') || name.endsWith('cls_token') || name.endsWith('detection_tokens') || name.endsWith('embeddings.position_embeddings'));
    (skip ? noDecay : decay).push(p);
  }
  return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
}
