/**
 * ViTForImageClassification (Dosovitskiy et al. 2020) on this engine, in Hugging Face's layout, read
 * top-down: patch embedding ‖ [CLS] + position embeddings → the pre-norm blocks YOLOS uses → final
 * LayerNorm → a Linear classifier on [CLS]. Its safetensors + config.json are the files a Hub ViT
 * checkpoint has, so a backbone pre-trained here reaches a detector by the path real ones take
 * (Yolos.fromBackbone / --init-from). Shapes: B batch, N = (S/P)² patches, L = 1 + N, D width, K classes.
 */
import { Tensor, keep, noGrad, needsGrad, concat, attention, scope, randn, full, ShapeError } from '../../engine/index.ts';
import { readSafetensors, writeSafetensors } from '../safetensors.ts';
import { checkWeights, toF32Tensor } from '../state-dict.ts';
import { parseViTConfig, vitParameterShapes, type ViTConfig } from './vit-config.ts';

/**
 * Fresh weights: 'hf' is ViT's own init (weights and tokens N(0, 0.02²), biases 0, LayerNorm 1/0);
 * 'fanin' is this project's from-scratch scheme (init.ts): weight matrices N(0, 1/fan_in) clamped at
 * ±2σ, [CLS] and position embeddings N(0, 0.5²). The classifier is N(0, 0.02²) in both.
 */
export type ViTInit = 'hf' | 'fanin';

function initTensor(name: string, shape: number[], seed: number, scheme: ViTInit): Tensor {
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  if (name.includes('layernorm')) return full(shape, name.endsWith('weight') ? 1 : 0);
  if (name.endsWith('.bias')) return full(shape, 0);
  if (name === 'classifier.weight' || scheme === 'hf') return randn(shape, { seed, std: 0.02 });
  if (name.endsWith('cls_token') || name.endsWith('position_embeddings')) return randn(shape, { seed, std: 0.5 });
  const std = 1 / Math.sqrt(fanIn);
  return randn(shape, { seed, std })
    .maximum(-2 * std)
    .minimum(2 * std);
}

/** x·Wᵀ + b (+ activation, + residual) with W [out, in], as yolos/model.ts's linear. */
function linear(x: Tensor, w: Tensor, b: Tensor, epilogue: { activation?: 'gelu'; residual?: Tensor } = {}): Tensor {
  return x.matmul(w, { transposeB: true, bias: b, ...epilogue });
}

/** softmax(q·kᵀ/√d)·v: the composition when training (faster backward at short L), else the fused kernel — as yolos/model.ts. */
function attend(q: Tensor, k: Tensor, v: Tensor): Tensor {
  if (!needsGrad(q, k, v)) return attention(q, k, v);
  return q
    .matmul(k, { transposeB: true })
    .mul(1 / Math.sqrt(q.shape[q.rank - 1]))
    .softmax(-1)
    .matmul(v);
}

export class ViTClassifier {
  readonly config: ViTConfig;
  /** Parameters by Hugging Face key, in vitParameterShapes() order. */
  readonly params: Map<string, Tensor>;

  private constructor(config: ViTConfig, params: Map<string, Tensor>) {
    this.config = config;
    this.params = params;
  }

  /** A randomly initialised classifier (parameter k from seed·10007 + k, as Yolos.create). */
  static create(config: ViTConfig | object, opts: { seed?: number; init?: ViTInit } = {}): ViTClassifier {
    const c = parseViTConfig(config, 'ViTClassifier.create: config');
    const seed = opts.seed ?? 0;
    const params = new Map<string, Tensor>();
    vitParameterShapes(c).forEach(([name, shape], k) => {
      const t = keep(scope(() => initTensor(name, shape, seed * 10007 + k, opts.init ?? 'hf')));
      t.requiresGrad = true;
      params.set(name, t);
    });
    return new ViTClassifier(c, params);
  }

  /**
   * Loads a ViTForImageClassification model.safetensors for its config.json (text or object). Every
   * tensor must be there with the config's shape (F32 or a dtype that widens to it exactly); other keys
   * are an error (a pooler, say) unless `strict: false`. Errors name `opts.name` and each key.
   * @example const vit = ViTClassifier.fromSafetensors(await readFile('models/vit-shapes/model.safetensors'), configText, { name: 'models/vit-shapes' });
   */
  static fromSafetensors(
    bytes: Uint8Array | ArrayBuffer,
    config: ViTConfig | object | string,
    opts: { name?: string; strict?: boolean } = {},
  ): ViTClassifier {
    const where = opts.name ?? 'ViTClassifier.fromSafetensors';
    const c = parseViTConfig(config, `${where}: config.json`);
    const file = readSafetensors(bytes, { name: opts.name });
    const expected = vitParameterShapes(c);
    checkWeights(expected, file, {
      allowMissing: false,
      allowUnexpected: opts.strict === false,
      source: 'the file',
      title: `${where}: the weights do not fit the ViT config (hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers, image_size ${c.image_size}, patch_size ${c.patch_size}, ${Object.keys(c.id2label).length} labels)`,
    });
    const params = new Map<string, Tensor>();
    for (const [name, shape] of expected) {
      const t = keep(toF32Tensor(file.get(name)!, shape));
      t.requiresGrad = true;
      params.set(name, t);
    }
    return new ViTClassifier(c, params);
  }

  /** The weights as safetensors bytes (F32, HF keys, `format: pt` metadata as transformers writes). */
  async saveSafetensors(): Promise<Uint8Array> {
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of this.params) out.set(name, { shape: [...t.shape], data: (await t.data()) as Float32Array });
    return writeSafetensors(out, { format: 'pt' });
  }

  /** config.json text, as transformers' save_pretrained writes it (2-space JSON). */
  configJson(): string {
    return `${JSON.stringify(this.config, null, 2)}\n`;
  }

  parameters(): Tensor[] {
    return [...this.params.values()];
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }

  private p(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`ViTClassifier: no parameter '${name}'`);
    return t;
  }

  /**
   * pixelValues [B, C, S, S] (ImageNet-normalised, S = config.image_size) → logits [B, K].
   * @example const logits = scope(() => vit.forward(x));
   */
  forward(pixelValues: Tensor): Tensor {
    const c = this.config,
      P = c.patch_size,
      D = c.hidden_size,
      S = c.image_size,
      h = c.num_attention_heads,
      d = D / h;
    if (pixelValues.rank !== 4 || pixelValues.shape[1] !== c.num_channels || pixelValues.shape[2] !== S || pixelValues.shape[3] !== S) {
      throw new ShapeError(
        `ViTClassifier.forward: expected pixel values [B, ${c.num_channels}, ${S}, ${S}] (the config's image_size), got [${pixelValues.shape}]`,
      );
    }
    const B = pixelValues.shape[0],
      g = S / P,
      N = g * g,
      L = 1 + N;
    // Patch embedding: the stride-P convolution as unfold + matmul.
    const patches = pixelValues
      .reshape([B, c.num_channels, g, P, g, P])
      .permute([0, 2, 4, 1, 3, 5])
      .reshape([B, N, c.num_channels * P * P]);
    const projW = this.p('vit.embeddings.patch_embeddings.projection.weight').reshape([D, c.num_channels * P * P]);
    const emb = linear(patches, projW, this.p('vit.embeddings.patch_embeddings.projection.bias')); // [B, N, D]
    const cls = this.p('vit.embeddings.cls_token').broadcastTo([B, 1, D]);
    let x = concat([cls, emb], 1).add(this.p('vit.embeddings.position_embeddings')); // [B, L, D]

    const heads = (t: Tensor) => t.reshape([B, L, h, d]).permute([0, 2, 1, 3]); // [B, h, L, d]
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const l = (n: string) => this.p(`vit.encoder.layer.${i}.${n}`);
      // x = x + Attn(LN1(x))
      const a = x.layerNorm(l('layernorm_before.weight'), l('layernorm_before.bias'), c.layer_norm_eps);
      const q = heads(linear(a, l('attention.attention.query.weight'), l('attention.attention.query.bias')));
      const k = heads(linear(a, l('attention.attention.key.weight'), l('attention.attention.key.bias')));
      const v = heads(linear(a, l('attention.attention.value.weight'), l('attention.attention.value.bias')));
      const o = attend(q, k, v).permute([0, 2, 1, 3]).reshape([B, L, D]);
      x = linear(o, l('attention.output.dense.weight'), l('attention.output.dense.bias'), { residual: x });
      // x = x + MLP(LN2(x)), exact GELU
      const m = x.layerNorm(l('layernorm_after.weight'), l('layernorm_after.bias'), c.layer_norm_eps);
      const hid = linear(m, l('intermediate.dense.weight'), l('intermediate.dense.bias'), { activation: 'gelu' }); // [B, L, F]
      x = linear(hid, l('output.dense.weight'), l('output.dense.bias'), { residual: x });
    }
    x = x.layerNorm(this.p('vit.layernorm.weight'), this.p('vit.layernorm.bias'), c.layer_norm_eps);
    const clsOut = x.slice([0, 0], [B, 1]).reshape([B, D]); // [B, D]: the [CLS] token
    return linear(clsOut, this.p('classifier.weight'), this.p('classifier.bias')); // [B, K]
  }

  /** Forward without a graph. */
  predict(pixelValues: Tensor): Tensor {
    return noGrad(() => this.forward(pixelValues));
  }
}
