/// <reference types="@webgpu/types" preserve="true" />
/**
 * A size-class caching pool of GPU storage buffers. Sizes are rounded up to m·2^k with m in 8..15
 * (at most 12.5 % slack), so buffers are reused across shapes of similar size. Released buffers are
 * kept for reuse, at most `idleCap` bytes of them: past it the least recently released are destroyed
 * (after a change of input size the old size classes would otherwise stay idle for good); `trim()`
 * destroys them all.
 *
 * A buffer released while the open command encoder still reads it may be handed out again to a
 * later dispatch in the same encoder (dispatches are ordered), but not to an upload: queue.writeBuffer
 * runs before the encoder is submitted. The runtime tracks that through `lastEpoch`. Nor may such a
 * buffer be destroyed (the submit would fail validation): the cap skips it until the next submit.
 */
export interface PooledBuffer {
  buffer: GPUBuffer;
  byteSize: number; // the size class (the real GPU size)
  /** Submission epoch in which a dispatch last used it (see Runtime.epoch). */
  lastEpoch: number;
}

export interface MemoryInfo {
  /** Live tensors (handles not disposed). */
  tensors: number;
  /** Bytes held by live storage (size classes, i.e. real GPU bytes). */
  liveBytes: number;
  /** Highest liveBytes seen since init or resetPeak(). */
  peakBytes: number;
  /** Bytes kept in the pool for reuse. */
  pooledBytes: number;
  /** Bytes of engine-owned constants (cached scalar operands, at most 512), not in liveBytes. */
  constantBytes: number;
}

export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 256) return b;
  const k = Math.floor(Math.log2(b)) - 3; // b in [8·2^k, 16·2^k)
  const unit = 2 ** k;
  return Math.ceil(b / unit) * unit;
}

export class BufferPool {
  private free = new Map<number, PooledBuffer[]>();
  /** The idle buffers, least recently released first (a Set keeps insertion order). */
  private idle = new Set<PooledBuffer>();
  liveBytes = 0;
  peakBytes = 0;
  pooledBytes = 0;
  created = 0;
  destroyed = 0;

  /** `epoch()`: the open encoder's epoch (Runtime.epoch); buffers it used are not destroyed. */
  constructor(
    private device: GPUDevice,
    readonly idleCap = Infinity,
    private epoch: () => number = () => -2,
  ) {}

  acquire(bytes: number, label: string): PooledBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const pb = list?.pop();
    return pb ? this.reuse(pb, size) : this.create(size, label);
  }

  /** An idle buffer taken off its free list becomes live again. */
  private reuse(pb: PooledBuffer, size: number): PooledBuffer {
    this.idle.delete(pb);
    this.pooledBytes -= size;
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return pb;
  }

  private create(size: number, label: string): PooledBuffer {
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.created++;
    this.liveBytes += size;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return { buffer, byteSize: size, lastEpoch: -1 };
  }

  /** Like acquire, but never returns a buffer the open encoder (epoch) has used: uploads land before it runs. */
  acquireUnused(bytes: number, label: string, epoch: number): PooledBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].lastEpoch !== epoch) {
          const [pb] = list.splice(i, 1);
          return this.reuse(pb!, size);
        }
      }
    }
    return this.create(size, label);
  }

  release(pb: PooledBuffer): void {
    this.liveBytes -= pb.byteSize;
    this.pooledBytes += pb.byteSize;
    let list = this.free.get(pb.byteSize);
    if (!list) this.free.set(pb.byteSize, (list = []));
    list.push(pb);
    this.idle.add(pb);
    if (this.pooledBytes > this.idleCap) this.enforceIdleCap();
  }

  /** Destroys the least recently released idle buffers until at most `idleCap` bytes are idle. */
  enforceIdleCap(): void {
    if (this.pooledBytes <= this.idleCap) return;
    const open = this.epoch();
    for (const pb of this.idle) {
      if (this.pooledBytes <= this.idleCap) break;
      if (pb.lastEpoch === open) continue;
      const list = this.free.get(pb.byteSize)!;
      list.splice(list.indexOf(pb), 1);
      this.destroy(pb);
    }
  }

  /** Destroys every pooled (unused) buffer; returns the bytes freed. The caller submits first. */
  trim(): number {
    const freed = this.pooledBytes;
    for (const pb of this.idle) this.destroy(pb);
    this.free.clear();
    return freed;
  }

  private destroy(pb: PooledBuffer): void {
    this.idle.delete(pb);
    this.pooledBytes -= pb.byteSize;
    this.destroyed++;
    pb.buffer.destroy();
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}
