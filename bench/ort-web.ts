/**
 * bench/ort.ts's browser side: onnxruntime-web (WebGPU EP) and our engine in one headless Chromium page,
 * on the adapter Chromium gives WebGPU (its SwiftShader on a machine without a GPU). Everything the
 * page loads is served from disk through Playwright routes on http://localhost (a secure context):
 * ORT-web's dist files, the ONNX graphs, the weights, the input, and our browser entry bundled by esbuild.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_WEBGPU_ARGS } from '../test/chromium-args.ts';

export interface WebPeer {
  adapter: string;
  version: string;
  /** An ORT-web session `name` for the graph at `graph`, fed `pixels` of `shape`. */
  load(name: string, graph: string, pixels: Float32Array, shape: number[]): Promise<void>;
  /** Our model in the page from safetensors weights (presets.tiny), fed `pixels`. */
  loadOurs(weights: string, pixels: Float32Array, shape: number[]): Promise<void>;
  /** Wall ms of one forward with outputs read back, timed in the page. */
  sample(name: string): Promise<number>;
  outputs(name: string): Promise<{ logits: Float32Array; boxes: Float32Array }>;
  close(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist') + '/';

// Runs in the page. `ours` comes from our bundle, `ort` from ORT-web's WebGPU bundle.
const PAGE = `
import * as ort from '/ort/ort.webgpu.bundle.min.mjs';
import * as ours from '/ours.mjs';
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = '/ort/';
const runs = new Map();
const bin = async (url) => new Float32Array(await (await fetch(url)).arrayBuffer());
let engine = null, model = null;
window.bench = {
  async load(name, graph, shape) {
    const session = await ort.InferenceSession.create(graph, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
    const feed = { pixel_values: new ort.Tensor('float32', await bin('/pixels.bin'), shape) };
    runs.set(name, async () => { const o = await session.run(feed); return { logits: o.logits.data, boxes: o.pred_boxes.data }; });
  },
  async loadOurs(weights, config, shape) {
    engine ??= await ours.init();
    model ??= ours.Yolos.fromSafetensors(new Uint8Array(await (await fetch(weights)).arrayBuffer()), config);
    const x = ours.tensor(await bin('/pixels.bin'), shape);
    runs.set('ours', async () => {
      const out = ours.scope(() => model.predict(x));
      const r = { logits: await out.logits.data(), boxes: await out.boxes.data() };
      out.logits.dispose(); out.boxes.dispose();
      return r;
    });
  },
  async sample(name) { const t = performance.now(); await runs.get(name)(); return performance.now() - t; },
  async outputs(name) { const o = await runs.get(name)(); return { logits: Array.from(o.logits), boxes: Array.from(o.boxes) }; },
  async adapter() { const a = await navigator.gpu.requestAdapter(); return [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' / '); },
  version: ort.env.versions?.web ?? '?',
};
window.benchReady = true;
`;

async function bundleOurs(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(root, 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].text;
}

export async function openWebPeer(): Promise<WebPeer> {
  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_WEBGPU_ARGS, headless: true });
  const page: Page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`bench/ort-web: page error: ${e.message}`));
  const files = new Map<string, { body: Buffer | string; type: string }>();
  files.set('/', { body: `<!doctype html><script type="module" src="/page.mjs"></script>`, type: 'text/html' });
  files.set('/page.mjs', { body: PAGE, type: 'text/javascript' });
  files.set('/ours.mjs', { body: await bundleOurs(), type: 'text/javascript' });
  await page.route('http://localhost/**', async (route) => {
    const path = new URL(route.request().url()).pathname;
    const f = files.get(path);
    if (f) return route.fulfill({ body: f.body, contentType: f.type });
    if (path.startsWith('/ort/')) {
      const name = path.slice('/ort/'.length);
      return route.fulfill({
        body: await readFile(ortDist + name),
        contentType: name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
      });
    }
    return route.fulfill({ status: 404, body: `bench/ort-web: nothing served at ${path}` });
  });
  await page.goto('http://localhost/');
  await page.waitForFunction(() => (window as unknown as { benchReady?: boolean }).benchReady === true, null, { timeout: 120_000 });
  const adapter = `Chromium WebGPU: ${await page.evaluate(() => (window as any).bench.adapter())}`;
  const version = await page.evaluate(() => (window as any).bench.version as string);
  const serve = (path: string, body: Buffer, type = 'application/octet-stream') => files.set(path, { body, type });
  const pixelsBody = (p: Float32Array) => Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  return {
    adapter,
    version,
    async load(name, graph, pixels, shape) {
      serve(`/${name}.onnx`, await readFile(graph));
      serve('/pixels.bin', pixelsBody(pixels));
      await page.evaluate(([n, s]) => (window as any).bench.load(n, `/${n}.onnx`, s), [name, shape] as const);
    },
    async loadOurs(weights, pixels, shape) {
      serve('/weights.safetensors', await readFile(weights));
      serve('/pixels.bin', pixelsBody(pixels));
      const { presets } = await import('../yolos/config.ts');
      await page.evaluate(([c, s]) => (window as any).bench.loadOurs('/weights.safetensors', c, s), [presets.tiny, shape] as const);
    },
    sample: (name) => page.evaluate((n) => (window as any).bench.sample(n) as Promise<number>, name),
    async outputs(name) {
      const o = await page.evaluate((n) => (window as any).bench.outputs(n) as Promise<{ logits: number[]; boxes: number[] }>, name);
      return { logits: Float32Array.from(o.logits), boxes: Float32Array.from(o.boxes) };
    },
    close: () => browser.close(),
  };
}
