/**
 * The one timing loop (the playground, `npm run kernel` and the benchmarks use it): warm-up, a
 * calibrated number of launches per sample, the median over samples, on two clocks:
 *  - 'gpu-timestamp' (where the device has the `timestamp-query` feature): a timestamp at the start
 *    and end of every compute pass the runtime opens during a sample (the runtime's optional
 *    `passTimestamps` hook), summed: kernel time on the device. Dawn quantises timestamps (65.536 µs
 *    steps unless its `timestamp_quantization` toggle is off); the error is unbiased per pass, and a
 *    sample holds enough launches (`targetMs`) to make it small.
 *  - 'wall-clock': performance.now() around recording the launches and waiting until the queue is
 *    idle (`await engine().flush()`), the host's cost of recording and submitting included.
 * Browser-safe; bench/harness.ts adds the TF.js side with the same samplers.
 */
import { engine, scope, type Engine } from './index.ts';

export type Method = 'gpu-timestamp' | 'wall-clock';

export interface TimeOptions {
  /** Un-timed runs first (pipeline compiles, uploads, pool warm-up). Default 2. */
  warmup?: number;
  /** Timed samples; the median is reported. Default 5. */
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

  constructor(
    readonly e: Engine,
    private readonly capacity = 1024,
  ) {
    const d = e.device;
    this.querySet = d.createQuerySet({ label: 'bench-pass-timer', type: 'timestamp', count: 2 * capacity });
    this.resolveBuf = d.createBuffer({
      label: 'bench-pass-timer-resolve',
      size: 16 * capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuf = d.createBuffer({
      label: 'bench-pass-timer-read',
      size: 16 * capacity,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  static available(e: Engine): boolean {
    return e.hasFeature('timestamp-query');
  }

  /** Call after `await flush()` (no pass open), before recording the work. */
  start(): void {
    this.used = 0;
    this.overflow = false;
    this.e.passTimestamps = () => {
      if (this.used >= this.capacity) {
        this.overflow = true;
        return undefined;
      }
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

export function chooseInner(oneMs: number, o: Required<TimeOptions>): number {
  return Math.max(1, Math.min(o.maxInner, Math.round(o.targetMs / Math.max(oneMs, 1e-3))));
}

export function timingDefaults(opts: TimeOptions): Required<TimeOptions> {
  return {
    warmup: opts.warmup ?? 2,
    repeats: Math.max(1, opts.repeats ?? 5),
    targetMs: opts.targetMs ?? 40,
    maxInner: opts.maxInner ?? 64,
  };
}

/** One timed sample: ms per launch on each clock (gpu null where unavailable). */
export interface Sample {
  wall: number;
  gpu: number | null;
  note?: string;
  quantumNs?: number;
}

/** A warmed-up, calibrated benchmark that takes samples on demand (so two can be interleaved). */
export interface Sampler {
  inner: number;
  sample: () => Promise<Sample>;
}

/** Warms `fn` up on our engine, picks the launches per sample and returns its sampler. */
export async function oursSampler(fn: () => void, opts: TimeOptions = {}): Promise<Sampler> {
  const o = timingDefaults(opts);
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
      if (g === null)
        return { wall, gpu: null, note: timer ? 'timestamps overflowed or were not written' : 'the device has no timestamp-query' };
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
    ms: gpuMs ?? wallMs,
    method: gpuMs !== null ? 'gpu-timestamp' : 'wall-clock',
    gpuMs,
    wallMs,
    gpuSamples: gpu,
    wallSamples: wall,
    inner,
    repeats: samples.length,
    ...(gpuOk ? {} : { note }),
    ...(quanta.length ? { timestampQuantumNs: Math.min(...quanta) } : {}),
  };
}

/**
 * Times `fn` (which records work on our engine; tensors it makes are freed by a scope around each
 * launch) and returns the median ms per launch on both clocks.
 */
export async function timeOurs(fn: () => void, opts: TimeOptions = {}): Promise<Timing> {
  const s = await oursSampler(fn, opts);
  const samples: Sample[] = [];
  for (let r = 0; r < timingDefaults(opts).repeats; r++) samples.push(await s.sample());
  return summarise(samples, s.inner);
}
