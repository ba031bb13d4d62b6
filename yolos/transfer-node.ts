/**
 * transferFromFiles for a source named as on the command line (`yolos train --init-from`): a local
 * folder (config.json + model.safetensors), a `.safetensors` file (its config: the config.json beside
 * it, else its `yolos.config` metadata), or a Hub id / folder URL (downloaded and cached by fetchPretrained).
 */
import './platform-node.ts';
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { YolosConfig } from './config.ts';
import { fetchPretrained, type PretrainedOptions } from './hub.ts';
import { readSafetensorsMetadata } from './safetensors.ts';
import { transferFromFiles, type TransferOptions, type TransferResult } from './transfer.ts';
import { readWeightsBytes } from './weights-node.ts';

export { freezeBackbone, trainableWhenFrozen } from './transfer.ts';

/** The config and weights of `source`, and a name for them in messages. */
async function initialFiles(source: string, opts: PretrainedOptions): Promise<{ config: Uint8Array; weights: Uint8Array; where: string }> {
  if (!/^https?:\/\//i.test(source) && source.endsWith('.safetensors')) {
    const weights = await readWeightsBytes(source);
    const beside = join(dirname(source), 'config.json');
    try {
      return { config: new Uint8Array(await readFile(beside)), weights, where: source };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new Error(`${beside}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const meta = readSafetensorsMetadata(weights, { name: source })['yolos.config'];
    if (meta === undefined) throw new Error(`${source}: no config: ${beside} does not exist and the file has no 'yolos.config' metadata`);
    return { config: new TextEncoder().encode(meta), weights, where: source };
  }
  const files = await fetchPretrained(source, opts);
  return { config: files.config, weights: files.weights, where: files.sources.weights };
}

/**
 * The initial model of a fine-tuning run from `source` (see the file comment), by the checkpoint's
 * kind (transferFromFiles): ViT/DeiT backbone, a YOLOS on a new label set, or a YOLOS's backbone.
 * @example const { model, report } = await loadInitialModelFrom('google/vit-base-patch16-224', presets.base, { seed: 0, id2label });
 */
export async function loadInitialModelFrom(
  source: string,
  target: YolosConfig,
  opts: TransferOptions & PretrainedOptions,
): Promise<TransferResult> {
  return transferFromFiles(await initialFiles(source, opts), target, opts);
}

/** loadInitialModelFrom, under the name the trainer uses. */
export async function loadInitialModel(
  source: string,
  target: YolosConfig,
  opts: TransferOptions & PretrainedOptions,
): Promise<TransferResult> {
  return loadInitialModelFrom(source, target, opts);
}
