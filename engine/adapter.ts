/**
 * Finding a WebGPU adapter. Browsers: `navigator.gpu`. Node: Dawn's dawn.node from the `webgpu` package,
 * loaded by dynamic import so nothing Node-only is reached from a browser bundle.
 *
 * On Linux without a hardware adapter Dawn is pointed at a software Vulkan driver through VK_ICD_FILENAMES,
 * which the Vulkan loader reads each time Dawn creates an instance: lavapipe first, then SwiftShader.
 */
import { AdapterError } from './errors.ts';

export type AdapterChoice = 'auto' | 'hardware' | 'lavapipe' | 'swiftshader';

export const SOFTWARE_ICDS = {
  lavapipe: '/usr/share/vulkan/icd.d/lvp_icd.json',
  swiftshader: '/usr/lib/chromium/vk_swiftshader_icd.json',
} as const;

export const INSTALL_HINT = 'sudo bash scripts/setup-adapter.sh   (installs mesa-vulkan-drivers from bookworm-backports and chromium)';

export interface FoundAdapter {
  adapter: GPUAdapter;
  /** Which path found it: 'browser', 'hardware', 'lavapipe' or 'swiftshader'. */
  source: 'browser' | 'hardware' | 'lavapipe' | 'swiftshader';
  /** Keeps dawn.node's instance reachable while the device lives; dropped on dispose. */
  instance: unknown;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const i = adapter.info;
  const text = `${i.vendor} ${i.architecture} ${i.description}`.toLowerCase();
  return i.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/.test(text);
}

export async function findAdapter(choice: AdapterChoice, powerPreference?: GPUPowerPreference): Promise<FoundAdapter> {
  if (!isNode) {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new AdapterError('init: this browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome or Edge, or enable WebGPU (chrome://flags/#enable-unsafe-webgpu).');
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (!adapter) throw new AdapterError('init: navigator.gpu.requestAdapter() returned no adapter; WebGPU may be disabled or blocklisted for this GPU (see chrome://gpu).');
    return { adapter, source: 'browser', instance: gpu };
  }
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= '/tmp'; // Mesa prints an error line without it
  const forced = (env.YOLOS_ADAPTER as AdapterChoice | undefined) ?? choice;
  if (!['auto', 'hardware', 'lavapipe', 'swiftshader'].includes(forced)) {
    throw new AdapterError(`init: unknown adapter '${forced}' (expected auto, hardware, lavapipe or swiftshader; from YOLOS_ADAPTER or options.adapter)`);
  }
  let webgpu: { create: (flags: string[]) => GPU; globals: object };
  try {
    webgpu = (await import(/* @vite-ignore */ 'webgpu')) as typeof webgpu;
  } catch (e) {
    throw new AdapterError(`init: cannot load Dawn's dawn.node from the 'webgpu' package (${(e as Error).message}); run npm ci`);
  }
  Object.assign(globalThis, webgpu.globals); // GPUBufferUsage & co.
  const tried: string[] = [];
  const attempt = async (source: FoundAdapter['source'], icd?: string): Promise<FoundAdapter | null> => {
    const saved = env.VK_ICD_FILENAMES;
    if (icd) env.VK_ICD_FILENAMES = icd;
    try {
      const instance = webgpu.create([]);
      const adapter = await instance.requestAdapter({ powerPreference });
      if (!adapter) { tried.push(`${source}: no adapter`); return null; }
      if (source === 'hardware' && isSoftwareAdapter(adapter)) { tried.push(`hardware: only a software adapter (${adapter.info.description})`); return null; }
      return { adapter, source, instance };
    } catch (e) {
      tried.push(`${source}: ${(e as Error).message}`);
      return null;
    } finally {
      if (icd) { if (saved === undefined) delete env.VK_ICD_FILENAMES; else env.VK_ICD_FILENAMES = saved; }
    }
  };
  const exists = async (path: string) => {
    const fs = await import(/* @vite-ignore */ 'node:fs');
    return fs.existsSync(path);
  };
  const order: FoundAdapter['source'][] = forced === 'auto' ? ['hardware', 'lavapipe', 'swiftshader'] : [forced];
  for (const source of order) {
    if (source === 'hardware') {
      const found = await attempt('hardware');
      if (found) return found;
      continue;
    }
    const icd = SOFTWARE_ICDS[source as keyof typeof SOFTWARE_ICDS];
    if (!(await exists(icd))) { tried.push(`${source}: ${icd} not installed`); continue; }
    const found = await attempt(source, icd);
    if (found) return found;
  }
  throw new AdapterError(`init: no WebGPU adapter found (${tried.join('; ')}). On a GPU-less Debian machine install the software adapters with:\n  ${INSTALL_HINT}`);
}
