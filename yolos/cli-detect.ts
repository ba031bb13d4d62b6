/** `yolos detect`: one JSON line per detection on stdout, an annotated PNG per image. */
import { readFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { init } from '../engine/node.ts';
import { Yolos } from './model.ts';
import { parseConfig, presets, type YolosConfig } from './config.ts';
import { decodeImage, encodePng } from './image-io.ts';
import { detect, defaultResize } from './detect.ts';
import { drawDetections } from './draw.ts';
import { writeAtomic, describeFsError } from './train/files-node.ts';
import { uniqueOutputNames } from './cli-names.ts';
import { UsageError, int, inRange, oneOf, EXIT_CODES_HELP } from './cli-usage.ts';

const PRESETS = Object.keys(presets);

async function readOr(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`cannot read ${what} '${path}': ${describeFsError(e)}`);
  }
}

function parseConfigFile(path: string, text: string): YolosConfig {
  try {
    return parseConfig(text);
  } catch (e) {
    throw new Error(`config '${path}': ${(e as Error).message}; expected a Hugging Face YOLOS config.json`);
  }
}

/**
 * The model of `weights` with its config: `configPath`, else the preset `preset`, else config.json
 * beside the weights. Errors name the file.
 */
export async function loadModel(weights: string, configPath?: string, preset?: string): Promise<Yolos> {
  let config: YolosConfig;
  const beside = join(weights, '..', 'config.json');
  if (configPath) config = parseConfigFile(configPath, new TextDecoder().decode(await readOr(configPath, 'config')));
  else if (preset) {
    if (!(preset in presets)) throw new UsageError(`unknown --model '${preset}' (expected ${PRESETS.join(', ')})`);
    config = presets[preset as keyof typeof presets];
  } else {
    let text: string;
    try { text = await readFile(beside, 'utf8'); } catch { throw new UsageError(`no --config given and no config.json beside '${weights}' (looked for '${beside}'); pass --config or --model`); }
    config = parseConfigFile(beside, text);
  }
  const bytes = await readOr(weights, 'weights');
  try {
    return Yolos.fromSafetensors(bytes, config, { name: weights });
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(weights) ? msg : `weights '${weights}': ${msg}`);
  }
}

export interface DetectOptions { weights: string; config?: string; model?: string; threshold: number; size?: number; maxSize?: number; out: string }

export function detectCommand(cmd: Command): Command {
  return cmd
    .description('detect objects: one JSON line per detection on stdout, an annotated PNG per image in --out')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, GIF, AVIF, TIFF)')
    .requiredOption('--weights <path>', 'safetensors weights in the Hugging Face layout')
    .option('--config <path>', "the model's config.json (Hub form); default: config.json beside the weights, else the --model preset")
    .option('--model <name>', `preset when there is no config.json (${PRESETS.join(', ')})`, oneOf(PRESETS))
    .option('--threshold <x>', 'keep detections with score > X', inRange(0, 1), 0.9)
    .option('--size <n>', "shortest edge after resizing (default from the config: 512 for tiny, 800 for the other Hub models, the image size for nano16)", int(16))
    .option('--max-size <n>', 'cap on the longest edge (default from the config, 1333 for Hub models)', int(16))
    .option('--out <dir>', 'where the annotated PNGs go; one file per image, <name>.png, with -2, -3… when names repeat', 'out/detect')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (images: string[], o: DetectOptions) => { await runDetect(images, o); });
}

export async function runDetect(paths: string[], o: DetectOptions): Promise<void> {
  const images = await Promise.all(paths.map(async (p) => ({ path: p, img: await decodeImage(await readOr(p, 'image'), p) })));
  const names = uniqueOutputNames(paths);
  const engine = await init();
  try {
    const model = await loadModel(o.weights, o.config, o.model);
    const resize = { ...defaultResize(model.config), ...(o.size ? { shortestEdge: o.size } : {}), ...(o.maxSize ? { longestEdge: o.maxSize } : {}) };
    try {
      await mkdir(o.out, { recursive: true });
    } catch (e) {
      throw new Error(`cannot create the output folder '${o.out}': ${describeFsError(e)}`);
    }
    for (const [i, { path, img }] of images.entries()) {
      const [dets] = await detect(model, [img], { threshold: o.threshold, resize });
      const file = join(o.out, names[i]);
      for (const d of dets) console.log(JSON.stringify({ image: path, label: d.label, name: d.labelName, score: +d.score.toFixed(4), box: d.box.map((v) => +v.toFixed(2)), out: file }));
      const canvas = { width: img.width, height: img.height, data: Uint8Array.from(img.data) };
      drawDetections(canvas, dets);
      await writeAtomic(file, encodePng({ ...canvas, channels: 4 }));
      console.error(`${path}: ${dets.length} detection(s) → ${file}`);
    }
    model.dispose();
  } finally {
    engine.dispose();
  }
}
