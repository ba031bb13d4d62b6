/// <reference types="@webgpu/types" preserve="true" />
/**
 * Device limits a kernel variant must fit. WebGPU guarantees only its default limits (16 KiB of
 * workgroup storage, 256 invocations per workgroup, 256 × 256 × 64 per dimension, 8 storage buffers
 * per stage, 128 MiB per storage binding); a browser page gets exactly these unless it asks for more.
 * Variant choices read the device's limits through `workgroupMisfit`: 'auto' falls back to a variant
 * that fits, a forced variant that does not fit throws a LimitError naming the limit.
 */
import { LimitError } from './errors.ts';

/** The limits the engine reads (a GPUSupportedLimits satisfies it). */
export type DeviceLimits = Pick<
  GPUSupportedLimits,
  | 'maxComputeWorkgroupStorageSize'
  | 'maxComputeInvocationsPerWorkgroup'
  | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupSizeY'
  | 'maxComputeWorkgroupSizeZ'
  | 'maxStorageBuffersPerShaderStage'
>;

/** What a variant choice reads of a device (the Runtime has both). */
export interface DeviceTraits {
  /** subgroupSize: see AdapterInfoSummary (null or absent: no fixed-size subgroups). */
  adapter: { isSoftware: boolean; subgroupSize?: number | null };
  limits: DeviceLimits;
}

/** What one workgroup of a kernel needs: its @workgroup_size and its bytes of var<workgroup>. */
export interface WorkgroupNeeds {
  size: readonly [number, number?, number?];
  bytes: number;
}

/** The first limit `needs` exceeds, as a sentence naming it; null when it fits. */
export function workgroupMisfit(needs: WorkgroupNeeds, limits: DeviceLimits): string | null {
  const [x, y = 1, z = 1] = needs.size;
  if (needs.bytes > limits.maxComputeWorkgroupStorageSize) {
    return `needs ${needs.bytes} bytes of workgroup storage, more than the device's maxComputeWorkgroupStorageSize of ${limits.maxComputeWorkgroupStorageSize}`;
  }
  if (x * y * z > limits.maxComputeInvocationsPerWorkgroup) {
    return `needs ${x * y * z} invocations per workgroup, more than the device's maxComputeInvocationsPerWorkgroup of ${limits.maxComputeInvocationsPerWorkgroup}`;
  }
  const dims = [
    [x, limits.maxComputeWorkgroupSizeX, 'X'],
    [y, limits.maxComputeWorkgroupSizeY, 'Y'],
    [z, limits.maxComputeWorkgroupSizeZ, 'Z'],
  ] as const;
  for (const [n, max, axis] of dims) {
    if (n > max) return `needs a workgroup ${n} wide along ${axis}, more than the device's maxComputeWorkgroupSize${axis} of ${max}`;
  }
  return null;
}

/** Throws a LimitError when a forced variant does not fit: `matmul: variant 'shared128' needs …`. */
export function requireWorkgroupFits(op: string, variant: string, needs: WorkgroupNeeds, limits: DeviceLimits): void {
  const misfit = workgroupMisfit(needs, limits);
  if (misfit) throw new LimitError(`${op}: variant '${variant}' ${misfit}; use variant 'auto' or a device with higher limits`);
}

/**
 * Throws a LimitError naming op and variant when the device has no subgroups of one fixed size
 * (what kernels compiled for one subgroup size need).
 */
export function requireFixedSubgroups(op: string, variant: string, device: DeviceTraits): number {
  const sg = device.adapter.subgroupSize;
  if (!sg)
    throw new LimitError(
      `${op}: variant '${variant}' needs the 'subgroups' feature with one subgroup size (subgroupMinSize = subgroupMaxSize); this device has none; use variant 'auto'`,
    );
  return sg;
}

/** Throws a LimitError when a kernel binds more storage buffers than a shader stage may. */
export function requireStorageBuffers(kernel: string, count: number, limits: DeviceLimits): void {
  if (count > limits.maxStorageBuffersPerShaderStage) {
    throw new LimitError(
      `kernel '${kernel}' binds ${count} storage buffers, more than the device's maxStorageBuffersPerShaderStage of ${limits.maxStorageBuffersPerShaderStage}`,
    );
  }
}
