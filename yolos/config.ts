/**
 * YOLOS configurations, with the Hugging Face `config.json` field names (docs/yolos-spec-notes.md). Presets are
 * exact copies of the Hub configs; `nano16` is ours, for machines without a GPU.
 */

export interface YolosConfig {
  /** Width D of the token embeddings. */
  hidden_size: number;
  /** Encoder depth. */
  num_hidden_layers: number;
  num_attention_heads: number;
  /** MLP hidden width (4·D in every released model). */
  intermediate_size: number;
  /** [H, W] the stored position-embedding grid was made for (grid = image_size / patch_size, floored). */
  image_size: [number, number];
  patch_size: number;
  num_channels: number;
  /** Number of [DET] tokens (100 in released models). */
  num_detection_tokens: number;
  /** Type-I position embeddings added before every block after the first (S, S-dWr, B). */
  use_mid_position_embeddings: boolean;
  /** 1e-12 in the Hub configs (HF's default); the original code used 1e-6. */
  layer_norm_eps: number;
  /** Real classes; the class head has num_labels + 1 outputs, the last being "no object". */
  num_labels: number;
  id2label?: Record<string, string>;
  qkv_bias?: boolean;
  hidden_act?: string;
  model_type?: string;
}

/** The 91 COCO ids (0…90) with "N/A" for the 11 unused ones, as in the Hub's id2label. */
export const COCO_ID2LABEL: Record<string, string> = Object.fromEntries(
  [
    'N/A',
    'person',
    'bicycle',
    'car',
    'motorcycle',
    'airplane',
    'bus',
    'train',
    'truck',
    'boat',
    'traffic light',
    'fire hydrant',
    'N/A',
    'stop sign',
    'parking meter',
    'bench',
    'bird',
    'cat',
    'dog',
    'horse',
    'sheep',
    'cow',
    'elephant',
    'bear',
    'zebra',
    'giraffe',
    'N/A',
    'backpack',
    'umbrella',
    'N/A',
    'N/A',
    'handbag',
    'tie',
    'suitcase',
    'frisbee',
    'skis',
    'snowboard',
    'sports ball',
    'kite',
    'baseball bat',
    'baseball glove',
    'skateboard',
    'surfboard',
    'tennis racket',
    'bottle',
    'N/A',
    'wine glass',
    'cup',
    'fork',
    'knife',
    'spoon',
    'bowl',
    'banana',
    'apple',
    'sandwich',
    'orange',
    'broccoli',
    'carrot',
    'hot dog',
    'pizza',
    'donut',
    'cake',
    'chair',
    'couch',
    'potted plant',
    'bed',
    'N/A',
    'dining table',
    'N/A',
    'N/A',
    'toilet',
    'N/A',
    'tv',
    'laptop',
    'mouse',
    'remote',
    'keyboard',
    'cell phone',
    'microwave',
    'oven',
    'toaster',
    'sink',
    'refrigerator',
    'N/A',
    'book',
    'clock',
    'vase',
    'scissors',
    'teddy bear',
    'hair drier',
    'toothbrush',
  ].map((name, i) => [String(i), name]),
);

const common = {
  patch_size: 16,
  num_channels: 3,
  num_detection_tokens: 100,
  layer_norm_eps: 1e-12,
  num_labels: 91,
  id2label: COCO_ID2LABEL,
  qkv_bias: true,
  hidden_act: 'gelu',
  model_type: 'yolos',
} as const;

/** Presets; each comment gives the exact parameter count (checked by a test). */
export const presets = {
  /** hustvl/yolos-tiny — 6,488,736 parameters. */
  tiny: {
    ...common,
    hidden_size: 192,
    num_hidden_layers: 12,
    num_attention_heads: 3,
    intermediate_size: 768,
    image_size: [800, 1333],
    use_mid_position_embeddings: false,
  },
  /** hustvl/yolos-small — 30,684,768 parameters. */
  small: {
    ...common,
    hidden_size: 384,
    num_hidden_layers: 12,
    num_attention_heads: 6,
    intermediate_size: 1536,
    image_size: [512, 864],
    use_mid_position_embeddings: true,
  },
  /** hustvl/yolos-small-dwr — 27,561,696 parameters. */
  'small-dwr': {
    ...common,
    hidden_size: 330,
    num_hidden_layers: 14,
    num_attention_heads: 6,
    intermediate_size: 1320,
    image_size: [512, 864],
    use_mid_position_embeddings: true,
  },
  /** hustvl/yolos-base — 127,798,368 parameters. */
  base: {
    ...common,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    image_size: [800, 1344],
    use_mid_position_embeddings: true,
  },
  /** Ours, for CPU-only machines: 64×64 images, 27 tokens, 3 classes — 268,872 parameters. */
  nano16: {
    ...common,
    hidden_size: 64,
    num_hidden_layers: 4,
    num_attention_heads: 2,
    intermediate_size: 256,
    image_size: [64, 64],
    use_mid_position_embeddings: false,
    num_detection_tokens: 10,
    num_labels: 3,
    id2label: { 0: 'circle', 1: 'square', 2: 'triangle' },
  },
} satisfies Record<string, YolosConfig>;

export type PresetName = keyof typeof presets;

/** Grid of the stored (first-layer and mid) position embeddings. */
export function peGrid(c: YolosConfig): [number, number] {
  return [Math.floor(c.image_size[0] / c.patch_size), Math.floor(c.image_size[1] / c.patch_size)];
}

/** Validates a config (e.g. a Hub config.json) and fills HF defaults for missing optional fields. */
export function parseConfig(json: unknown): YolosConfig {
  if (typeof json === 'string') json = JSON.parse(json);
  if (!json || typeof json !== 'object') throw new Error('config: expected a JSON object (a Hugging Face YOLOS config.json)');
  const j = json as Record<string, unknown>;
  const num = (k: string, def?: number): number => {
    const v = j[k] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new Error(`config: field '${k}' must be a positive number, got ${JSON.stringify(j[k])}`);
    return v;
  };
  const image = (j.image_size ?? [512, 864]) as unknown;
  if (!Array.isArray(image) || image.length !== 2 || !image.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`config: 'image_size' must be [height, width], got ${JSON.stringify(image)}`);
  }
  const id2label = j.id2label as Record<string, string> | undefined;
  const numLabels = typeof j.num_labels === 'number' ? j.num_labels : id2label ? Object.keys(id2label).length : 91;
  const c: YolosConfig = {
    hidden_size: num('hidden_size', 768),
    num_hidden_layers: num('num_hidden_layers', 12),
    num_attention_heads: num('num_attention_heads', 12),
    intermediate_size: num('intermediate_size', 3072),
    image_size: [image[0], image[1]],
    patch_size: num('patch_size', 16),
    num_channels: num('num_channels', 3),
    num_detection_tokens: num('num_detection_tokens', 100),
    use_mid_position_embeddings: (j.use_mid_position_embeddings ?? true) as boolean,
    layer_norm_eps: typeof j.layer_norm_eps === 'number' ? j.layer_norm_eps : 1e-12,
    num_labels: numLabels,
    id2label,
    qkv_bias: (j.qkv_bias ?? true) as boolean,
    hidden_act: (j.hidden_act ?? 'gelu') as string,
    model_type: 'yolos',
  };
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new Error(`config: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  if (c.hidden_act !== 'gelu') throw new Error(`config: hidden_act '${c.hidden_act}' is not supported (YOLOS uses exact 'gelu')`);
  if (!c.qkv_bias) throw new Error('config: qkv_bias false is not supported (every YOLOS checkpoint has query/key/value biases)');
  return c;
}

/** The parameter names and shapes of a config, in Hugging Face's key layout (Linear weights [out, in]). */
export function parameterShapes(c: YolosConfig): [string, number[]][] {
  const D = c.hidden_size,
    [gh, gw] = peGrid(c),
    Q = c.num_detection_tokens,
    L = 1 + gh * gw + Q;
  const out: [string, number[]][] = [
    ['vit.embeddings.cls_token', [1, 1, D]],
    ['vit.embeddings.detection_tokens', [1, Q, D]],
    ['vit.embeddings.position_embeddings', [1, L, D]],
    ['vit.embeddings.patch_embeddings.projection.weight', [D, c.num_channels, c.patch_size, c.patch_size]],
    ['vit.embeddings.patch_embeddings.projection.bias', [D]],
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) out.push(...encoderLayerShapes(i, D, c.intermediate_size));
  if (c.use_mid_position_embeddings) out.push(['vit.encoder.mid_position_embeddings', [c.num_hidden_layers - 1, 1, L, D]]);
  out.push(['vit.layernorm.weight', [D]], ['vit.layernorm.bias', [D]]);
  for (const head of ['class_labels_classifier', 'bbox_predictor']) {
    const outDim = head === 'bbox_predictor' ? 4 : c.num_labels + 1;
    out.push(
      [`${head}.layers.0.weight`, [D, D]],
      [`${head}.layers.0.bias`, [D]],
      [`${head}.layers.1.weight`, [D, D]],
      [`${head}.layers.1.bias`, [D]],
      [`${head}.layers.2.weight`, [outDim, D]],
      [`${head}.layers.2.bias`, [outDim]],
    );
  }
  return out;
}

export function parameterCount(c: YolosConfig): number {
  return parameterShapes(c).reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}

/** The Hugging Face names and shapes of ViT encoder layer `i` (width D, MLP width F): YOLOS and ViT share them. */
export function encoderLayerShapes(i: number, D: number, F: number): [string, number[]][] {
  const p = `vit.encoder.layer.${i}`;
  return [
    [`${p}.layernorm_before.weight`, [D]],
    [`${p}.layernorm_before.bias`, [D]],
    [`${p}.attention.attention.query.weight`, [D, D]],
    [`${p}.attention.attention.query.bias`, [D]],
    [`${p}.attention.attention.key.weight`, [D, D]],
    [`${p}.attention.attention.key.bias`, [D]],
    [`${p}.attention.attention.value.weight`, [D, D]],
    [`${p}.attention.attention.value.bias`, [D]],
    [`${p}.attention.output.dense.weight`, [D, D]],
    [`${p}.attention.output.dense.bias`, [D]],
    [`${p}.layernorm_after.weight`, [D]],
    [`${p}.layernorm_after.bias`, [D]],
    [`${p}.intermediate.dense.weight`, [F, D]],
    [`${p}.intermediate.dense.bias`, [F]],
    [`${p}.output.dense.weight`, [D, F]],
    [`${p}.output.dense.bias`, [D]],
  ];
}
