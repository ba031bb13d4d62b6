/** `yolos detect`: one JSON line per detection on stdout, an annotated PNG per image. */
import { parseArgs } from 'node:util';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { init } from '../engine/index.ts';
import { Yolos } from './model.ts';
import { parseConfig, presets, type YolosConfig } from './config.ts';
import { decodeImage, encodePng } from './image-io.ts';
import { detect, defaultResize } from './detect.ts';
import { drawDetections } from './draw.ts';
import { UsageError } from './cli-usage.ts';

export const DETECT_HELP = `usage: yolos detect <images...> --weights model.safetensors [options]

  --weights PATH     safetensors weights in the Hugging Face layout (required)
  --config PATH      the model's config.json (Hub form); default: config.json beside the weights,
                     else the preset named by --model
  --model NAME       preset when there is no config.json (tiny, small, small-dwr, base, nano16)
  --threshold X      keep detections with score > X (default 0.9)
  --size N           shortest edge after resizing (default from the config: 512 for tiny, 800 otherwise)
  --max-size N       cap on the longest edge (default 1333)
  --out DIR          where annotated PNGs go (default: out/detect)`;

async function readOr(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export async function loadModel(weights: string, configPath?: string, preset?: string): Promise<Yolos> {
  let config: YolosConfig;
  const beside = join(weights, '..', 'config.json');
  if (configPath) config = parseConfig(new TextDecoder().decode(await readOr(configPath, 'config')));
  else if (preset) {
    if (!(preset in presets)) throw new UsageError(`unknown --model '${preset}' (expected ${Object.keys(presets).join(', ')})`);
    config = presets[preset as keyof typeof presets];
  } else {
    try { config = parseConfig(new TextDecoder().decode(await readFile(beside))); }
    catch { throw new UsageError(`no --config given and no config.json beside ${weights}; pass --config or --model`); }
  }
  return Yolos.fromSafetensors(await readOr(weights, 'weights'), config);
}

export async function runDetect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      weights: { type: 'string' }, config: { type: 'string' }, model: { type: 'string' }, threshold: { type: 'string' },
      size: { type: 'string' }, 'max-size': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(DETECT_HELP); return 0; }
  if (!positionals.length) throw new UsageError('no images given (usage: yolos detect <images...> --weights model.safetensors)');
  if (!values.weights) throw new UsageError('--weights is required');
  const threshold = values.threshold === undefined ? 0.9 : Number(values.threshold);
  if (!(threshold >= 0 && threshold < 1)) throw new UsageError(`--threshold must be in [0, 1), got '${values.threshold}'`);
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 16) throw new UsageError(`${name} must be an integer ≥ 16, got '${v}'`);
    return n;
  };
  const size = num(values.size, '--size'), maxSize = num(values['max-size'], '--max-size');
  const images = await Promise.all(positionals.map(async (p) => ({ path: p, img: decodeImage(await readOr(p, 'image'), p) })));
  const engine = await init();
  try {
    const model = await loadModel(values.weights, values.config, values.model);
    const resize = { ...defaultResize(model.config), ...(size ? { shortestEdge: size } : {}), ...(maxSize ? { longestEdge: maxSize } : {}) };
    const outDir = values.out ?? 'out/detect';
    await mkdir(outDir, { recursive: true });
    for (const { path, img } of images) {
      const [dets] = await detect(model, [img], { threshold, resize });
      for (const d of dets) console.log(JSON.stringify({ image: path, label: d.label, name: d.labelName, score: +d.score.toFixed(4), box: d.box.map((v) => +v.toFixed(2)) }));
      const canvas = { width: img.width, height: img.height, data: Uint8Array.from(img.data) };
      drawDetections(canvas, dets);
      const file = join(outDir, `${basename(path, extname(path))}.png`);
      await writeFile(file, encodePng({ ...canvas, channels: 4 }));
      console.error(`${path}: ${dets.length} detection(s) → ${file}`);
    }
    model.dispose();
  } finally {
    engine.dispose();
  }
  return 0;
}
