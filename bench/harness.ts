/**
 * Timing for the benchmarks: engine/timing.ts's loop (warm-up, calibrated launches per sample, the
 * median on the GPU-timestamp and wall clocks) for our engine, at least 5 samples, and the same for
 * the peer, TensorFlow.js on its WebGPU backend, on the same adapter: its timestamp clock is
 * `tf.time()`'s `kernelMs` (each of its kernels in a timed pass), its wall clock performance.now()
 * around recording, submitting its command encoder and `queue.onSubmittedWorkDone()`.
 * A row's figure uses the timestamp clock when both sides have it, else the wall clock, and says which.
 */
import { join } from 'node:path';
import { engine, type Engine } from '../engine/node.ts';
import { mulberry32 } from '../engine/prng.ts';
export { mulberry32 };

import {
  chooseInner,
  summarise,
  timingDefaults,
  timeOurs as timeOursOnce,
  type Method,
  type TimeOptions,
  type Timing,
  type Sample,
  type Sampler,
} from '../engine/timing.ts';
import { drawValues, normal } from '../engine/reference/inputs.ts';
export {
  median,
  PassTimer,
  oursSampler,
  summarise,
  type Method,
  type TimeOptions,
  type Timing,
  type Sample,
  type Sampler,
} from '../engine/timing.ts';

/** The bench takes at least 5 samples. */
const benchRepeats = (opts: TimeOptions) => Math.max(5, opts.repeats ?? 5);

/** engine/timing.ts's timeOurs, with at least 5 samples. */
export const timeOurs = (fn: () => void, opts: TimeOptions = {}): Promise<Timing> =>
  timeOursOnce(fn, { ...opts, repeats: benchRepeats(opts) });

/**
 * Times two samplers with their samples interleaved (a, b, a, b, …): on a shared machine whose load
 * drifts, both sides then see the same conditions.
 */
export async function timeInterleaved(a: Sampler, b: Sampler, repeats: number): Promise<[Timing, Timing]> {
  const sa: Sample[] = [],
    sb: Sample[] = [];
  for (let r = 0; r < benchRepeats({ repeats }); r++) {
    sa.push(await a.sample());
    sb.push(await b.sample());
  }
  return [summarise(sa, a.inner), summarise(sb, b.inner)];
}

/** n seeded standard-normal floats times `std` (engine/reference/inputs.ts). */
export function randomNormal(n: number, seed: number, std = 1): Float32Array {
  return Float32Array.from(drawValues(n, normal(std), seed));
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
    if (!gpu || typeof (gpu as GPU).requestAdapter !== 'function')
      throw new Error('bench: the engine has no WebGPU instance to share with TF.js');
    Object.defineProperty(globalThis, 'navigator', {
      value: { ...(g.navigator ?? {}), gpu, userAgent: 'node' },
      configurable: true,
      writable: true,
    });
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
  } catch {
    /* not bundled: plain Node */
  }
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
  if (b.commandEncoder) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  await b.queue.onSubmittedWorkDone();
}

/**
 * Warms `fn` up on TF.js (inside tf.tidy) and returns its sampler. A sample runs TF.js as it normally
 * runs for the wall clock, then the same launches under `tf.time()` (which submits each kernel on its
 * own, so its wall time is not representative) for the timestamp clock, its `kernelMs`.
 */
export async function tfSampler(p: TfPeer, fn: () => void, opts: TimeOptions = {}): Promise<Sampler> {
  const o = timingDefaults(opts);
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
      const info = await tf.time(() => {
        for (let i = 0; i < inner; i++) tf.tidy(fn);
      });
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
  for (let r = 0; r < benchRepeats(opts); r++) samples.push(await s.sample());
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
  const slug = text
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.split('-').slice(0, 6).join('-') || 'adapter';
}
