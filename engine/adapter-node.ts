/// <reference types="@webgpu/types" preserve="true" />
/**
 * Node's adapter finder: Dawn's dawn.node from the `webgpu` package. Importing this module registers it
 * (the package's Node entry does; tests register it in their setup file).
 *
 * On Linux without a hardware adapter Dawn is pointed at a software Vulkan driver through VK_ICD_FILENAMES,
 * which the Vulkan loader reads each time Dawn creates an instance: lavapipe first, then SwiftShader.
 *
 * Dawn prints "max…BuffersPerPipelineLayout artificially reduced from 1000000 to 16" to stderr each time an
 * instance enumerates a Vulkan device advertising more dynamic buffers than Dawn supports (lavapipe and
 * NVIDIA's driver both say 1 000 000). Probing "hardware" first used to enumerate lavapipe too, then the
 * lavapipe instance enumerated it again: four lines per start. So the hardware probe runs only where a GPU
 * device node exists and with the software drivers disabled (VK_LOADER_DRIVERS_DISABLE, Vulkan loader
 * ≥ 1.3.234), and each instance is created once per process: at most one enumeration per driver.
 */
import { existsSync, readdirSync } from 'node:fs';
import { create, globals } from 'webgpu';
import { AdapterError } from './errors.ts';
import { setAdapterFinder, isSoftwareAdapter, type AdapterChoice, type FoundAdapter } from './adapter.ts';

export const SOFTWARE_ICDS = {
  lavapipe: '/usr/share/vulkan/icd.d/lvp_icd.json',
  swiftshader: '/usr/lib/chromium/vk_swiftshader_icd.json',
} as const;

export const INSTALL_HINT = 'sudo bash scripts/setup-adapter.sh   (installs mesa-vulkan-drivers from bookworm-backports and chromium)';

/** Loader globs of the software drivers, kept out of the hardware probe. */
const SOFTWARE_DRIVER_GLOBS = '*lvp_icd*,*swiftshader*';

type Source = FoundAdapter['source'];
const instances = new Map<Source, GPU>();

/** Linux only offers a hardware adapter through a device node; elsewhere (Metal, D3D) always try. */
function mayHaveHardware(): boolean {
  if (process.platform !== 'linux') return true;
  const has = (dir: string, re: RegExp) => {
    try {
      return readdirSync(dir).some((f) => re.test(f));
    } catch {
      return false;
    }
  };
  return has('/dev/dri', /^renderD/) || has('/dev', /^(nvidia\d|kfd$|dxg$)/);
}

/** Runs `fn` with some environment variables set, restoring them after (the loader reads them at instance creation). */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const env = process.env;
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, env[k]]));
  Object.assign(env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
  }
}

function instanceFor(source: Source): GPU {
  let gpu = instances.get(source);
  if (!gpu) {
    const vars: Record<string, string> =
      source === 'hardware'
        ? { VK_LOADER_DRIVERS_DISABLE: SOFTWARE_DRIVER_GLOBS }
        : { VK_ICD_FILENAMES: SOFTWARE_ICDS[source as keyof typeof SOFTWARE_ICDS] };
    gpu = withEnv(vars, () => create([]));
    instances.set(source, gpu);
  }
  return gpu;
}

export async function findDawnAdapter(choice: AdapterChoice, powerPreference?: GPUPowerPreference): Promise<FoundAdapter> {
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= '/tmp'; // Mesa prints an error line without it
  const forced = (env.YOLOS_ADAPTER as AdapterChoice | undefined) ?? choice;
  if (!['auto', 'hardware', 'lavapipe', 'swiftshader'].includes(forced)) {
    throw new AdapterError(
      `init: unknown adapter '${forced}' (expected auto, hardware, lavapipe or swiftshader; from YOLOS_ADAPTER or options.adapter)`,
    );
  }
  Object.assign(globalThis, globals); // GPUBufferUsage & co.
  const tried: string[] = [];
  const attempt = async (source: Source): Promise<FoundAdapter | null> => {
    try {
      const instance = instanceFor(source);
      const adapter = await instance.requestAdapter(powerPreference ? { powerPreference } : {});
      if (!adapter) {
        tried.push(`${source}: no adapter`);
        return null;
      }
      if (source === 'hardware' && isSoftwareAdapter(adapter)) {
        tried.push(`hardware: only a software adapter (${adapter.info.description})`);
        return null;
      }
      return { adapter, source, instance };
    } catch (e) {
      tried.push(`${source}: ${(e as Error).message}`);
      return null;
    }
  };
  const order: Source[] = forced === 'auto' ? ['hardware', 'lavapipe', 'swiftshader'] : [forced];
  for (const source of order) {
    if (source === 'hardware') {
      if (forced === 'auto' && !mayHaveHardware()) {
        tried.push('hardware: no GPU device node (/dev/dri/renderD*, /dev/nvidia*)');
        continue;
      }
    } else {
      const icd = SOFTWARE_ICDS[source as keyof typeof SOFTWARE_ICDS];
      if (!existsSync(icd)) {
        tried.push(`${source}: ${icd} not installed`);
        continue;
      }
    }
    const found = await attempt(source);
    if (found) return found;
  }
  throw new AdapterError(
    `init: no WebGPU adapter found (${tried.join('; ')}). On a GPU-less Debian machine install the software adapters with:\n  ${INSTALL_HINT}`,
  );
}

setAdapterFinder(findDawnAdapter);
