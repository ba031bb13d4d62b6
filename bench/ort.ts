/**
 * YOLOS-Ti forward: ours vs ONNX Runtime, same weights, same input, interleaved samples.
 *
 *   npx tsx bench/ort.ts [--sizes 256x320,512x672] [--peers cpu,webgpu,webgpu-mha,web-webgpu,web-webgpu-mha]
 *                        [--repeats 5] [--seed 0] [--dir out/ort]
 *
 * Peers: onnxruntime-node's CPU and WebGPU EPs (its own Dawn; on a machine without a GPU the Vulkan loader
 * gives it lavapipe, as ours), and onnxruntime-web's WebGPU EP in headless Chromium (bench/ort-web.ts:
 * Chromium's own SwiftShader; ours is timed in the same page then, so that ratio is same-adapter too).
 * `-mha` peers run the graph whose attention is com.microsoft.MultiHeadAttention (ORT's fused kernels).
 *
 * The graphs are not made here: the first run writes the weights of Yolos.create(presets.tiny, {seed})
 * to DIR and names the tools/export_yolos_onnx.py commands that are still to run. A figure is the median
 * wall time of one forward with its outputs read back (session.run returns host tensors; ours awaits
 * logits and boxes). Each peer's outputs are checked against ours (max |Δ| of logits and boxes).
 * Writes bench/results/ort-<adapter>.json ($OUT when set).
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { mkdir, writeFile, rename } from 'node:fs/promises';
import { loadavg, cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { init, tensor, scope, describeAdapterOf } from '../engine/node.ts';
import { Yolos, presets } from '../yolos/index.ts';
import { median, randomNormal, resultsDir, adapterSlug } from './harness.ts';
import { openWebPeer, type WebPeer } from './ort-web.ts';

const PEERS = ['cpu', 'webgpu', 'webgpu-mha', 'web-webgpu', 'web-webgpu-mha'] as const;
type PeerName = (typeof PEERS)[number];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256x320,512x672' },
    peers: { type: 'string', default: PEERS.join(',') },
    repeats: { type: 'string', default: '5' },
    seed: { type: 'string', default: '0' },
    dir: { type: 'string', default: join('out', 'ort') },
  },
});
const fail = (msg: string): never => {
  console.error(`bench/ort: ${msg}`);
  process.exit(2);
};
const sizes = values.sizes!.split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || +m[1] % 16 || +m[2] % 16 || +m[1] === 0 || +m[2] === 0) fail(`--sizes: '${s}' must be HxW with multiples of 16, e.g. 512x672`);
  return [+m![1], +m![2]] as const;
});
const peers = values.peers!.split(',').map((p) => p.trim()) as PeerName[];
for (const p of peers) if (!PEERS.includes(p)) fail(`--peers: unknown peer '${p}' (expected ${PEERS.join(', ')})`);
const repeats = Number(values.repeats),
  seed = Number(values.seed);
if (!Number.isInteger(repeats) || repeats < 1) fail(`--repeats must be a positive integer, got '${values.repeats}'`);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got '${values.seed}'`);
const dir = values.dir!;

const loadBefore = loadavg()[0];
const engine = await init();
console.log(`ours: ${describeAdapterOf(engine)}`);
const model = Yolos.create(presets.tiny, { seed });

// The weights the graphs are exported from: written once (atomically), then reused.
const stem = join(dir, `yolos-tiny-seed${seed}`);
const graphPath = (H: number, W: number, mha: boolean) => `${stem}-${H}x${W}${mha ? '-mha' : ''}.onnx`;
await mkdir(dir, { recursive: true });
if (!existsSync(`${stem}.safetensors`)) {
  await writeFile(`${stem}.safetensors.tmp`, await model.saveSafetensors());
  await rename(`${stem}.safetensors.tmp`, `${stem}.safetensors`);
  await writeFile(`${stem}.config.json`, JSON.stringify(presets.tiny));
}
const variants = [peers.some((p) => !p.endsWith('-mha')) ? [false] : [], peers.some((p) => p.endsWith('-mha')) ? [true] : []].flat();
const missing = sizes
  .flatMap(([H, W]) => variants.map((mha) => [graphPath(H, W, mha), H, W, mha] as const))
  .filter(([f]) => !existsSync(f))
  .map(
    ([f, H, W, mha]) =>
      `/usr/bin/python3 tools/export_yolos_onnx.py ${stem}.safetensors ${stem}.config.json ${f} ${H}x${W}${mha ? ' --fused-attention' : ''}`,
  );
if (missing.length) fail(`missing ONNX graphs; export them from the weights just written:\n  ${missing.join('\n  ')}`);

process.env.ONNXRUNTIME_NODE_INSTALL ??= 'skip';
const ort = await import('onnxruntime-node');
let web: WebPeer | null = null;
if (peers.some((p) => p.startsWith('web-'))) web = await openWebPeer();

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

interface Side {
  name: string;
  adapter: string;
  sample: () => Promise<number>;
  outputs: () => Promise<{ logits: Float32Array; boxes: Float32Array }>;
}
const rows = [];
for (const [H, W] of sizes) {
  const L = (H / 16) * (W / 16) + 101;
  const pixels = randomNormal(3 * H * W, seed + 1);
  const x = tensor(pixels, [1, 3, H, W]);
  const oursOut = async () => {
    const out = scope(() => model.predict(x));
    const [logits, boxes] = [await out.logits.data(), await out.boxes.data()] as Float32Array[];
    out.logits.dispose();
    out.boxes.dispose();
    return { logits, boxes };
  };
  const ours: Side = {
    name: 'ours',
    adapter: describeAdapterOf(engine),
    outputs: oursOut,
    sample: async () => {
      const t = performance.now();
      await oursOut();
      return performance.now() - t;
    },
  };
  const sides: Side[] = [];
  for (const p of peers) {
    const mha = p.endsWith('-mha');
    if (p.startsWith('web-')) {
      await web!.load(p, graphPath(H, W, mha), pixels, [1, 3, H, W]);
      sides.push({ name: p, adapter: web!.adapter, sample: () => web!.sample(p), outputs: () => web!.outputs(p) });
      continue;
    }
    const session = await ort.InferenceSession.create(graphPath(H, W, mha), {
      executionProviders: [p === 'cpu' ? 'cpu' : 'webgpu'],
      graphOptimizationLevel: 'all',
    });
    const feed = { pixel_values: new ort.Tensor('float32', pixels, [1, 3, H, W]) };
    const run = async () => {
      const o = await session.run(feed);
      return { logits: o.logits.data as Float32Array, boxes: o.pred_boxes.data as Float32Array };
    };
    sides.push({
      name: p,
      adapter: p === 'cpu' ? `${cpus().length} CPU threads` : 'onnxruntime-node WebGPU EP (its own Dawn, Vulkan loader default)',
      outputs: run,
      sample: async () => {
        const t = performance.now();
        await run();
        return performance.now() - t;
      },
    });
  }
  // Ours in Chromium too, when a web peer is asked for: the same page and adapter as ORT-web.
  if (web) {
    await web.loadOurs(`${stem}.safetensors`, pixels, [1, 3, H, W]);
    sides.push({ name: 'ours-web', adapter: web.adapter, sample: () => web!.sample('ours'), outputs: () => web!.outputs('ours') });
  }
  const want = await ours.outputs();
  const check: Record<string, { logits: number; boxes: number }> = {};
  for (const s of sides) {
    const got = await s.outputs(); // also a warm-up
    check[s.name] = { logits: maxAbs(got.logits, want.logits), boxes: maxAbs(got.boxes, want.boxes) };
  }
  await ours.sample();
  const samples: Record<string, number[]> = { ours: [] };
  for (const s of sides) samples[s.name] = [];
  for (let r = 0; r < repeats; r++) {
    samples.ours.push(await ours.sample());
    for (const s of sides) samples[s.name].push(await s.sample());
    console.log(
      `  ${H}×${W} sample ${r + 1}/${repeats}: ${Object.entries(samples)
        .map(([k, v]) => `${k} ${v.at(-1)!.toFixed(0)} ms`)
        .join(', ')}`,
    );
  }
  const oursMs = median(samples.ours);
  const webOursMs = samples['ours-web'] ? median(samples['ours-web']) : null;
  for (const s of sides) {
    if (s.name === 'ours-web') continue;
    const peerMs = median(samples[s.name]);
    // web peers are compared with ours in the same page; node peers with ours in Node
    const base = s.name.startsWith('web-') ? webOursMs! : oursMs;
    rows.push({
      size: `${H}×${W}`,
      tokens: L,
      peer: s.name,
      peerAdapter: s.adapter,
      peerMs,
      oursMs: base,
      peerOverOurs: peerMs / base,
      maxAbsDiff: check[s.name],
      samplesMs: { peer: samples[s.name], ours: s.name.startsWith('web-') ? samples['ours-web'] : samples.ours },
    });
  }
  if (webOursMs !== null)
    rows.push({
      size: `${H}×${W}`,
      tokens: L,
      peer: 'ours-web',
      peerAdapter: web!.adapter,
      peerMs: webOursMs,
      oursMs,
      peerOverOurs: webOursMs / oursMs,
      maxAbsDiff: check['ours-web'],
      samplesMs: { peer: samples['ours-web'], ours: samples.ours },
    });
  x.dispose();
}
const loadAfter = loadavg()[0];
console.log(
  `\n## YOLOS-Ti forward: ours vs ONNX Runtime ${ort.env.versions?.common ?? ''} (median of ${repeats} interleaved samples; load ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on ${cpus().length} CPUs)\n`,
);
console.log('| input | tokens | peer | peer ms | ours ms | peer ÷ ours | max abs Δ logits / boxes |\n|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.size} | ${r.tokens} | ${r.peer} | ${r.peerMs.toFixed(0)} | ${r.oursMs.toFixed(0)} | ${r.peerOverOurs.toFixed(2)} | ${r.maxAbsDiff.logits.toExponential(1)} / ${r.maxAbsDiff.boxes.toExponential(1)} |`,
  );
console.log(
  '"peer ÷ ours" > 1: ours is faster. web-* peers are compared with ours in the same Chromium page (ours-web); ours-web\'s row compares it with ours in Node.',
);

const payload = {
  bench: 'ort',
  date: new Date().toISOString(),
  host: hostname(),
  node: process.version,
  argv: process.argv.slice(2),
  load: { cpus: cpus().length, before: loadBefore, after: loadAfter },
  ours: describeAdapterOf(engine),
  ort: ort.env.versions ?? null,
  web: web ? { adapter: web.adapter, version: web.version } : null,
  model: `Yolos.create(presets.tiny, { seed: ${seed} })`,
  input: `randomNormal(seed ${seed + 1}), batch 1`,
  figure: 'wall ms of one forward with outputs read back, median of interleaved samples; peerOverOurs = peerMs / oursMs',
  rows,
};
const out = resultsDir();
await mkdir(out, { recursive: true });
// node-only and web-only runs (they take very different times) keep separate files
const kind = peers.every((p) => p.startsWith('web-')) ? '-web' : peers.some((p) => p.startsWith('web-')) ? '' : '-node';
const file = join(out, `ort-${adapterSlug(engine)}${kind}.json`);
await writeFile(`${file}.tmp`, `${JSON.stringify(payload, null, 2)}\n`);
await rename(`${file}.tmp`, file);
console.log(`wrote ${file}`);
await web?.close();
model.dispose();
engine.dispose();
process.exit(0); // ORT's and Chromium's handles would keep the process alive
