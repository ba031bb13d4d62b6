/**
 * Which YOLOS a fine-tuning run in the Train tab builds from a picked checkpoint (transferFromFiles
 * then loads what fits into it):
 *  - the shapes data: nano-16 (64×64, 3 classes), whatever the checkpoint — the shapes are 64×64
 *    and the tab's from-scratch runs are nano-16, so the two are comparable;
 *  - a user's COCO folder from a YOLOS detector: the detector's own architecture (image size, depth,
 *    [DET] tokens, mid PEs), so every tensor but the class output layer is kept;
 *  - a user's COCO folder from a ViT/DeiT classifier: the preset of the backbone's size (width, depth,
 *    heads, MLP, patch), whose image size, [DET] tokens and mid-PE choice are the released YOLOS's
 *    (ViT-Ti → tiny, DeiT-S → small, ViT-B → base); a backbone of no preset's size is an Error.
 * The labels are always the data's categories.
 */
import { parseConfig, presets, type PresetName, type YolosConfig, type CheckpointKind } from '../../yolos/index.ts';

export interface FineTuneTarget {
  config: YolosConfig;
  /** The preset the config is (its augmentation scales), or null for a detector of its own size. */
  preset: PresetName | null;
  /** One line for the page: which target and why. */
  why: string;
}

const DIMS = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'patch_size'] as const;
/** HF ViTConfig / DeiTConfig defaults for fields a backbone config.json leaves out. */
const VIT_DEFAULTS = { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, patch_size: 16 };

const presetOf = (c: YolosConfig): PresetName | null =>
  (Object.keys(presets) as PresetName[]).find(
    (p) =>
      DIMS.every((f) => presets[p][f] === c[f]) &&
      presets[p].image_size.join() === c.image_size.join() &&
      presets[p].num_detection_tokens === c.num_detection_tokens &&
      presets[p].use_mid_position_embeddings === c.use_mid_position_embeddings,
  ) ?? null;

/**
 * The target of a run from a `kind` checkpoint whose config.json is `configText`, on `data`.
 * @example fineTuneTarget('vit', '{"hidden_size":192,"num_hidden_layers":12,"num_attention_heads":3,"intermediate_size":768}', 'coco', 'vit.safetensors').preset // 'tiny'
 */
export function fineTuneTarget(kind: CheckpointKind, configText: string, data: 'shapes' | 'coco', where: string): FineTuneTarget {
  if (data === 'shapes') return { config: presets.nano16, preset: 'nano16', why: 'the shapes data trains nano-16 (64×64 inputs)' };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(configText) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${where}: its config is not valid JSON (${(e as Error).message})`);
  }
  if (kind === 'yolos') {
    let config: YolosConfig;
    try {
      config = parseConfig(json);
    } catch (e) {
      throw new Error(`${where}: config.json: ${(e as Error).message}`);
    }
    const preset = presetOf(config);
    return {
      config,
      preset,
      why: `the detector's own architecture (${preset ? `the ${preset} preset` : 'no preset'}: D ${config.hidden_size}, ${config.num_hidden_layers} layers, input ${config.image_size.join('×')}, ${config.num_detection_tokens} detection tokens)`,
    };
  }
  const dims = Object.fromEntries(DIMS.map((f) => [f, json[f] ?? VIT_DEFAULTS[f]])) as Record<(typeof DIMS)[number], unknown>;
  const preset = (Object.keys(presets) as PresetName[]).find((p) => DIMS.every((f) => presets[p][f] === dims[f]));
  const size = DIMS.map((f) => `${f} ${JSON.stringify(dims[f])}`).join(', ');
  if (!preset) {
    const known = (Object.keys(presets) as PresetName[])
      .map(
        (p) =>
          `${p} (${presets[p].hidden_size}/${presets[p].num_hidden_layers}/${presets[p].num_attention_heads}/${presets[p].intermediate_size}/${presets[p].patch_size})`,
      )
      .join(', ');
    throw new Error(
      `${where}: a ${kind} backbone of ${size} is the size of no YOLOS preset (hidden/layers/heads/MLP/patch: ${known}); start from a YOLOS detector of that size instead`,
    );
  }
  return { config: presets[preset], preset, why: `the ${preset} preset, the YOLOS of the backbone's size (${size})` };
}
