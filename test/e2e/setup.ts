/**
 * Global setup of the e2e project: builds the web pages with Vite into a temporary folder, serves
 * them on 127.0.0.1 (a free port) and hands the URL to the tests (`inject('webUrl')`).
 */
import type { TestProject } from 'vitest/node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from './build.ts';
import { serveStatic } from './server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    webUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'yolos-web-'));
  const t0 = performance.now();
  await buildSite(dir);
  const server = await serveStatic(dir);
  console.log(`[e2e] built the pages in ${((performance.now() - t0) / 1000).toFixed(1)} s; serving ${server.url}`);
  project.provide('webUrl', server.url);
  return async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  };
}
