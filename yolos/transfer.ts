/**
 * Starting a detector from someone else's weights (browser-safe): an ImageNet ViT/DeiT classifier as
 * the backbone (backbone.ts), or a YOLOS checkpoint — whole, on a new label set, when it has the
 * target's architecture; else its backbone. Each returns the model and a report of what it did.
 * Node adds sources by path or Hub id: transfer-node.ts.
 */
import { parseConfig, type YolosConfig } from './config.ts';
import { Yolos } from './model.ts';
import { checkpointKind } from './backbone.ts';
import { numberedLabels, withLabels } from './relabel.ts';
import { paramRole } from './param-roles.ts';
import { parseHeader } from './safetensors-header.ts';

export { checkpointKind, type CheckpointKind } from './backbone.ts';

export interface TransferResult {
  model: Yolos;
  /** One line per decision: tensors used, ignored (with why), resized and created. */
  report: string[];
}

export interface TransferOptions {
  /** Seed of every new tensor. */
  seed: number;
  /** The target's labels (e.g. a dataset's categories); default the target config's. */
  id2label?: Record<string, string>;
}

/**
 * Yolos.fromBackbone with its report.
 * @example const { model, report } = fromBackbone(bytes, await (await fetch('config.json')).text(), presets.tiny, { seed: 0 });
 */
export function fromBackbone(
  weights: Uint8Array | ArrayBuffer,
  backboneConfig: object | string,
  yolosConfig: YolosConfig,
  opts: { seed?: number; name?: string } = {},
): TransferResult {
  const report: string[] = [];
  const model = Yolos.fromBackbone(weights, backboneConfig, yolosConfig, { ...opts, onReport: (l) => report.push(l) });
  return { model, report };
}

/** Fields that make two YOLOS configs hold differently shaped (or differently computed) tensors, labels aside. */
const ARCHITECTURE = [
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'patch_size',
  'num_channels',
  'num_detection_tokens',
  'use_mid_position_embeddings',
] as const;

/**
 * The initial model of a fine-tuning run from a checkpoint's config.json and model.safetensors, by what
 * the checkpoint is (its keys): ViT `vit.*` or DeiT `deit.*` (± distillation token) → fromBackbone; a
 * YOLOS `vit.*` + heads with the target's architecture → every tensor, with the class output layer
 * re-initialised when the label count differs (fromSafetensors' id2label); a YOLOS of another
 * architecture (image_size, detection tokens, mid PEs…) → its backbone only. `where` names the files.
 */
export function transferFromFiles(
  files: { config: Uint8Array; weights: Uint8Array; where: string },
  target: YolosConfig,
  opts: TransferOptions,
): TransferResult {
  const where = files.where;
  const labelled = withLabels(
    parseConfig(target),
    opts.id2label ?? target.id2label ?? numberedLabels(target.num_labels),
    `${where}: target`,
  );
  const keys = parseHeader(files.weights, where).tensors.map((t) => t.name);
  const kind = checkpointKind(keys, where);
  const configText = new TextDecoder().decode(files.config);
  const report: string[] = [];
  const onReport = (l: string) => report.push(l);
  if (kind === 'yolos') {
    let stored: YolosConfig;
    try {
      stored = parseConfig(configText);
    } catch (e) {
      throw new Error(`${where}: config.json: ${(e as Error).message}`);
    }
    const differ = [
      ...ARCHITECTURE.filter((f) => stored[f] !== labelled[f]),
      ...(stored.image_size.join() === labelled.image_size.join() ? [] : ['image_size' as const]),
    ];
    if (!differ.length) {
      report.push(
        `${where}: YOLOS checkpoint with the target's architecture: every tensor is kept but the class output layer's when the label count changes`,
      );
      const model = Yolos.fromSafetensors(files.weights, stored, { name: where, id2label: labelled.id2label, seed: opts.seed, onReport });
      return { model, report };
    }
    report.push(
      `${where}: YOLOS checkpoint whose ${differ.map((f) => `${f} (${JSON.stringify(stored[f])})`).join(', ')} differ from the target's: only its backbone is used`,
    );
  }
  const model = Yolos.fromBackbone(files.weights, configText, labelled, { seed: opts.seed, name: where, onReport });
  return { model, report };
}

/**
 * Whether a parameter stays trainable under freezeBackbone: the [DET] tokens, the position-embedding
 * table, the mid PEs and both heads. The table is one tensor holding the [CLS], patch and [DET] rows;
 * it stays trainable as a whole, since its [DET] rows are new and its patch grid was resized to a grid
 * the backbone never saw.
 */
export function trainableWhenFrozen(name: string): boolean {
  const role = paramRole(name);
  return role === 'head' || role === 'position' || role === 'mid-position' || name === 'vit.embeddings.detection_tokens';
}

/**
 * Freezes the transferred backbone (requiresGrad = false): the patch embedding, the [CLS] token, every
 * encoder block and the final layer norm — the ImageNet features — so only what is new trains: the
 * [DET] tokens, the position embeddings (see trainableWhenFrozen for why the whole table), the mid PEs
 * and the two heads. Optimizers skip parameters without gradients.
 */
export function freezeBackbone(model: Yolos): void {
  for (const [name, p] of model.params) p.requiresGrad = trainableWhenFrozen(name);
}
