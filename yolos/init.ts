/**
 * Initialisation of a fresh YOLOS, generated on the GPU from one seed (parameter k uses seed·10007 + k,
 * so the same seed gives the same model in Node and in browsers).
 *  - 'hf': the original code — ViT Linear/conv weights N(0, 0.02²) (timm trunc-normal at ±2, i.e.
 *    ±100σ: no truncation in practice), biases 0, LayerNorm 1/0, [CLS]/[DET]/position embeddings
 *    N(0, 0.02²); the two heads keep PyTorch's default Linear init U(±1/√fan_in) [Y:backbone.py].
 *  - 'fanin': for training from scratch: it escapes the plateau where every query predicts one mean box: ViT
 *    weight matrices and the patch projection N(0, 1/fan_in) clamped at ±2σ; [CLS], [DET] and
 *    position embeddings (first-layer and mid) N(0, 0.5²); heads as above.
 * What a parameter is comes from paramRole (param-roles.ts), which the weight-decay groups share.
 */
import { randn, rand, full, scope, keep, type Tensor } from '../engine/index.ts';
import type { YolosConfig } from './config.ts';
import { paramRole } from './param-roles.ts';

export type InitScheme = 'hf' | 'fanin';

export function initParameters(c: YolosConfig, shapes: [string, number[]][], seed: number, scheme: InitScheme): Map<string, Tensor> {
  const params = new Map<string, Tensor>();
  shapes.forEach(([name, shape], k) => {
    const s = seed * 10007 + k;
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[0];
    const t = scope(() => {
      switch (paramRole(name)) {
        case 'norm':
          return name.endsWith('weight') ? full(shape, 1) : full(shape, 0);
        case 'bias':
          return full(shape, 0);
        case 'head': {
          // PyTorch nn.Linear default: weight and bias U(±1/√in_features)
          const inFeatures = name.endsWith('.bias') ? c.hidden_size : fanIn;
          const bound = 1 / Math.sqrt(inFeatures);
          return rand(shape, { seed: s, low: -bound, high: bound });
        }
        case 'token':
        case 'position':
        case 'mid-position':
          return randn(shape, { seed: s, std: scheme === 'fanin' ? 0.5 : 0.02 });
        case 'matrix': {
          if (scheme === 'hf') return randn(shape, { seed: s, std: 0.02 });
          const std = 1 / Math.sqrt(fanIn);
          return randn(shape, { seed: s, std })
            .maximum(-2 * std)
            .minimum(2 * std);
        }
      }
    });
    keep(t);
    t.requiresGrad = true;
    params.set(name, t);
  });
  return params;
}

/**
 * One head tensor of `shapes` with PyTorch's default Linear init, U(±1/√in_features) for weight and
 * bias — the values initParameters gives it for the same seed (same stream seed·10007 + k), so a head
 * re-initialised for a new label set equals that of a fresh model of the new config.
 */
export function initHeadTensor(c: YolosConfig, shapes: [string, number[]][], name: string, seed: number): Tensor {
  const k = shapes.findIndex(([n]) => n === name);
  if (k < 0 || paramRole(name) !== 'head') throw new Error(`initHeadTensor: '${name}' is not a head tensor of this config`);
  const shape = shapes[k][1];
  const inFeatures = name.endsWith('.bias') ? c.hidden_size : shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(inFeatures);
  const t = keep(scope(() => rand(shape, { seed: seed * 10007 + k, low: -bound, high: bound })));
  t.requiresGrad = true;
  return t;
}
