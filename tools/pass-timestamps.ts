/** GPU time of each compute pass, for the profile tools: one timestamp pair per pass, read back in one copy. */

/** Durations in ns of the first `count` passes whose begin/end timestamps were written at 2i / 2i+1 of `querySet`. */
export async function passDurations(device: GPUDevice, querySet: GPUQuerySet, resolve: GPUBuffer, count: number): Promise<number[]> {
  const enc = device.createCommandEncoder();
  enc.resolveQuerySet(querySet, 0, 2 * count, resolve, 0);
  const read = device.createBuffer({ size: 16 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * count);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(read.getMappedRange());
  const ns = Array.from({ length: count }, (_, i) => Number(t[2 * i + 1]! - t[2 * i]!));
  read.unmap();
  read.destroy();
  return ns;
}
