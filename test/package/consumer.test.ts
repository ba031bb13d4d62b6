/**
 * The package as a new user gets it: `npm pack`, then the tarball installed with production dependencies
 * only into fresh projects — (a) a plain Node .mjs script, (b) a strict TypeScript project, (c) a Vite app
 * with the default config in headless Chromium (main thread and a module Worker), (d) the `yolos` CLI.
 * Each consumer detects shapes with the committed nano-16 model on a rendered validation image.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';
import { CHROMIUM_WEBGPU_ARGS } from '../chromium-args.ts';
import { serveStatic } from '../e2e/server.ts';
import { startHub } from '../hub/hub-server.ts';
import { shapesDataset } from '../../yolos/data/shapes.ts';
import { SHAPES_VAL } from '../../yolos/train/data.ts';
import { REPO, consumer, pack, sh, tarballFiles } from './pack.ts';

const MODEL = join(REPO, 'models/shapes-nano16.safetensors');
const CONFIG = join(REPO, 'models/config.json');
const devVersion = (name: string) =>
  `${name}@${(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).devDependencies as Record<string, string>)[name]}`;

/** A shapes validation image as PNG bytes (what a user would pass). */
function shapesPng(): Buffer {
  const s = shapesDataset({ ...SHAPES_VAL, count: 1 }).get(0);
  const png = new PNG({ width: s.width, height: s.height });
  const hw = s.width * s.height;
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) png.data[4 * p + c] = Math.round(s.image[c * hw + p]! * 255);
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** Copies the model, its config and a test image into `dir`. */
function addAssets(dir: string): void {
  mkdirSync(dir, { recursive: true });
  copyFileSync(MODEL, join(dir, 'model.safetensors'));
  copyFileSync(CONFIG, join(dir, 'config.json'));
  writeFileSync(join(dir, 'shapes.png'), shapesPng());
}

interface Det {
  score: number;
  label: string;
  labelId: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
}

function expectShapes(dets: Det[]): void {
  expect(dets.length).toBeGreaterThan(0);
  for (const d of dets) {
    expect(['circle', 'square', 'triangle']).toContain(d.label);
    expect(d.score).toBeGreaterThan(0.5);
    expect(d.box.xmax).toBeGreaterThan(d.box.xmin);
  }
}

let tgz = '';
beforeAll(() => {
  tgz = pack();
}, 300_000);

describe('npm pack', () => {
  test('publishes the built package and nothing of the repository', () => {
    const files = tarballFiles(tgz);
    for (const f of [
      'package.json',
      'LICENSE',
      'README.md',
      'bin/yolos.mjs',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node.js',
      'dist/yolos/node.js',
      'dist/hungarian/index.js',
      'dist/engine/index.js.map',
    ]) {
      expect(files, f).toContain(f);
    }
    const stray = files.filter(
      (f) =>
        /^(test|bench|tools|web|models|scripts|\.ci|engine|yolos|hungarian)\//.test(f) ||
        (/\.ts$/.test(f) && !f.endsWith('.d.ts')) ||
        f.startsWith('dist/web/'),
    );
    expect(stray).toEqual([]);
  });
});

describe('consumers of the tarball', () => {
  test('(a) a plain Node .mjs script detects from a Buffer-loaded file', () => {
    const dir = consumer('node', tgz);
    addAssets(dir);
    writeFileSync(
      join(dir, 'run.mjs'),
      `
import { readFileSync } from 'node:fs';
import { init } from 'yolos-webgpu';
import { createDetector, detect, decodeImage, Yolos, parseConfig } from 'yolos-webgpu/yolos';

const engine = await init();
// the natural Node call: a Buffer from readFileSync (a view into Node's pool for small files)
const config = parseConfig(readFileSync('config.json', 'utf8'));
const model = Yolos.fromSafetensors(readFileSync('model.safetensors'), config);
const [low] = await detect(model, [await decodeImage(readFileSync('shapes.png'), 'shapes.png')], { threshold: 0.5 });
const detector = await createDetector({ weights: readFileSync('model.safetensors'), config });
const dets = await detector('shapes.png', { threshold: 0.5 });
if (dets.length !== low.length) throw new Error('detector found ' + dets.length + ', detect() ' + low.length);
console.log(JSON.stringify(dets));
detector.dispose();
model.dispose();
engine.dispose();
`,
    );
    const out = sh('node', ['run.mjs'], dir);
    expectShapes(JSON.parse(out.trim().split('\n').pop()!) as Det[]);
  }, 300_000);

  test('(b) a strict TypeScript project type-checks against the package', () => {
    const dir = consumer('ts', tgz, [devVersion('typescript'), devVersion('@types/node')]);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          lib: ['ES2023', 'DOM'],
        },
        include: ['src'],
      }),
    );
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'src/main.ts'),
      `
import { readFileSync } from 'node:fs';
import { init, tensor, type Tensor, type Engine } from 'yolos-webgpu';
import { Yolos, createDetector, parseConfig, type DetectedObject } from 'yolos-webgpu/yolos';
import { linearSumAssignment } from 'yolos-webgpu/hungarian';

const engine: Engine = await init();
const t: Tensor = tensor([[1, 2], [3, 4]]).matmul(tensor([[1], [1]]));
const values: Float32Array | Int32Array | Uint32Array | Uint16Array = await t.data();
const model = Yolos.fromSafetensors(readFileSync('model.safetensors'), parseConfig(readFileSync('config.json', 'utf8')));
const detector = await createDetector(model);
const dets: DetectedObject[][] = await detector(['a.png'], { threshold: 0.5 });
const first = dets[0]?.[0];
if (first) console.log(first.label, first.box.xmin, values.length, engine.memory().liveBytes);
console.log(linearSumAssignment(new Float64Array([1, 2, 2, 1]), 2, 2));
detector.dispose();
`,
    );
    sh(join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], dir);
  }, 300_000);

  test('(c) a Vite app with the default config builds and detects in Chromium, main thread and Worker, from a Hub fixture', async () => {
    const dir = consumer('vite', tgz, [devVersion('vite')]);
    addAssets(join(dir, 'public'));
    for (const f of ['index.html', 'main.js', 'worker.js', 'detect.js']) copyFileSync(join(import.meta.dirname, 'app', f), join(dir, f));
    sh(join(dir, 'node_modules/.bin/vite'), ['build'], dir);
    expect(existsSync(join(dir, 'dist/index.html'))).toBe(true);
    const files = { 'config.json': readFileSync(CONFIG), 'model.safetensors': readFileSync(MODEL) };
    const hub = await startHub({ 'test-org/nano16': { main: files } });
    const server = await serveStatic(join(dir, 'dist'));
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_WEBGPU_ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}?endpoint=${encodeURIComponent(hub.endpoint)}`);
      await page.waitForFunction(() => (window as unknown as { results?: unknown }).results, undefined, { timeout: 180_000 });
      type Run = { dets: Det[]; downloaded: string[] };
      const results = await page.evaluate(() => (window as unknown as { results: { main?: Run; worker?: Run; error?: string } }).results);
      expect(results.error, results.error).toBeUndefined();
      expect(errors).toEqual([]);
      expectShapes(results.main!.dets);
      expect(results.worker!.dets).toEqual(results.main!.dets); // same adapter, same kernels: the same numbers
      // the page downloaded both files through the Hub's redirect; the Worker found them in the Cache API
      expect(results.main!.downloaded.sort()).toEqual(['config.json', 'model.safetensors']);
      expect(results.worker!.downloaded).toEqual([]);
      expect(hub.log.filter((l) => l.includes('/resolve/main/model.safetensors'))).toHaveLength(1);
    } finally {
      await browser.close();
      await server.close();
      await hub.close();
    }
  }, 400_000);

  test('(d) `npx yolos --help`, `--version` and `npx yolos detect` work from the consumer', () => {
    const dir = consumer('cli', tgz);
    addAssets(dir);
    expect(sh('npx', ['--no-install', 'yolos', '--help'], dir)).toMatch(/usage: yolos/i);
    expect(sh('npx', ['--no-install', 'yolos', '--version'], dir).trim()).toBe(
      JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version,
    );
    const out = sh(
      'npx',
      ['--no-install', 'yolos', 'detect', 'shapes.png', '--weights', 'model.safetensors', '--threshold', '0.5', '--out', 'out'],
      dir,
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; score: number });
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(['circle', 'square', 'triangle']).toContain(l.name);
    expect(existsSync(join(dir, 'out'))).toBe(true);
  }, 300_000);
});
