/**
 * Timing for the benchmarks: warm-up, a calibrated number of launches per sample, ≥ 5 samples, the
 * median — for our engine and for the peer, TensorFlow.js on its WebGPU backend, on the same adapter.
 *
 * Two clocks, both recorded for every row:
 *  - 'gpu-timestamp' (where the device has the `timestamp-query` feature): ours puts a timestamp at
 *    the start and end of every compute pass the runtime opens during a sample (the runtime's
 *    optional `passTimestamps` hook) and sums end − start; TF.js gives the same through `tf.time()`,
 *    which wraps each of its kernels in a timed pass (`kernelMs`). Both sums are kernel time on the
 *    device: copies between passes and idle gaps between submits are not in them. Dawn quantises
 *    timestamps (65.536 µs steps unless its `timestamp_quantization` toggle is off); the error is
 *    unbiased per pass, and a sample holds enough launches (`targetMs`) to make it small.
 *  - 'wall-clock': performance.now() around recording the launches and waiting until the queue is
 *    idle (`await engine().flush()`; for TF.js its command encoder submitted, then
 *    `queue.onSubmittedWorkDone()`). It includes the host's cost of recording and submitting.
 * A row's figure uses the timestamp clock when both sides have it, else the wall clock, and says which.
 */
import { join } from 'node:path';
import { engine, scope, type Engine } from '../engine/node.ts';
import { mulberry32 } from '../engine/prng.ts';
export { mulberry32 };

export type Method = 'gpu-timestamp' | 'wall-clock';

export interface TimeOptions {
  /** Un-timed runs first (pipeline compiles, uploads, pool warm-up). Default 2. */
  warmup?: number;
  /** Timed samples; the median is reported. At least 5. Default 5. */
  repeats?: number;
  /** Launches per sample are chosen so that a sample takes about this long (wall). Default 40 ms. */
  targetMs?: number;
  /** Cap on launches per sample. Default 64. */
  maxInner?: number;
}

export interface Timing {
  /** Median ms per launch by `method`. */
  ms: number;
  method: Method;
  /** Median ms per launch on each clock (null where the clock is unavailable). */
  gpuMs: number | null;
  wallMs: number;
  /** Per-sample ms per launch. */
  gpuSamples: number[] | null;
  wallSamples: number[];
  /** Launches per sample and the number of samples. */
  inner: number;
  repeats: number;
  /** Why the timestamp clock was not used, if it was not. */
  note?: string;
  /** Ours: every raw timestamp was a multiple of this many ns (Dawn's quantisation shows as 65536). */
  timestampQuantumNs?: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}


/** n seeded standard-normal floats (Box–Muller) times `scale`. */
export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rnd(), 1e-12), v = rnd();
    const r = Math.sqrt(-2 * Math.log(u)) * scale;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/**
 * GPU timestamps around every compute pass our runtime opens while installed (see the runtime's
 * `passTimestamps` hook). `stop()` resolves them and returns Σ (end − start) in ms, or null when
 * more passes were opened than the query set holds.
 */
export class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;
  private used = 0;
  private overflow = false;
  /** Raw timestamps of the last stop() were all multiples of this many ns (Dawn's quantisation). */
  quantumNs = 0;

  constructor(readonly e: Engine, private readonly capacity = 1024) {
    const d = e.device;
    this.querySet = d.createQuerySet({ label: 'bench-pass-timer', type: 'timestamp', count: 2 * capacity });
    this.resolveBuf = d.createBuffer({ label: 'bench-pass-timer-resolve', size: 16 * capacity, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readBuf = d.createBuffer({ label: 'bench-pass-timer-read', size: 16 * capacity, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  static available(e: Engine): boolean {
    return e.hasFeature('timestamp-query');
  }

  /** Call after `await flush()` (no pass open), before recording the work. */
  start(): void {
    this.used = 0;
    this.overflow = false;
    this.e.passTimestamps = () => {
      if (this.used >= this.capacity) { this.overflow = true; return undefined; }
      const i = 2 * this.used++;
      return { querySet: this.querySet, beginningOfPassWriteIndex: i, endOfPassWriteIndex: i + 1 };
    };
  }

  /** Call after `await flush()`: the timed passes have completed. */
  async stop(): Promise<number | null> {
    this.e.passTimestamps = null;
    if (this.overflow || this.used === 0) return null;
    const n = 2 * this.used;
    const d = this.e.device;
    const enc = d.createCommandEncoder({ label: 'bench-pass-timer' });
    enc.resolveQuerySet(this.querySet, 0, n, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 8 * n);
    d.queue.submit([enc.finish()]);
    await this.readBuf.mapAsync(GPUMapMode.READ, 0, 8 * n);
    const ts = new BigUint64Array(this.readBuf.getMappedRange(0, 8 * n).slice(0));
    this.readBuf.unmap();
    let ns = 0n;
    let q = 0n;
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    for (let i = 0; i < n; i += 2) {
      if (ts[i + 1] < ts[i]) return null; // a pass whose timestamps were not written
      ns += ts[i + 1] - ts[i];
      q = gcd(gcd(q, ts[i]), ts[i + 1]);
    }
    this.quantumNs = Number(q);
    return Number(ns) / 1e6;
  }

  destroy(): void {
    this.e.passTimestamps = null;
    this.querySet.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}

let passTimer: PassTimer | null = null;

function chooseInner(oneMs: number, o: Required<TimeOptions>): number {
  return Math.max(1, Math.min(o.maxInner, Math.round(o.targetMs / Math.max(oneMs, 1e-3))));
}

function defaults(opts: TimeOptions): Required<TimeOptions> {
  return { warmup: opts.warmup ?? 2, repeats: Math.max(5, opts.repeats ?? 5), targetMs: opts.targetMs ?? 40, maxInner: opts.maxInner ?? 64 };
}

/** One timed sample: ms per launch on each clock (gpu null where unavailable). */
export interface Sample { wall: number; gpu: number | null; note?: string; quantumNs?: number }

/** A warmed-up, calibrated benchmark that takes samples on demand (so two can be interleaved). */
export interface Sampler { inner: number; sample: () => Promise<Sample> }

/** Warms `fn` up on our engine, picks the launches per sample and returns its sampler. */
export async function oursSampler(fn: () => void, opts: TimeOptions = {}): Promise<Sampler> {
  const o = defaults(opts);
  const e = engine();
  for (let i = 0; i < o.warmup; i++) scope(fn);
  await e.flush();
  const t0 = performance.now();
  scope(fn);
  await e.flush();
  const inner = chooseInner(performance.now() - t0, o);
  let timer: PassTimer | null = null;
  if (PassTimer.available(e)) {
    if (!passTimer || passTimer.e !== e) passTimer = new PassTimer(e);
    timer = passTimer;
  }
  return {
    inner,
    sample: async () => {
      await e.flush();
      timer?.start();
      const t = performance.now();
      for (let i = 0; i < inner; i++) scope(fn);
      await e.flush();
      const wall = (performance.now() - t) / inner;
      const g = timer ? await timer.stop() : null;
      if (g === null) return { wall, gpu: null, note: timer ? 'timestamps overflowed or were not written' : 'the device has no timestamp-query' };
      return { wall, gpu: g / inner, quantumNs: timer!.quantumNs };
    },
  };
}

/** The median of `samples` on both clocks (the timestamp clock only when every sample has it). */
export function summarise(samples: Sample[], inner: number): Timing {
  const wall = samples.map((x) => x.wall);
  const gpuOk = samples.every((x) => x.gpu !== null);
  const gpu = gpuOk ? samples.map((x) => x.gpu!) : null;
  const gpuMs = gpu ? median(gpu) : null;
  const wallMs = median(wall);
  const note = samples.find((x) => x.note)?.note;
  const quanta = samples.map((x) => x.quantumNs).filter((q): q is number => q !== undefined);
  return {
    ms: gpuMs ?? wallMs, method: gpuMs !== null ? 'gpu-timestamp' : 'wall-clock', gpuMs, wallMs, gpuSamples: gpu, wallSamples: wall, inner, repeats: samples.length,
    ...(gpuOk ? {} : { note }), ...(quanta.length ? { timestampQuantumNs: Math.min(...quanta) } : {}),
  };
}

/**
 * Times `fn` (which records work on our engine; tensors it makes are freed by a scope around each
 * launch) and returns the median ms per launch on both clocks.
 */
export async function timeOurs(fn: () => void, opts: TimeOptions = {}): Promise<Timing> {
  const s = await oursSampler(fn, opts);
  const samples: Sample[] = [];
  for (let r = 0; r < defaults(opts).repeats; r++) samples.push(await s.sample());
  return summarise(samples, s.inner);
}

/**
 * Times two samplers with their samples interleaved (a, b, a, b, …): on a shared machine whose load
 * drifts, both sides then see the same conditions.
 */
export async function timeInterleaved(a: Sampler, b: Sampler, repeats: number): Promise<[Timing, Timing]> {
  const sa: Sample[] = [], sb: Sample[] = [];
  for (let r = 0; r < Math.max(5, repeats); r++) {
    sa.push(await a.sample());
    sb.push(await b.sample());
  }
  return [summarise(sa, a.inner), summarise(sb, b.inner)];
}

// ---------------------------------------------------------------- TensorFlow.js, the peer

export type TF = typeof import('@tensorflow/tfjs-core');

/** The parts of TF.js's WebGPUBackend the timing needs (not in its public types). */
interface TfWebGPUBackend {
  device: GPUDevice;
  queue: GPUQueue;
  commandEncoder: GPUCommandEncoder | null;
  supportTimestampQuery: boolean;
  adapterInfo?: { vendor?: string; architecture?: string; description?: string };
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export interface TfPeer {
  tf: TF;
  backend: TfWebGPUBackend;
  version: string;
  /** What TF.js's adapter says it is (it must be the engine's). */
  adapter: string;
}

let peer: TfPeer | null = null;

/**
 * Loads TensorFlow.js with its WebGPU backend on the engine's own WebGPU instance: in Node,
 * `navigator.gpu` is set to the GPU object dawn.node's `create()` returned for the engine
 * (`engine().instance`), so `requestAdapter()` finds the same adapter (same Vulkan driver).
 */
export async function tfjs(): Promise<TfPeer> {
  if (peer) return peer;
  const e = engine();
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const gpu = e.instance as GPU;
    if (!gpu || typeof (gpu as GPU).requestAdapter !== 'function') throw new Error('bench: the engine has no WebGPU instance to share with TF.js');
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu, userAgent: 'node' }, configurable: true, writable: true });
  }
  const tf = (await import('@tensorflow/tfjs-core')) as TF;
  await registerTfGradients();
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('bench: TF.js could not initialise its WebGPU backend');
  await tf.ready();
  const backend = tf.backend() as unknown as TfWebGPUBackend;
  const info = backend.adapterInfo ?? {};
  peer = { tf, backend, version: tf.version_core, adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') };
  return peer;
}

/**
 * tf.grads needs TF.js's gradient registry, which @tensorflow/tfjs (not installed) loads from
 * tfjs-core's ES-module build. A bundler (esbuild in pack.sh) takes that import as it is; plain
 * Node cannot (extensionless imports), so under tsx the file is bundled with esbuild on the fly.
 * The copy of tfjs-core it brings registers into the globals the main copy uses (engine, gradient
 * registry, Tensor instanceof check), so tf.grads of the main copy finds the gradients.
 */
async function registerTfGradients(): Promise<void> {
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    return;
  } catch { /* not bundled: plain Node */ }
  const { createRequire } = await import('node:module');
  const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const esbuildName = 'esbuild'; // a variable, so a bundle of this file does not pull esbuild in
  const esbuild = (await import(esbuildName)) as typeof import('esbuild');
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'error' });
  await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** Submits what TF.js has recorded and waits until the device is idle. */
export async function tfSync(p: TfPeer): Promise<void> {
  const b = p.backend;
  if (b.commandEncoder) { b.endComputePassEncoder(); b.submitQueue(); }
  await b.queue.onSubmittedWorkDone();
}

/**
 * Warms `fn` up on TF.js (inside tf.tidy) and returns its sampler. A sample runs TF.js as it normally
 * runs for the wall clock, then the same launches under `tf.time()` (which submits each kernel on its
 * own, so its wall time is not representative) for the timestamp clock, its `kernelMs`.
 */
export async function tfSampler(p: TfPeer, fn: () => void, opts: TimeOptions = {}): Promise<Sampler> {
  const o = defaults(opts);
  const { tf } = p;
  for (let i = 0; i < o.warmup; i++) tf.tidy(fn);
  await tfSync(p);
  const t0 = performance.now();
  tf.tidy(fn);
  await tfSync(p);
  const inner = chooseInner(performance.now() - t0, o);
  return {
    inner,
    sample: async () => {
      await tfSync(p);
      const t = performance.now();
      for (let i = 0; i < inner; i++) tf.tidy(fn);
      await tfSync(p);
      const wall = (performance.now() - t) / inner;
      if (!p.backend.supportTimestampQuery) return { wall, gpu: null, note: 'TF.js device has no timestamp-query' };
      const info = await tf.time(() => { for (let i = 0; i < inner; i++) tf.tidy(fn); });
      const k = info.kernelMs;
      if (typeof k !== 'number' || !(k > 0)) return { wall, gpu: null, note: `tf.time gave kernelMs ${JSON.stringify(k)}` };
      return { wall, gpu: k / inner };
    },
  };
}

/** Times `fn` on TF.js: see tfSampler. */
export async function timeTf(p: TfPeer, fn: () => void, opts: TimeOptions = {}): Promise<Timing> {
  const s = await tfSampler(p, fn, opts);
  const samples: Sample[] = [];
  for (let r = 0; r < defaults(opts).repeats; r++) samples.push(await s.sample());
  return summarise(samples, s.inner);
}

/** The clock two timings can be compared on: timestamps when both have them, else wall. */
export function commonMethod(a: Timing, b: Timing): { method: Method; a: number; b: number } {
  if (a.gpuMs !== null && b.gpuMs !== null) return { method: 'gpu-timestamp', a: a.gpuMs, b: b.gpuMs };
  return { method: 'wall-clock', a: a.wallMs, b: b.wallMs };
}

/** Where results go: $OUT when set (a GPU device run brings that folder back), else bench/results. */
export function resultsDir(): string {
  return process.env.OUT || join(process.cwd(), 'bench', 'results');
}

/** A file-name slug for an adapter description: "llvmpipe: Mesa 25.0.7 …" → "llvmpipe-mesa-25-0-7". */
export function adapterSlug(e: Engine): string {
  const a = e.adapter;
  const text = `${a.source === 'hardware' || a.source === 'browser' ? '' : `${a.source} `}${a.description || a.architecture || a.vendor || 'adapter'}`;
  const slug = text.toLowerCase().replace(/\(.*?\)/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return slug.split('-').slice(0, 6).join('-') || 'adapter';
}
