/// <reference types="@webgpu/types" preserve="true" />
/**
 * A size-class caching pool of GPU storage buffers. Sizes are rounded up to m·2^k with m in 8..15
 * (at most 12.5 % slack), so buffers are reused across shapes of similar size. Released buffers are
 * kept for reuse; `trim()` destroys them.
 *
 * A buffer released while the open command encoder still reads it may be handed out again to a
 * later dispatch in the same encoder (dispatches are ordered), but not to an upload: queue.writeBuffer
 * runs before the encoder is submitted. The runtime tracks that through `lastEpoch`.
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
  liveBytes = 0;
  peakBytes = 0;
  pooledBytes = 0;
  created = 0;

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, label: string): PooledBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let pb = list?.pop();
    if (pb) {
      this.pooledBytes -= size;
      this.liveBytes += size;
      if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
      return pb;
    }
    return this.create(size, label);
  }

  private create(size: number, label: string): PooledBuffer {
    const buffer = this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
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
          this.pooledBytes -= size;
          this.liveBytes += size;
          if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
          return pb;
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
  }

  /** Destroys every pooled (unused) buffer. */
  trim(): void {
    for (const list of this.free.values()) for (const pb of list) pb.buffer.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }
}
