/**
 * Weights from a path (Node only): the file is read whole, then parsed and checked as in the browser;
 * every error names the path.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readSafetensors, readSafetensorsMetadata, SafetensorsError, type SafeTensor } from './safetensors.ts';
import { Yolos, type LoadOptions } from './model.ts';
import { parseConfig, type YolosConfig } from './config.ts';

/** The bytes of `path`; a missing or unreadable file is a SafetensorsError naming it and the reason. */
export async function readWeightsBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new SafetensorsError(`safetensors '${path}': cannot be read (${err.code ?? err.message})`, { file: path });
  }
}

/**
 * readSafetensors for a file path.
 * @example const tensors = await readSafetensorsFile('model.safetensors');
 */
export async function readSafetensorsFile(path: string): Promise<Map<string, SafeTensor>> {
  return readSafetensors(await readWeightsBytes(path), { name: path });
}

/**
 * Yolos.fromSafetensors for a file path. The config: `config`, else the file's `yolos.config`
 * metadata, else the config.json beside the file.
 * @example const model = await loadYolosFile('models/shapes-nano16.safetensors');
 */
export async function loadYolosFile(path: string, config?: YolosConfig, opts: LoadOptions = {}): Promise<Yolos> {
  const bytes = await readWeightsBytes(path);
  const name = opts.name ?? path;
  if (!config) config = await configBeside(path, bytes, name);
  return Yolos.fromSafetensors(bytes, config, { ...opts, name });
}

async function configBeside(path: string, bytes: Uint8Array, name: string): Promise<YolosConfig | undefined> {
  if (readSafetensorsMetadata(bytes, { name })['yolos.config'] !== undefined) return undefined; // fromSafetensors reads it
  const beside = join(dirname(path), 'config.json');
  let text: string;
  try {
    text = await readFile(beside, 'utf8');
  } catch {
    throw new SafetensorsError(`safetensors '${name}': no config given, no 'yolos.config' metadata in the file and no readable ${beside}`, {
      file: name,
    });
  }
  try {
    return parseConfig(text);
  } catch (e) {
    throw new SafetensorsError(`${beside}: ${(e as Error).message}`, { file: beside });
  }
}
