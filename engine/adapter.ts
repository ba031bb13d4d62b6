/// <reference types="@webgpu/types" preserve="true" />
/**
 * Finding a WebGPU adapter. Browsers (and Web Workers): `navigator.gpu`. Node: Dawn's dawn.node, which
 * `engine/adapter-node.ts` registers through `setAdapterFinder` — imported by the package's Node entry
 * (the `node` export condition), never by this file, so a browser bundle reaches no Node-only code.
 */
import { AdapterError } from './errors.ts';

export type AdapterChoice = 'auto' | 'hardware' | 'lavapipe' | 'swiftshader';

export interface FoundAdapter {
  adapter: GPUAdapter;
  /** Which path found it: 'browser', 'hardware', 'lavapipe' or 'swiftshader'. */
  source: 'browser' | 'hardware' | 'lavapipe' | 'swiftshader';
  /** Keeps dawn.node's instance reachable while the device lives; dropped on dispose. */
  instance: unknown;
}

export type AdapterFinder = (choice: AdapterChoice, powerPreference?: GPUPowerPreference) => Promise<FoundAdapter>;

let platformFinder: AdapterFinder | null = null;

/** Installs the platform's way of finding an adapter (Node: Dawn). Called once by the Node entry. */
export function setAdapterFinder(finder: AdapterFinder): void {
  platformFinder = finder;
}

export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const i = adapter.info;
  const text = `${i.vendor} ${i.architecture} ${i.description}`.toLowerCase();
  return i.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/.test(text);
}

const inNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

export async function findAdapter(choice: AdapterChoice, powerPreference?: GPUPowerPreference): Promise<FoundAdapter> {
  if (platformFinder) return platformFinder(choice, powerPreference);
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    if (inNode) {
      throw new AdapterError(
        "init: no WebGPU in this Node process: import the package by its name ('yolos-webgpu', whose `node` export " +
          "condition loads Dawn's dawn.node) or 'yolos-webgpu/node', not a browser build of it",
      );
    }
    throw new AdapterError(
      'init: this browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome or Edge, or enable WebGPU (chrome://flags/#enable-unsafe-webgpu).',
    );
  }
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  if (!adapter)
    throw new AdapterError(
      'init: navigator.gpu.requestAdapter() returned no adapter; WebGPU may be disabled or blocklisted for this GPU (see chrome://gpu).',
    );
  return { adapter, source: 'browser', instance: gpu };
}
