/**
 * Initialisation of a fresh YOLOS, generated on the GPU from one seed (parameter k uses seed·10007 + k,
 * so the same seed gives the same model in Node and in browsers).
 *  - 'hf': the original code — ViT Linear/conv weights N(0, 0.02²) (timm trunc-normal at ±2, i.e.
 *    ±100σ: no truncation in practice), biases 0, LayerNorm 1/0, [CLS]/[DET]/position embeddings
 *    N(0, 0.02²); the two heads keep PyTorch's default Linear init U(±1/√fan_in) (spec §2.9).
 *  - 'fanin': the from-scratch recipe that escapes DETR's "mean box" plateau (training issue): ViT
 *    weight matrices and the patch projection N(0, 1/fan_in) clamped at ±2σ; [CLS], [DET] and
 *    position embeddings N(0, 0.5²); heads as above.
 */
import { randn, rand, full, scope, keep, type Tensor } from '../engine/index.ts';
import type { YolosConfig } from './config.ts';

export type InitScheme = 'hf' | 'fanin';

function kind(name: string): 'head' | 'ln' | 'bias' | 'token' | 'matrix' {
  if (name.startsWith('class_labels_classifier') || name.startsWith('bbox_predictor')) return 'head';
  if (name.includes('layernorm')) return 'ln';
  if (name.endsWith('.bias')) return 'bias';
  if (name.endsWith('_token') || name.endsWith('tokens') || name.includes('position_embeddings')) return 'token';
  return 'matrix';
}

export function initParameters(c: YolosConfig, shapes: [string, number[]][], seed: number, scheme: InitScheme): Map<string, Tensor> {
  const params = new Map<string, Tensor>();
  shapes.forEach(([name, shape], k) => {
    const s = seed * 10007 + k;
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[0];
    const t = scope(() => {
      switch (kind(name)) {
        case 'ln': return name.endsWith('weight') ? full(shape, 1) : full(shape, 0);
        case 'bias': return full(shape, 0);
        case 'head': {
          // PyTorch nn.Linear default: weight and bias U(±1/√in_features)
          const inFeatures = name.endsWith('.bias') ? c.hidden_size : fanIn;
          const bound = 1 / Math.sqrt(inFeatures);
          return rand(shape, { seed: s, low: -bound, high: bound });
        }
        case 'token': return randn(shape, { seed: s, std: scheme === 'fanin' ? 0.5 : 0.02 });
        case 'matrix': {
          if (scheme === 'hf') return randn(shape, { seed: s, std: 0.02 });
          const std = 1 / Math.sqrt(fanIn);
          return randn(shape, { seed: s, std }).maximum(-2 * std).minimum(2 * std);
        }
      }
    });
    keep(t);
    t.requiresGrad = true;
    params.set(name, t);
  });
  return params;
}
