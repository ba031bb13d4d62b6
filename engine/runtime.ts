/// <reference types="@webgpu/types" preserve="true" />
/**
 * The runtime: one GPUDevice, its buffer pool, the pipeline cache and command batching.
 *
 * Ops record dispatches into one open compute pass. The queue is submitted at a readback, at
 * `flush()` and every `maxDispatchesPerSubmit` dispatches: a submit costs ≈0.3 ms on lavapipe and
 * ≈4.5 ms on SwiftShader, a recorded dispatch ≈0.03 ms. Uniform parameters of all dispatches of one
 * submit live in one arena buffer (256-byte slots, bound with a dynamic offset) written once, just
 * before the submit — queue order makes that safe — so no op allocates a GPU buffer for its params.
 */
import { findAdapter, type AdapterChoice } from './adapter.ts';
import { BufferPool, type MemoryInfo, type PooledBuffer } from './pool.ts';
import { DeviceLostError, EngineError, IndexError, KernelError } from './errors.ts';
import { requireStorageBuffers } from './limits.ts';

/** A compute kernel: WGSL text with entry point `main` and the binding layout below. */
export interface KernelSpec {
  /** Cache key: the kernel's name plus its specialisation (dtype, rank, tile…). */
  key: string;
  /** Text of the WGSL module (produced once per key). */
  code: () => string;
  /** Storage bindings: `inputs` read-only ones from @binding(1), then `outputs` read_write ones. */
  inputs: number;
  outputs: number;
  /** Adds one more read_write binding, `array<atomic<u32>, 4>`, for device-side asserts. */
  asserts?: boolean;
}

export interface AdapterInfoSummary {
  vendor: string;
  architecture: string;
  description: string;
  /** 'browser', 'hardware', 'lavapipe' or 'swiftshader'. */
  source: string;
  features: string[];
  isSoftware: boolean;
  /**
   * The subgroup size every subgroup has, when the device has 'subgroups' and the adapter reports one
   * size (subgroupMinSize = subgroupMaxSize: lavapipe 8 on AVX2, SwiftShader 4); null otherwise.
   * Kernels compiled for one subgroup size (the 'broadcast' matmul and attention) need it.
   */
  subgroupSize: number | null;
}

export interface InitOptions {
  /** 'auto' (default): hardware, then lavapipe, then SwiftShader. Overridden by env YOLOS_ADAPTER. */
  adapter?: AdapterChoice;
  powerPreference?: GPUPowerPreference;
  /** Dispatches recorded before an automatic submit (default 512). */
  maxDispatchesPerSubmit?: number;
  /** Skip optional features even if the adapter has them (e.g. to test the plain paths). */
  disableFeatures?: string[];
  /** Print which adapter was taken (default: true in Node when DEBUG is set). */
  verbose?: boolean;
  /**
   * 'adapter' (default): request the adapter's highest limits. 'default': request none, so the device
   * has WebGPU's default limits, as a browser page that asks for nothing gets (to test kernels as a
   * browser runs them). Overridden by env YOLOS_LIMITS.
   */
  limits?: LimitsChoice;
  /**
   * Most bytes of released buffers the pool keeps for reuse (default 512 MiB); past it the least
   * recently released are destroyed. 0 keeps none, Infinity keeps all. `trimPool()` frees them all.
   */
  poolIdleBytes?: number;
}

export type LimitsChoice = 'adapter' | 'default';
const LIMITS_CHOICES: readonly LimitsChoice[] = ['adapter', 'default'];
const DEFAULT_POOL_IDLE_BYTES = 512 * 2 ** 20;

const SLOT = 256; // uniform arena slot: minUniformBufferOffsetAlignment is ≤ 256 on every adapter
const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

export const DEBUG = Number((typeof process !== 'undefined' && process.env?.DEBUG) || 0) || 0;

export class Runtime {
  readonly pool: BufferPool;
  readonly adapter: AdapterInfoSummary;
  readonly limits: GPUSupportedLimits;
  /** Which limits the device was created with (InitOptions.limits or YOLOS_LIMITS). */
  readonly limitsChoice: LimitsChoice;
  readonly features: ReadonlySet<string>;
  /** Number of queue submits so far (the batching test counts them). */
  submits = 0;
  /** Dispatches recorded so far. */
  dispatches = 0;
  /** Increments at every submit; a buffer used in the open encoder carries the current epoch. */
  epoch = 0;
  liveTensors = 0;
  /** GPU bytes of engine-owned constants (cached scalar operands), not part of memory().liveBytes. */
  constantBytes = 0;
  maxDispatchesPerSubmit: number;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private inEncoder = 0;
  private arena: GPUBuffer;
  private arenaCpu: Uint8Array;
  private pipelines = new Map<string, GPUComputePipeline>();
  private layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private compileChecks: Promise<void>[] = [];
  private errors: string[] = [];
  private lostInfo: GPUDeviceLostInfo | null = null;
  private assertBuffer: GPUBuffer;
  private assertMessages: string[] = ['']; // code 0 = no error
  /** Keeps dawn.node's instance reachable while the device lives. */
  instance: unknown;
  /** Optional hook (bench/harness.ts): timestamp writes for each compute pass opened while set. */
  passTimestamps: (() => GPUComputePassTimestampWrites | undefined) | null = null;
  /** Optional hook (bench/kernel-cli.ts): replaces a kernel at dispatch, keeping the op's params, buffers and grid. */
  kernelOverride: ((spec: KernelSpec, groups: readonly number[]) => KernelSpec | undefined) | null = null;
  /** Profiling (tools/profile-step.ts): each dispatch in a pass of its own, reported by key. */
  passPerDispatch = false;
  onDispatchRecorded: ((key: string) => void) | null = null;
  private disposed = false;

  constructor(
    readonly device: GPUDevice,
    adapter: AdapterInfoSummary,
    instance: unknown,
    opts: InitOptions,
  ) {
    this.adapter = adapter;
    this.instance = instance;
    this.limits = device.limits;
    this.features = new Set([...device.features] as string[]);
    this.limitsChoice = limitsChoice(opts);
    this.pool = new BufferPool(device, poolIdleBytes(opts), () => this.epoch);
    this.maxDispatchesPerSubmit = opts.maxDispatchesPerSubmit ?? 512;
    this.arena = device.createBuffer({
      label: 'uniform-arena',
      size: SLOT * this.maxDispatchesPerSubmit,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.arenaCpu = new Uint8Array(SLOT * this.maxDispatchesPerSubmit);
    this.assertBuffer = device.createBuffer({
      label: 'device-asserts',
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.lost.then((info) => {
      this.lostInfo = info;
      if (!this.disposed) console.error(`[engine] GPU device lost (${info.reason}): ${info.message}`);
    });
    device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
      this.errors.push(ev.error.message);
      if (DEBUG) console.error(`[engine] uncaptured WebGPU error: ${ev.error.message}`);
    };
  }

  static async create(opts: InitOptions = {}): Promise<Runtime> {
    const limits = limitsChoice(opts);
    poolIdleBytes(opts); // bad options fail before a device is made
    const found = await findAdapter(opts.adapter ?? 'auto', opts.powerPreference);
    const a = found.adapter;
    const skip = new Set(opts.disableFeatures ?? []);
    const requiredFeatures = WANTED_FEATURES.filter((f) => a.features.has(f) && !skip.has(f)) as GPUFeatureName[];
    const l = a.limits;
    const requiredLimits: Record<string, number> =
      limits === 'default'
        ? {}
        : {
            maxBufferSize: l.maxBufferSize,
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
            maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
            maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
            maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
            maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
          };
    const device = await a.requestDevice({ requiredFeatures, requiredLimits, label: 'yolos-engine' });
    const info = a.info;
    const sgMin = (info as { subgroupMinSize?: number }).subgroupMinSize,
      sgMax = (info as { subgroupMaxSize?: number }).subgroupMaxSize;
    const summary: AdapterInfoSummary = {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      source: found.source,
      features: requiredFeatures.slice(),
      isSoftware:
        found.source === 'lavapipe' ||
        found.source === 'swiftshader' ||
        info.isFallbackAdapter ||
        /swiftshader|llvmpipe/i.test(`${info.architecture} ${info.description}`),
      subgroupSize: requiredFeatures.includes('subgroups' as GPUFeatureName) && sgMin && sgMin === sgMax ? sgMin : null,
    };
    const rt = new Runtime(device, summary, found.instance, opts);
    if (opts.verbose ?? DEBUG > 0) console.log(`[engine] adapter: ${describeAdapter(summary)}`);
    return rt;
  }

  hasFeature(f: string): boolean {
    return this.features.has(f);
  }

  memory(): MemoryInfo {
    return {
      tensors: this.liveTensors,
      liveBytes: this.pool.liveBytes,
      peakBytes: this.pool.peakBytes,
      pooledBytes: this.pool.pooledBytes,
      constantBytes: this.constantBytes,
    };
  }

  /**
   * Destroys every buffer the pool keeps for reuse (live tensors keep theirs) and returns the bytes
   * freed. Work already recorded is submitted first: a buffer an unsubmitted dispatch reads may not
   * be destroyed.
   */
  trimPool(): number {
    this.checkLost();
    this.submit();
    return this.pool.trim();
  }

  checkLost(): void {
    if (this.disposed) throw new EngineError('engine: used after dispose(); call init() again');
    if (this.lostInfo) throw new DeviceLostError(`engine: the GPU device was lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
  }

  /** A device-assert code for a message; kernels that find the condition write it atomically. */
  assertCode(message: string): number {
    let code = this.assertMessages.indexOf(message);
    if (code < 0) {
      code = this.assertMessages.length;
      this.assertMessages.push(message);
    }
    return code;
  }

  pipeline(spec: KernelSpec): GPUComputePipeline {
    let p = this.pipelines.get(spec.key);
    if (p) return p;
    const code = spec.code();
    if (DEBUG >= 3) console.log(`[engine] new pipeline ${spec.key}\n${code}`);
    const { pl } = this.layout(spec);
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: spec.key, code });
    p = device.createComputePipeline({ label: spec.key, layout: pl, compute: { module, entryPoint: 'main' } });
    const scope = device.popErrorScope();
    this.compileChecks.push(
      scope.then(async (err) => {
        if (!err) return;
        let detail = '';
        try {
          const info = await module.getCompilationInfo();
          detail = info.messages
            .map((m) => `  ${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${code.split('\n')[m.lineNum - 1]?.trim() ?? ''}`)
            .join('\n');
        } catch {
          /* compilation info is optional */
        }
        this.pipelines.delete(spec.key);
        throw new KernelError(`kernel '${spec.key}' failed to compile: ${err.message}${detail ? `\n${detail}` : ''}`);
      }),
    );
    this.pipelines.set(spec.key, p);
    return p;
  }

  /** Compiles a kernel now and throws its compiler messages (for the playground and tests). */
  async compile(spec: KernelSpec): Promise<void> {
    this.pipeline(spec);
    await this.checkPending();
  }

  private layout(spec: KernelSpec) {
    const k = `${spec.inputs}/${spec.outputs}/${spec.asserts ? 1 : 0}`;
    let l = this.layouts.get(k);
    if (l) return l;
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 0 } },
    ];
    const n = spec.inputs + spec.outputs + (spec.asserts ? 1 : 0);
    requireStorageBuffers(spec.key, n, this.limits);
    for (let i = 0; i < n; i++) {
      entries.push({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: i < spec.inputs ? 'read-only-storage' : 'storage' },
      });
    }
    const bgl = this.device.createBindGroupLayout({ label: `layout ${k}`, entries });
    l = { bgl, pl: this.device.createPipelineLayout({ label: `layout ${k}`, bindGroupLayouts: [bgl] }) };
    this.layouts.set(k, l);
    return l;
  }

  /**
   * Records one dispatch. `buffers` are the inputs then the outputs, in binding order.
   * `params` (≤ 256 bytes) is the kernel's uniform struct at @binding(0).
   */
  dispatch(
    spec: KernelSpec,
    params: ArrayBuffer | ArrayBufferView,
    buffers: PooledBuffer[],
    groups: readonly [number, number?, number?],
  ): void {
    this.checkLost();
    const [x, y = 1, z = 1] = groups;
    spec = this.kernelOverride?.(spec, [x, y, z]) ?? spec;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max)
      throw new EngineError(`${spec.key}: dispatch of [${x},${y},${z}] workgroups exceeds the adapter's ${max} per dimension`);
    if (this.inEncoder >= this.maxDispatchesPerSubmit) this.submit();
    const pipeline = this.pipeline(spec);
    const bytes =
      params instanceof ArrayBuffer ? new Uint8Array(params) : new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
    if (bytes.byteLength > SLOT) throw new EngineError(`${spec.key}: params of ${bytes.byteLength} bytes exceed ${SLOT}`);
    const offset = this.inEncoder * SLOT;
    this.arenaCpu.set(bytes, offset);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: SLOT } }];
    for (let i = 0; i < buffers.length; i++) {
      buffers[i].lastEpoch = this.epoch;
      entries.push({ binding: i + 1, resource: { buffer: buffers[i].buffer } });
    }
    if (spec.asserts) entries.push({ binding: buffers.length + 1, resource: { buffer: this.assertBuffer } });
    const bindGroup = this.device.createBindGroup({ label: spec.key, layout: this.layout(spec).bgl, entries });
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    pass.dispatchWorkgroups(x, y, z);
    if (this.passPerDispatch) {
      pass.end();
      this.pass = null;
      this.onDispatchRecorded?.(spec.key);
    }
    this.inEncoder++;
    this.dispatches++;
    if (DEBUG >= 1) console.log(`[engine] dispatch ${spec.key} [${x},${y},${z}]`);
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: `batch ${this.epoch}` });
    if (!this.pass) {
      const timestampWrites = this.passTimestamps?.();
      this.pass = this.encoder.beginComputePass(
        timestampWrites ? { label: `batch ${this.epoch}`, timestampWrites } : { label: `batch ${this.epoch}` },
      );
    }
    return this.pass;
  }

  /** The open encoder outside any pass (for copies). */
  private openEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: `batch ${this.epoch}` });
    return this.encoder;
  }

  copyBuffer(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, bytes: number): void {
    this.checkLost();
    if (bytes === 0) return;
    const enc = this.openEncoder();
    src.lastEpoch = dst.lastEpoch = this.epoch;
    enc.copyBufferToBuffer(src.buffer, srcOffset, dst.buffer, dstOffset, bytes);
    this.inEncoder++;
  }

  /** Submits the recorded work (if any). Synchronous: errors surface at the next readback or flush(). */
  submit(): void {
    if (!this.encoder) return;
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.inEncoder > 0)
      this.device.queue.writeBuffer(
        this.arena,
        0,
        this.arenaCpu.buffer as ArrayBuffer,
        0,
        Math.min(this.inEncoder, this.maxDispatchesPerSubmit) * SLOT,
      );
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.inEncoder = 0;
    this.epoch++;
    this.submits++;
    this.pool.enforceIdleCap(); // buffers the open encoder held back are free to go now
  }

  /** Submits and waits until the GPU has finished; throws any compile, validation or device error. */
  async flush(): Promise<void> {
    this.checkLost();
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.checkPending();
  }

  private async checkPending(): Promise<void> {
    const checks = this.compileChecks;
    this.compileChecks = [];
    await Promise.all(checks);
    this.checkLost();
    if (this.errors.length) {
      const errs = this.errors;
      this.errors = [];
      throw new KernelError(`WebGPU validation error${errs.length > 1 ? 's' : ''}:\n${errs.join('\n')}`);
    }
  }

  /** Writes host data into a buffer; uploads must not target a buffer the open encoder uses. */
  upload(pb: PooledBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.checkLost();
    if (pb.lastEpoch === this.epoch) this.submit();
    const n = data.byteLength & ~3;
    if (n) this.device.queue.writeBuffer(pb.buffer, byteOffset, data.buffer as ArrayBuffer, data.byteOffset, n);
    const rest = data.byteLength - n;
    if (rest) {
      const pad = new Uint8Array(4);
      pad.set(new Uint8Array(data.buffer, data.byteOffset + n, rest));
      this.device.queue.writeBuffer(pb.buffer, byteOffset + n, pad);
    }
  }

  /** Acquires a buffer safe to upload into now. */
  acquireForUpload(bytes: number, label: string): PooledBuffer {
    return this.pool.acquireUnused(bytes, label, this.epoch);
  }

  /** Copies `bytes` from a buffer to the host: the one sync point. Also reports device-side asserts. */
  async read(pb: PooledBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
    this.checkLost();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      label: 'readback',
      size: size + 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = this.openEncoder();
    if (size) enc.copyBufferToBuffer(pb.buffer, byteOffset, staging, 0, size);
    enc.copyBufferToBuffer(this.assertBuffer, 0, staging, size, 16);
    this.inEncoder++;
    this.submit();
    try {
      await this.checkPending();
      await staging.mapAsync(GPUMapMode.READ);
      this.checkLost();
      const mapped = staging.getMappedRange();
      const out = mapped.slice(0, bytes);
      const code = new Uint32Array(mapped, size, 4);
      const [c, a, b] = [code[0], code[1], code[2]];
      staging.unmap();
      if (c !== 0) {
        this.device.queue.writeBuffer(this.assertBuffer, 0, new Uint32Array(4));
        const msg = this.assertMessages[c] ?? `device assert ${c}`;
        throw new IndexError(msg.replace('{a}', String(a)).replace('{b}', String(b)));
      }
      return out;
    } finally {
      staging.destroy();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      this.submit();
    } catch {
      /* device may be lost */
    }
    this.pool.trim();
    this.pipelines.clear();
    this.device.destroy();
    this.instance = null;
  }
}

/** The limits choice of InitOptions, overridden by env YOLOS_LIMITS; an unknown name is an error. */
function limitsChoice(opts: InitOptions): LimitsChoice {
  const env = typeof process !== 'undefined' ? process.env?.YOLOS_LIMITS : undefined;
  const want = env || opts.limits || 'adapter';
  if (!(LIMITS_CHOICES as readonly string[]).includes(want)) {
    throw new EngineError(
      `init: unknown limits '${want}' (expected ${LIMITS_CHOICES.join(' or ')}; from ${env ? 'YOLOS_LIMITS' : 'options.limits'})`,
    );
  }
  return want as LimitsChoice;
}

function poolIdleBytes(opts: InitOptions): number {
  const n = opts.poolIdleBytes ?? DEFAULT_POOL_IDLE_BYTES;
  if (typeof n !== 'number' || Number.isNaN(n) || n < 0)
    throw new EngineError(`init: poolIdleBytes must be a number ≥ 0 (or Infinity), got ${String(n)}`);
  return n;
}

export function describeAdapter(a: AdapterInfoSummary): string {
  return `${a.description || a.architecture || a.vendor} (${a.source}; vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}; features: ${a.features.join(', ') || 'none'})`;
}

let current: Runtime | null = null;

/** The initialised runtime; throws when `init()` has not been awaited. */
export function rt(): Runtime {
  if (!current) throw new EngineError('engine: not initialised: call `await init()` first');
  return current;
}

export function setRuntime(r: Runtime | null): void {
  current = r;
}

export function hasRuntime(): boolean {
  return current !== null;
}
