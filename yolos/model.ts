/**
 * YOLOS (arXiv 2106.00666) — a plain ViT whose sequence is [CLS] ‖ patches ‖ [DET]×Q, read top-down.
 * Parameters are stored under Hugging Face's key names (Linear weights [out, in]), so a Hub `model.safetensors`
 * loads one-to-one. Shapes: B batch, C channels, H×W pixels, P patch, N = (H/P)·(W/P) patches,
 * Q detection tokens, L = 1 + N + Q tokens, D width, h heads of size d = D/h.
 */
import {
  Tensor,
  keep,
  scope,
  noGrad,
  needsGrad,
  concat,
  attentionHeads,
  checkpoint,
  ShapeError,
  DTypeError,
  type Engine,
} from '../engine/index.ts';
import { type YolosConfig, parameterShapes, peGrid, parseConfig } from './config.ts';
import { fetchPretrained, type PretrainedOptions } from './hub.ts';
import { resizeBicubic } from './interpolate.ts';
import {
  readSafetensors,
  readSafetensorsMetadata,
  safetensorsBytes,
  writeSafetensors,
  SafetensorsError,
  type SafetensorsSource,
  type SafeTensor,
} from './safetensors.ts';
import { checkWeights, toF32Tensor, copyWeightInto, type WeightValue, type WeightsCheck } from './state-dict.ts';
import { initParameters, type InitScheme } from './init.ts';
import { withLabels, reinitClassOutput } from './relabel.ts';
import { planBackbone, applyBackbone } from './backbone.ts';
import { toHalf, toFull, disposeHalf, f16ModeError, type HalfState } from './half.ts';

export interface YolosOutput {
  /** [B, Q, num_labels + 1] raw class logits; the last class is "no object". */
  logits: Tensor;
  /** [B, Q, 4] boxes (cx, cy, w, h) in [0, 1], relative to the unpadded input. */
  boxes: Tensor;
}

/**
 * softmax(q·kᵀ/√d)·v for q, k, v [B, L, h·d] (the linear layers' layout) → [B, L, h·d]. Inference
 * and long sequences use the fused kernel (memory linear in L, and faster forward; without a
 * gradient it reads and writes the packed rows, no permute copies); short sequences that need
 * gradients use the composition, whose backward measured 1.5× faster at L = 164 on lavapipe (the
 * fused backward recomputes the logits twice).
 */
function attend(q: Tensor, k: Tensor, v: Tensor, h: number): Tensor {
  const [B, L, D] = q.shape;
  if (!needsGrad(q, k, v) || L > 256) return attentionHeads(q, k, v, h);
  const heads = (t: Tensor) => t.reshape([B, L, h, D / h]).permute([0, 2, 1, 3]); // [B, h, L, d]
  const p = heads(q)
    .matmul(heads(k), { transposeB: true })
    .mul(1 / Math.sqrt(D / h))
    .softmax(-1);
  return p.matmul(heads(v)).permute([0, 2, 1, 3]).reshape([B, L, D]);
}

/**
 * act(x·Wᵀ + b) + residual with W stored [out, in] like torch.nn.Linear — one matmul kernel with a
 * fused epilogue (bias, GELU/ReLU, residual add).
 */
function linear(x: Tensor, w: Tensor, b: Tensor, epilogue: { activation?: 'gelu' | 'relu'; residual?: Tensor } = {}): Tensor {
  return x.matmul(w, { transposeB: true, bias: b, ...epilogue });
}

export class Yolos {
  readonly config: YolosConfig;
  /** Parameters by Hugging Face key, in the canonical order of parameterShapes(). */
  readonly params: Map<string, Tensor>;
  training = false;
  /**
   * Gradient checkpointing per encoder block: training keeps only each block's input and recomputes the
   * block in backward (activation memory of one block instead of all; one more forward per step).
   * Gradients are bit-identical. No effect without a graph (predict, noGrad).
   */
  checkpointBlocks = false;
  /** Set by to('f16'): what it changed (half.ts). */
  private half: HalfState | null = null;

  private constructor(config: YolosConfig, params: Map<string, Tensor>) {
    this.config = config;
    this.params = params;
  }

  /**
   * A randomly initialised model. `init: 'hf'` follows the original YOLOS (trunc-normal 0.02 ViT,
   * PyTorch-default heads); `'fanin'` is this project's from-scratch scheme (see init.ts).
   */
  static create(config: YolosConfig, opts: { seed?: number; init?: InitScheme } = {}): Yolos {
    const c = parseConfig(config);
    return new Yolos(c, initParameters(c, parameterShapes(c), opts.seed ?? 0, opts.init ?? 'hf'));
  }

  /**
   * A YOLOS whose backbone comes from an ImageNet classifier's safetensors — Hugging Face ViT
   * (`vit.*`), DeiT (`deit.*`, with or without a distillation token) or a YOLOS checkpoint — with its
   * config.json as `backboneConfig`; the rest is created as Yolos.create(yolosConfig, { seed }) does.
   * What was used, ignored and created goes to `opts.onReport` (transfer.ts's fromBackbone returns it).
   * Mismatched dims or shapes are a ShapeError naming both sides; nothing is allocated before the check.
   * @example const model = Yolos.fromBackbone(bytes, vitConfigJson, presets.tiny, { seed: 1 });
   */
  static fromBackbone(
    weights: Uint8Array | ArrayBuffer,
    backboneConfig: object | string,
    yolosConfig: YolosConfig,
    opts: BackboneOptions = {},
  ): Yolos {
    const c = parseConfig(yolosConfig);
    const name = opts.name === undefined ? 'Yolos.fromBackbone' : `Yolos.fromBackbone '${opts.name}'`;
    const file = readSafetensors(weights, { name: opts.name });
    const plan = planBackbone(file, backboneConfig, c, name);
    const model = Yolos.create(c, { seed: opts.seed, init: 'hf' });
    try {
      applyBackbone(model.params, c, file, plan);
    } catch (e) {
      model.dispose();
      throw e;
    }
    if (opts.onReport) plan.report.forEach((line) => opts.onReport!(line));
    return model;
  }

  /**
   * Loads Hub-layout safetensors for `config` (default: the file's `yolos.config` metadata). Every
   * parameter must be present with its shape, stored as F32 or a dtype that widens to it exactly (F16,
   * BF16, F8); keys that name no parameter are an error unless `strict: false`. Malformed files throw
   * a SafetensorsError, weights that do not fit a ShapeError; both name `opts.name`.
   * With `opts.id2label` (Hugging Face's ignore_mismatched_sizes=True): the model gets those labels; if
   * their count differs from the file's, the class head's last layer is re-initialised for it (seed
   * `opts.seed`) and `opts.onReport` (default console.warn) says so with both shapes; every other
   * tensor loads as stored.
   * @example const model = Yolos.fromSafetensors(bytes, config, { name: 'model.safetensors' });
   * @example const mine = Yolos.fromSafetensors(bytes, config, { id2label: { 0: 'cat', 1: 'dog' } });
   */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer, config?: YolosConfig, opts: LoadOptions = {}): Yolos {
    const file = readSafetensors(bytes, { name: opts.name });
    return Yolos.fromTensors(file, config ?? configFromMetadata(readSafetensorsMetadata(bytes, { name: opts.name }), opts.name), opts);
  }

  /**
   * fromSafetensors for tensors already read (`readSafetensors`' map, e.g. a checkpoint's `model/` tensors with
   * the prefix stripped): the same checks, dtype rules and `id2label` handling.
   */
  static fromTensors(file: ReadonlyMap<string, SafeTensor>, config: YolosConfig, opts: LoadOptions = {}): Yolos {
    const c = parseConfig(config);
    const expected = parameterShapes(c);
    const where = opts.name === undefined ? '' : ` '${opts.name}'`;
    checkWeights(expected, file, {
      allowMissing: false, // a model needs every parameter
      allowUnexpected: opts.strict === false,
      source: 'the file',
      title: `Yolos.fromSafetensors${where}: the weights do not fit the config (hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers, image_size [${c.image_size}], ${c.num_labels} labels)`,
    });
    const target = opts.id2label ? withLabels(c, opts.id2label, `Yolos.fromSafetensors${where}`) : c;
    const fresh = reinitClassOutput(c, target, opts.seed ?? 0, `Yolos.fromSafetensors${where}`);
    const params = new Map<string, Tensor>();
    for (const [name, shape] of parameterShapes(target)) {
      let t = fresh?.tensors.get(name);
      if (!t) {
        t = keep(toF32Tensor(file.get(name)!, shape));
        t.requiresGrad = true;
      }
      params.set(name, t);
    }
    if (fresh) (opts.onReport ?? console.warn)(fresh.report);
    else if (opts.id2label)
      opts.onReport?.(
        `Yolos.fromSafetensors${where}: id2label renamed (${target.num_labels} labels, as stored): every tensor is loaded as stored`,
      );
    return new Yolos(target, params);
  }

  /**
   * fromSafetensors for a Blob or File (a picked file), a fetch Response, or bytes; the File's name or
   * the Response's URL names the file in errors. A path in Node: loadYolosFile (weights-node.ts).
   * @example const model = await Yolos.load(await fetch('model.safetensors'), config);
   */
  static async load(source: SafetensorsSource, config?: YolosConfig, opts: LoadOptions = {}): Promise<Yolos> {
    const { bytes, name } = await safetensorsBytes(source, opts);
    return Yolos.fromSafetensors(bytes, config, { ...opts, name });
  }

  /**
   * A model by Hub id (`hustvl/yolos-tiny`), folder URL or, in Node, local folder: config.json and
   * model.safetensors, downloaded once and cached (see hub.ts for the options: revision, endpoint, cache,
   * offline, onProgress, signal); `id2label` fine-tunes on a new label set as in fromSafetensors.
   * @example const model = await Yolos.fromPretrained('hustvl/yolos-tiny', { onProgress: (p) => console.log(p.loaded) });
   */
  static async fromPretrained(idOrUrl: string, opts: PretrainedOptions & LoadOptions = {}): Promise<Yolos> {
    const files = await fetchPretrained(idOrUrl, opts);
    const config = parseConfig(new TextDecoder().decode(files.config));
    return Yolos.fromSafetensors(files.weights, config, { ...opts, name: files.sources.weights });
  }

  /** Yolos.load for a fetch Response (kept for older callers). */
  static async fromResponse(res: Response, config?: YolosConfig, opts: LoadOptions = {}): Promise<Yolos> {
    return Yolos.load(res, config, opts);
  }

  /** The weights as safetensors bytes (F32, Hub key names); reads every parameter back from the GPU. */
  async saveSafetensors(metadata?: Record<string, string>): Promise<Uint8Array> {
    if (this.half) throw f16ModeError('Yolos.saveSafetensors');
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [name, t] of this.params) out.set(name, { shape: [...t.shape], data: (await t.data()) as Float32Array });
    return writeSafetensors(out, metadata);
  }

  /**
   * Hugging Face key → parameter, in parameterShapes() order. The values are the parameters themselves
   * (as nn.Module's stateDict), not copies: do not dispose them.
   */
  stateDict(): Map<string, Tensor> {
    return new Map(this.params);
  }

  /**
   * Copies `dict`'s values (device tensors, or readSafetensors' host tensors) into the parameters'
   * storage, so optimizers holding them stay valid. Everything is checked before anything is copied,
   * with fromSafetensors' dtype and shape rules; with `strict: false` missing and unexpected keys are
   * returned instead of thrown (shape and dtype mismatches always throw).
   * @example model.loadStateDict(other.stateDict());
   */
  loadStateDict(dict: Map<string, WeightValue> | Record<string, WeightValue>, { strict = true }: { strict?: boolean } = {}): WeightsCheck {
    if (this.half) throw f16ModeError('Yolos.loadStateDict');
    const given = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const expected = [...this.params].map(([n, t]) => [n, t.shape] as const);
    const check = checkWeights(expected, given, {
      allowMissing: !strict,
      allowUnexpected: !strict,
      source: 'the dict',
      title: 'Yolos.loadStateDict: the dict does not fit the model',
    });
    for (const [name, p] of this.params) if (given.has(name)) copyWeightInto(p, given.get(name)!);
    return check;
  }

  namedParameters(): [string, Tensor][] {
    return [...this.params.entries()];
  }

  parameters(): Tensor[] {
    return [...this.params.values()];
  }

  train(on = true): this {
    if (on && this.half) throw f16ModeError('Yolos.train');
    this.training = on;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    disposeHalf(this.half);
    this.half = null;
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }

  /** 'f16' after to('f16') (the matmul weights stored in f16), else 'f32'. */
  get dtype(): 'f32' | 'f16' {
    return this.half ? 'f16' : 'f32';
  }

  /**
   * f16 inference mode, where the adapter has 'shader-f16' (else a DTypeError naming the adapter):
   * every Linear weight and the patch projection are stored in f16 and read by matmul with f32
   * accumulation; biases, LayerNorm, tokens and position embeddings stay f32 (half.ts says why).
   * Inference only: every parameter is frozen, and train(), saveSafetensors() and loadStateDict()
   * throw until to('f32'). The f32 weights are kept (1.5× the weight memory) so to('f32') restores
   * them bit-exactly; `keepF32: false` frees them, and to('f32') then widens the f16 values.
   * @example model.eval().to('f16'); const { logits, boxes } = scope(() => model.predict(x));
   */
  to(dtype: 'f16' | 'f32', opts: { keepF32?: boolean } = {}): this {
    if (dtype !== 'f16' && dtype !== 'f32') throw new DTypeError(`Yolos.to: expected 'f16' or 'f32', got ${JSON.stringify(dtype)}`);
    if (dtype === this.dtype) return this;
    if (dtype === 'f16') {
      if (this.training)
        throw new DTypeError("Yolos.to('f16'): the model is in training mode; f16 is for inference (call model.eval() first)");
      this.half = toHalf(this.params, opts.keepF32 ?? true);
    } else {
      toFull(this.params, this.half!);
      this.half = null;
    }
    return this;
  }

  private p(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`Yolos: no parameter '${name}'`);
    return t;
  }

  /** Position embeddings [1, L, D] for a (gh × gw) patch grid: the stored grid resized bicubically. */
  private positionEmbeddings(table: Tensor, gh: number, gw: number): Tensor {
    const c = this.config,
      D = c.hidden_size,
      Q = c.num_detection_tokens;
    const [sh, sw] = peGrid(c);
    const cls = table.slice([0, 0], [1, 1]); // [1, 1, D]
    const det = table.slice([0, 1 + sh * sw], [1, 1 + sh * sw + Q]); // [1, Q, D]
    const grid = table
      .slice([0, 1], [1, 1 + sh * sw])
      .reshape([sh, sw, D])
      .permute([2, 0, 1]); // [D, sh, sw]
    const patch = resizeBicubic(grid, gh, gw)
      .permute([1, 2, 0])
      .reshape([1, gh * gw, D]); // [1, N, D]
    return concat([cls, patch, det], 1); // [1, L, D]
  }

  /**
   * pixelValues: [B, C, H, W], normalised, H and W multiples of the patch size.
   * @example const { logits, boxes } = scope(() => model.forward(x));
   */
  forward(pixelValues: Tensor): YolosOutput {
    const c = this.config,
      P = c.patch_size,
      D = c.hidden_size,
      Q = c.num_detection_tokens;
    const h = c.num_attention_heads;
    if (pixelValues.rank !== 4 || pixelValues.shape[1] !== c.num_channels) {
      throw new ShapeError(`Yolos.forward: expected pixel values [B, ${c.num_channels}, H, W], got [${pixelValues.shape}]`);
    }
    const [B, C, H, W] = pixelValues.shape;
    if (H % P !== 0 || W % P !== 0 || H === 0 || W === 0)
      throw new ShapeError(`Yolos.forward: height and width must be positive multiples of ${P}, got ${H}×${W}`);
    const gh = H / P,
      gw = W / P,
      N = gh * gw,
      L = 1 + N + Q;

    // Each stage (embeddings, every block, the final norm) runs in its own scope and the stage input is
    // freed as soon as the next exists, so inference holds one stage's activations at a time, not all of
    // them (YOLOS-Ti 512×672: 237 → 19 MiB of activations); the tape keeps what backward needs itself.
    let x = scope(() => {
      // Patch embedding: the stride-P convolution as unfold + matmul.
      const patches = pixelValues
        .reshape([B, C, gh, P, gw, P])
        .permute([0, 2, 4, 1, 3, 5])
        .reshape([B, N, C * P * P]);
      const projW = this.p('vit.embeddings.patch_embeddings.projection.weight').reshape([D, C * P * P]);
      const emb = linear(patches, projW, this.p('vit.embeddings.patch_embeddings.projection.bias')); // [B, N, D]
      // [CLS] ‖ patches ‖ [DET]×Q, plus position embeddings.
      const cls = this.p('vit.embeddings.cls_token').broadcastTo([B, 1, D]);
      const det = this.p('vit.embeddings.detection_tokens').broadcastTo([B, Q, D]);
      return concat([cls, emb, det], 1).add(this.positionEmbeddings(this.p('vit.embeddings.position_embeddings'), gh, gw)); // [B, L, D]
    });

    const mid = c.use_mid_position_embeddings ? this.p('vit.encoder.mid_position_embeddings') : null; // [depth−1, 1, L0, D]
    const block = (i: number, x: Tensor): Tensor => {
      // [B, L, D] → [B, L, D]
      const l = (n: string) => this.p(`vit.encoder.layer.${i}.${n}`);
      // x = x + Attn(LN1(x))
      const a = x.layerNorm(l('layernorm_before.weight'), l('layernorm_before.bias'), c.layer_norm_eps);
      const q = linear(a, l('attention.attention.query.weight'), l('attention.attention.query.bias'));
      const k = linear(a, l('attention.attention.key.weight'), l('attention.attention.key.bias'));
      const v = linear(a, l('attention.attention.value.weight'), l('attention.attention.value.bias'));
      const o = attend(q, k, v, h); // [B, L, D]
      x = linear(o, l('attention.output.dense.weight'), l('attention.output.dense.bias'), { residual: x });
      // x = x + MLP(LN2(x)), exact GELU
      const m = x.layerNorm(l('layernorm_after.weight'), l('layernorm_after.bias'), c.layer_norm_eps);
      const hid = linear(m, l('intermediate.dense.weight'), l('intermediate.dense.bias'), { activation: 'gelu' }); // [B, L, 4D]
      return linear(hid, l('output.dense.weight'), l('output.dense.bias'), { residual: x });
    };
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const prev = x;
      x = scope(() => {
        // checkpointBlocks: only x is kept for backward, which recomputes the block (its parameters by closure)
        const y = this.checkpointBlocks ? checkpoint((xi) => block(i, xi), [prev]) : block(i, prev);
        if (!mid || i === c.num_hidden_layers - 1) return y;
        // Type-I position embeddings before every later block
        const table = mid.slice([i], [i + 1]).reshape([1, mid.shape[2], D]);
        return y.add(this.positionEmbeddings(table, gh, gw));
      });
      prev.dispose();
    }
    const last = x;
    const tokens = scope(() =>
      last.layerNorm(this.p('vit.layernorm.weight'), this.p('vit.layernorm.bias'), c.layer_norm_eps).slice([0, 1 + N], [B, L]),
    ); // [B, Q, D]: the [DET] tokens
    last.dispose();

    // Two 3-layer MLP heads (ReLU between layers).
    const mlp = (head: string) => {
      const w = (j: number, s: string) => this.p(`${head}.layers.${j}.${s}`);
      const y = linear(linear(tokens, w(0, 'weight'), w(0, 'bias'), { activation: 'relu' }), w(1, 'weight'), w(1, 'bias'), {
        activation: 'relu',
      });
      return linear(y, w(2, 'weight'), w(2, 'bias'));
    };
    return { logits: mlp('class_labels_classifier'), boxes: mlp('bbox_predictor').sigmoid() };
  }

  /** Forward without a graph (inference). */
  predict(pixelValues: Tensor): YolosOutput {
    return noGrad(() => this.forward(pixelValues));
  }
}

/** Options of fromBackbone. */
export interface BackboneOptions {
  /** Seed of the new tensors (default 0). */
  seed?: number;
  /** The weights' file name (or URL), for messages. */
  name?: string;
  /** Receives the transfer report: used, ignored and new tensors, the PE resize. */
  onReport?: (line: string) => void;
}

/** Options of fromSafetensors and load. */
export interface LoadOptions {
  /** The file's name (or URL), for error messages. */
  name?: string;
  /** false: keys that name no parameter are ignored (every parameter must still be present). Default true. */
  strict?: boolean;
  /** The model's labels (class index → name); a count unlike the file's re-initialises the class output layer. */
  id2label?: Record<string, string>;
  /** Seed of that re-initialisation (default 0): the values Yolos.create(config, { seed }) would give it. */
  seed?: number;
  /** Receives what loading changed (the re-initialised tensors); default console.warn for those. */
  onReport?: (line: string) => void;
}

/** The config stored by the Train page and saveSafetensors callers under `yolos.config`. */
function configFromMetadata(meta: Record<string, string>, name?: string): YolosConfig {
  const where = name === undefined ? 'the weights' : `'${name}'`;
  const raw = meta['yolos.config'];
  if (raw === undefined)
    throw new SafetensorsError(
      `Yolos.fromSafetensors: no config given and ${where} carry no 'yolos.config' metadata; pass the model's config.json`,
      { file: name },
    );
  try {
    return JSON.parse(raw) as YolosConfig;
  } catch (e) {
    throw new SafetensorsError(
      `Yolos.fromSafetensors: ${where} metadata 'yolos.config' is not valid JSON (${(e as Error).message.slice(0, 200)})`,
      { file: name },
    );
  }
}

export type { Engine };
