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
import { UsageError, int, inRange, EXIT_CODES_HELP } from './cli-usage.ts';

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
    try {
      text = await readFile(beside, 'utf8');
    } catch {
      throw new UsageError(`no --config given and no config.json beside '${weights}' (looked for '${beside}'); pass --config or --model`);
    }
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

export interface DetectOptions {
  weights?: string;
  config?: string;
  model?: string;
  revision?: string;
  offline?: boolean;
  cache: boolean;
  threshold: number;
  size?: number;
  maxSize?: number;
  maxPixels?: number;
  out: string;
}

const isPreset = (m: string | undefined): m is string => m !== undefined && m in presets;

/** `--model` as a preset (with --weights), or a Hub id / URL / local folder loaded with fromPretrained. */
async function modelFor(o: DetectOptions): Promise<Yolos> {
  if (o.weights) return loadModel(o.weights, o.config, o.model);
  if (!o.model)
    throw new UsageError('give --weights model.safetensors, or --model with a Hub id (hustvl/yolos-tiny), a URL or a model folder');
  if (isPreset(o.model)) throw new UsageError(`--model ${o.model} is a preset (random weights): give its --weights too`);
  let last = 0;
  return Yolos.fromPretrained(o.model, {
    ...(o.revision ? { revision: o.revision } : {}),
    ...(o.offline ? { offline: true } : {}),
    cache: o.cache,
    onProgress: (p) => {
      const now = Date.now();
      if (p.loaded === p.total || now - last > 1000) {
        last = now;
        console.error(`${p.file}: ${(p.loaded / 2 ** 20).toFixed(1)}${p.total ? ` / ${(p.total / 2 ** 20).toFixed(1)}` : ''} MiB`);
      }
    },
  });
}

export function detectCommand(cmd: Command): Command {
  return cmd
    .description('detect objects: one JSON line per detection on stdout, an annotated PNG per image in --out')
    .argument('<images...>', 'image files (PNG, JPEG, WebP, GIF, AVIF, TIFF)')
    .option('--weights <path>', 'safetensors weights in the Hugging Face layout (or use --model with a Hub id)')
    .option('--config <path>', "the model's config.json (Hub form); default: config.json beside the weights, else the --model preset")
    .option(
      '--model <name|id>',
      `a preset when there is no config.json (${PRESETS.join(', ')}); without --weights, a Hub id (hustvl/yolos-tiny), a URL or a model folder, downloaded once and cached`,
    )
    .option('--revision <rev>', 'the Hub branch, tag or commit of --model (default main)')
    .option('--offline', 'use only cached models (also HF_HUB_OFFLINE=1)')
    .option('--no-cache', 'download --model again, bypassing the caches')
    .option('--max-pixels <n>', 'refuse images with more pixels than this before decoding (default 178956970, as PIL)', int(1))
    .option('--threshold <x>', 'keep detections with score > X', inRange(0, 1), 0.9)
    .option(
      '--size <n>',
      'shortest edge after resizing (default from the config: 512 for tiny, 800 for the other Hub models, the image size for nano16)',
      int(16),
    )
    .option('--max-size <n>', 'cap on the longest edge (default from the config, 1333 for Hub models)', int(16))
    .option('--out <dir>', 'where the annotated PNGs go; one file per image, <name>.png, with -2, -3… when names repeat', 'out/detect')
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (images: string[], o: DetectOptions) => {
      await runDetect(images, o);
    });
}

export async function runDetect(paths: string[], o: DetectOptions): Promise<void> {
  if (o.weights && o.model && !isPreset(o.model))
    throw new UsageError(
      `--model '${o.model}' with --weights: name a preset (${PRESETS.join(', ')}), or drop --weights to load a Hub model`,
    );
  const decode = o.maxPixels === undefined ? {} : { maxPixels: o.maxPixels };
  const images = await Promise.all(paths.map(async (p) => ({ path: p, img: await decodeImage(await readOr(p, 'image'), p, decode) })));
  const names = uniqueOutputNames(paths);
  const engine = await init();
  try {
    const model = await modelFor(o);
    const resize = {
      ...defaultResize(model.config),
      ...(o.size ? { shortestEdge: o.size } : {}),
      ...(o.maxSize ? { longestEdge: o.maxSize } : {}),
    };
    try {
      await mkdir(o.out, { recursive: true });
    } catch (e) {
      throw new Error(`cannot create the output folder '${o.out}': ${describeFsError(e)}`);
    }
    for (const [i, { path, img }] of images.entries()) {
      const [dets] = await detect(model, [img], { threshold: o.threshold, resize });
      const file = join(o.out, names[i]);
      for (const d of dets)
        console.log(
          JSON.stringify({
            image: path,
            label: d.label,
            name: d.labelName,
            score: +d.score.toFixed(4),
            box: d.box.map((v) => +v.toFixed(2)),
            out: file,
          }),
        );
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
