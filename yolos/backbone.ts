/**
 * An ImageNet classifier's ViT as a YOLOS backbone (docs/yolos-spec-notes.md): Hugging Face ViT (`vit.*`),
 * DeiT (`deit.*`, with or without a distillation token) and a YOLOS checkpoint's own backbone.
 * Kept: the patch embedding, the [CLS] token, every encoder block, the final layer norm and the [CLS]
 * PE; the patch PE grid is bicubic-resized to the target's image_size / patch_size grid. Everything
 * else of the target (the [DET] tokens and their PE, mid PEs, the heads) keeps the fresh init it was
 * created with. planBackbone checks everything on the CPU first; applyBackbone then writes the model.
 */
import { ShapeError, concat, nn, noGrad, scope, type Tensor } from '../engine/index.ts';
import { parameterShapes, parseConfig, peGrid, type YolosConfig } from './config.ts';
import { resizeBicubic } from './interpolate.ts';
import type { SafeTensor } from './safetensors.ts';
import { checkWeights, copyWeightInto, toF32Tensor } from './state-dict.ts';

/** What a checkpoint holds, told by its keys. */
export type CheckpointKind = 'vit' | 'deit' | 'deit-distilled' | 'yolos';

const KIND_NAMES: Record<CheckpointKind, string> = {
  vit: "ViT classifier ('vit.*')",
  deit: "DeiT classifier ('deit.*', no distillation token)",
  'deit-distilled': "DeiT classifier with a distillation token ('deit.*')",
  yolos: "YOLOS detector ('vit.*' with detection tokens)",
};

/** The kind of a checkpoint from its tensor names; an error naming `where` when it is none of them. */
export function checkpointKind(keys: Iterable<string>, where: string): CheckpointKind {
  const all = [...keys];
  const set = new Set(all);
  const has = (k: string) => set.has(k);
  const vit = all.some((k) => k.startsWith('vit.')),
    deit = all.some((k) => k.startsWith('deit.'));
  if (vit && deit) throw new ShapeError(`${where}: has both 'vit.*' and 'deit.*' keys; expected one backbone`);
  if (deit) return has('deit.embeddings.distillation_token') ? 'deit-distilled' : 'deit';
  if (vit) return has('vit.embeddings.detection_tokens') ? 'yolos' : 'vit';
  const first = all
    .slice(0, 3)
    .map((k) => `'${k}'`)
    .join(', ');
  throw new ShapeError(
    `${where}: not a ViT, DeiT or YOLOS checkpoint: no key starts with 'vit.' or 'deit.' (first keys: ${first || 'none'})`,
  );
}

/** The shape-relevant fields of a backbone's config.json. */
interface BackboneDims {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  patch_size: number;
  num_channels: number;
  layer_norm_eps: number;
  /** The stored patch PE grid [rows, cols]. */
  grid: [number, number];
  /** Rows after the patch grid in the PE table: the [DET] PEs of a YOLOS checkpoint, else 0. */
  tailRows: number;
}

/** A ViT/DeiT config.json (HF defaults for absent fields, as ViTConfig/DeiTConfig) or a YOLOS one. */
function backboneDims(kind: CheckpointKind, config: object | string, where: string): BackboneDims {
  let json: unknown = config;
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new Error(`${where}: the backbone config is not valid JSON (${(e as Error).message.slice(0, 200)})`);
    }
  }
  if (!json || typeof json !== 'object')
    throw new Error(`${where}: the backbone config must be a JSON object (a Hugging Face config.json)`);
  if (kind === 'yolos') {
    const c = parseConfig(json);
    return { ...c, grid: peGrid(c), tailRows: c.num_detection_tokens };
  }
  const j = json as Record<string, unknown>;
  const num = (k: string, def: number): number => {
    const v = j[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new Error(`${where}: backbone config field '${k}' must be a positive number, got ${JSON.stringify(j[k])}`);
    return v;
  };
  const patch = num('patch_size', 16);
  const image = j.image_size ?? 224;
  const hw = typeof image === 'number' ? [image, image] : image;
  if (!Array.isArray(hw) || hw.length !== 2 || !hw.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${where}: backbone config 'image_size' must be a positive integer or [height, width], got ${JSON.stringify(image)}`);
  }
  return {
    hidden_size: num('hidden_size', 768),
    num_hidden_layers: num('num_hidden_layers', 12),
    num_attention_heads: num('num_attention_heads', 12),
    intermediate_size: num('intermediate_size', 3072),
    patch_size: patch,
    num_channels: num('num_channels', 3),
    layer_norm_eps: typeof j.layer_norm_eps === 'number' ? j.layer_norm_eps : 1e-12,
    grid: [Math.floor(hw[0] / patch), Math.floor(hw[1] / patch)],
    tailRows: 0,
  };
}

/** Everything applyBackbone needs, all checked. */
export interface BackbonePlan {
  kind: CheckpointKind;
  /** [target key, source key] for every backbone tensor but the position embeddings. */
  copies: [string, string][];
  peKey: string;
  peShape: number[];
  /** Row of the source PE table that becomes the [CLS] PE, and the first patch row. */
  clsRow: number;
  gridStart: number;
  grid: [number, number];
  report: string[];
}

/** Target keys a backbone fills (besides the PE table): patch embedding, [CLS], blocks, final LN. */
const isBackboneKey = (name: string) =>
  name === 'vit.embeddings.cls_token' ||
  name.startsWith('vit.embeddings.patch_embeddings.') ||
  name.startsWith('vit.encoder.layer.') ||
  name.startsWith('vit.layernorm.');

/** Why a source key that is not used is ignored. */
function ignoredBecause(key: string, kind: CheckpointKind): string {
  if (/^(classifier|cls_classifier|distillation_classifier)\./.test(key)) return 'the image-classification head';
  if (/^(vit|deit)\.pooler\./.test(key)) return 'the pooler (not used for detection)';
  if (key.endsWith('.embeddings.distillation_token')) return 'the distillation token (YOLOS has none)';
  if (key.endsWith('.embeddings.mask_token')) return 'the mask token (masked image modelling only)';
  if (
    kind === 'yolos' &&
    (key === 'vit.embeddings.detection_tokens' ||
      key === 'vit.encoder.mid_position_embeddings' ||
      /^(class_labels_classifier|bbox_predictor)\./.test(key))
  ) {
    return 'replaced by a new one (only the backbone is transferred)';
  }
  return 'not a backbone tensor';
}

/**
 * Checks a checkpoint against the target and lists what will happen: the source's dims must match
 * the target's (hidden size, patch size, channels, depth, heads, MLP width), every backbone key must be
 * there with its shape (errors name both shapes), and every other key is reported as ignored.
 */
export function planBackbone(
  file: ReadonlyMap<string, SafeTensor>,
  backboneConfig: object | string,
  target: YolosConfig,
  where: string,
): BackbonePlan {
  const kind = checkpointKind(file.keys(), where);
  const src = backboneDims(kind, backboneConfig, where);
  const fields = ['hidden_size', 'patch_size', 'num_channels', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size'] as const;
  const differ = fields.filter((f) => src[f] !== target[f]).map((f) => `${f}: the backbone has ${src[f]}, the target config ${target[f]}`);
  if (differ.length) throw new ShapeError(`${where}: the ${KIND_NAMES[kind]} cannot become this YOLOS backbone:\n  ${differ.join('\n  ')}`);

  const prefix = kind.startsWith('deit') ? 'deit' : 'vit';
  const copies = parameterShapes(target)
    .filter(([n]) => isBackboneKey(n))
    .map(([n]) => [n, n.replace(/^vit\./, `${prefix}.`)] as [string, string]);
  // PE table rows: [CLS] (+ distillation) ‖ grid ‖ ([DET] of a YOLOS checkpoint).
  const [sh, sw] = src.grid,
    D = src.hidden_size;
  const gridStart = kind === 'deit-distilled' ? 2 : 1;
  // YOLOS-B rule (YOLOS backbone.py finetune_det): with a distillation token the table has 2 + N rows,
  // √(rows − 1) is not an integer, so row 0 (the [CLS] PE) is dropped and row 1 (the distillation
  // token's PE) becomes the [CLS] PE. The [CLS] token itself stays DeiT's cls_token.
  const clsRow = kind === 'deit-distilled' ? 1 : 0;
  const peKey = `${prefix}.embeddings.position_embeddings`;
  const peShape = [1, gridStart + sh * sw + src.tailRows, D];
  const shapeOf = new Map(parameterShapes(target));
  checkWeights([...copies.map(([t, s]) => [s, shapeOf.get(t)!] as const), [peKey, peShape]], file, {
    allowMissing: false,
    allowUnexpected: true,
    source: 'the checkpoint',
    title: `${where}: the ${KIND_NAMES[kind]} does not fit its config (hidden_size ${D}, ${src.num_hidden_layers} layers, ${sh}×${sw} patch grid of ${src.patch_size}px) and the target`,
  });

  const used = new Set([...copies.map(([, s]) => s), peKey]);
  const [th, tw] = peGrid(target),
    Q = target.num_detection_tokens;
  const report = [
    `${where}: ${KIND_NAMES[kind]}: used ${used.size} tensors (patch embedding, [CLS] token, ${src.num_hidden_layers} encoder blocks, final layer norm, position embeddings)`,
    `position embeddings: the [CLS] PE is row ${clsRow}${clsRow ? " (the distillation token's, as YOLOS-B does; row 0 is dropped)" : ''}; the ${sh}×${sw} patch grid is bicubic-resized to ${th}×${tw}${src.tailRows ? `; the checkpoint's ${src.tailRows} [DET] PE rows are dropped` : ''}`,
  ];
  for (const [k, t] of file) if (!used.has(k)) report.push(`ignored '${k}' [${t.shape}]: ${ignoredBecause(k, kind)}`);
  report.push(`new: vit.embeddings.detection_tokens [1,${Q},${D}] and the [DET] rows of the position embeddings, trunc-normal(0.02)`);
  if (target.use_mid_position_embeddings)
    report.push(`new: vit.encoder.mid_position_embeddings [${shapeOf.get('vit.encoder.mid_position_embeddings')}], trunc-normal(0.02)`);
  report.push("new: class_labels_classifier.layers.{0,1,2} and bbox_predictor.layers.{0,1,2}, PyTorch's default Linear init U(±1/√fan_in)");
  if (src.layer_norm_eps !== target.layer_norm_eps)
    report.push(`layer_norm_eps: the backbone's is ${src.layer_norm_eps}, the target's ${target.layer_norm_eps} is used`);
  return { kind, copies, peKey, peShape, clsRow, gridStart, grid: src.grid, report };
}

/**
 * Writes a planned backbone into `params` (a freshly created target model's): copies the backbone
 * tensors and builds the PE table [CLS PE ‖ resized grid ‖ the model's own [DET] rows] on the GPU with
 * the model's PyTorch-exact bicubic resize.
 */
export function applyBackbone(
  params: ReadonlyMap<string, Tensor>,
  target: YolosConfig,
  file: ReadonlyMap<string, SafeTensor>,
  plan: BackbonePlan,
): void {
  for (const [t, s] of plan.copies) copyWeightInto(params.get(t)!, file.get(s)!);
  const pe = params.get('vit.embeddings.position_embeddings')!;
  const [sh, sw] = plan.grid,
    [th, tw] = peGrid(target),
    D = target.hidden_size,
    Q = target.num_detection_tokens;
  scope(() =>
    noGrad(() => {
      const table = toF32Tensor(file.get(plan.peKey)!, plan.peShape); // [1, rows, D]
      const cls = table.slice([0, plan.clsRow], [1, plan.clsRow + 1]); // [1, 1, D]
      const grid = table
        .slice([0, plan.gridStart], [1, plan.gridStart + sh * sw])
        .reshape([sh, sw, D])
        .permute([2, 0, 1]); // [D, sh, sw]
      const patch = resizeBicubic(grid, th, tw)
        .permute([1, 2, 0])
        .reshape([1, th * tw, D]); // [1, th·tw, D]
      const det = pe.slice([0, 1 + th * tw], [1, 1 + th * tw + Q]); // [1, Q, D]: the fresh init
      nn.copyInto(pe, concat([cls, patch, det], 1));
    }),
  );
}
