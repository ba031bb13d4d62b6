/**
 * A Hugging Face ViT config.json (`model_type: 'vit'`, ViTForImageClassification) as this engine reads
 * and writes it: the fields that shape the tensors, HF's defaults for absent ones, and the labels.
 */
import { encoderLayerShapes } from '../config.ts';

export interface ViTConfig {
  model_type: 'vit';
  architectures: string[];
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  initializer_range: number;
  layer_norm_eps: number;
  /** Square side in pixels; the position-embedding grid is image_size / patch_size. */
  image_size: number;
  patch_size: number;
  num_channels: number;
  qkv_bias: boolean;
  encoder_stride: number;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
}

/** A config for `id2label` with HF's defaults for the rest (the caller gives the dims). */
export function vitConfig(
  dims: Pick<ViTConfig, 'hidden_size' | 'num_hidden_layers' | 'num_attention_heads' | 'intermediate_size' | 'image_size' | 'patch_size'> & {
    layer_norm_eps?: number;
    num_channels?: number;
  },
  id2label: Record<string, string>,
): ViTConfig {
  return parseViTConfig({ ...dims, id2label });
}

/**
 * Validates a ViT config.json (text or parsed); an Error names `where` and the field. Absent fields
 * take ViTConfig's defaults (224 px, patch 16, 768 wide…); `id2label` is required (a classifier needs labels).
 */
export function parseViTConfig(json: unknown, where = 'config.json'): ViTConfig {
  if (typeof json === 'string') {
    try {
      json = JSON.parse(json);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message.slice(0, 200)})`);
    }
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new Error(`${where}: expected a JSON object (a Hugging Face ViT config.json)`);
  const j = json as Record<string, unknown>;
  if (j.model_type !== undefined && j.model_type !== 'vit')
    throw new Error(`${where}: model_type must be 'vit', got ${JSON.stringify(j.model_type)}`);
  const int = (k: string, def: number): number => {
    const v = j[k] ?? def;
    if (!Number.isInteger(v) || (v as number) <= 0)
      throw new Error(`${where}: field '${k}' must be a positive integer, got ${JSON.stringify(j[k])}`);
    return v as number;
  };
  const eps = j.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0))
    throw new Error(`${where}: field 'layer_norm_eps' must be a positive number, got ${JSON.stringify(j.layer_norm_eps)}`);
  if ((j.hidden_act ?? 'gelu') !== 'gelu')
    throw new Error(`${where}: hidden_act ${JSON.stringify(j.hidden_act)} is not supported (expected exact 'gelu')`);
  if ((j.qkv_bias ?? true) !== true) throw new Error(`${where}: qkv_bias false is not supported (expected query/key/value biases)`);
  const id2label = j.id2label;
  if (!id2label || typeof id2label !== 'object' || Array.isArray(id2label) || Object.keys(id2label).length === 0) {
    throw new Error(`${where}: 'id2label' must be a non-empty object {"0": "name", …}, got ${JSON.stringify(id2label)}`);
  }
  const labels = Object.entries(id2label as Record<string, unknown>);
  labels.forEach(([k, v], i) => {
    if (k !== String(i) || typeof v !== 'string')
      throw new Error(
        `${where}: 'id2label' must map "0"…"${labels.length - 1}" in order to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
      );
  });
  const c: ViTConfig = {
    model_type: 'vit',
    architectures: ['ViTForImageClassification'],
    hidden_size: int('hidden_size', 768),
    num_hidden_layers: int('num_hidden_layers', 12),
    num_attention_heads: int('num_attention_heads', 12),
    intermediate_size: int('intermediate_size', 3072),
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: eps,
    image_size: int('image_size', 224),
    patch_size: int('patch_size', 16),
    num_channels: int('num_channels', 3),
    qkv_bias: true,
    encoder_stride: int('encoder_stride', 16),
    id2label: id2label as Record<string, string>,
    label2id: Object.fromEntries(labels.map(([k, v]) => [v as string, Number(k)])),
  };
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new Error(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  if (c.image_size % c.patch_size !== 0)
    throw new Error(`${where}: image_size ${c.image_size} is not a multiple of patch_size ${c.patch_size}`);
  return c;
}

/** The classifier's tensors under HF ViTForImageClassification's names (Linear weights [out, in]; no pooler). */
export function vitParameterShapes(c: ViTConfig): [string, number[]][] {
  const D = c.hidden_size,
    g = c.image_size / c.patch_size,
    F = c.intermediate_size;
  const out: [string, number[]][] = [
    ['vit.embeddings.cls_token', [1, 1, D]],
    ['vit.embeddings.position_embeddings', [1, 1 + g * g, D]],
    ['vit.embeddings.patch_embeddings.projection.weight', [D, c.num_channels, c.patch_size, c.patch_size]],
    ['vit.embeddings.patch_embeddings.projection.bias', [D]],
  ];
  for (let i = 0; i < c.num_hidden_layers; i++) out.push(...encoderLayerShapes(i, D, F));
  const K = Object.keys(c.id2label).length;
  out.push(['vit.layernorm.weight', [D]], ['vit.layernorm.bias', [D]], ['classifier.weight', [K, D]], ['classifier.bias', [K]]);
  return out;
}
