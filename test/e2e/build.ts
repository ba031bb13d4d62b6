/** Builds the web pages with Vite's JS API (the same config as `npm run web:build`) into `outDir`. */
import { build } from 'vite';
import { fileURLToPath } from 'node:url';

export async function buildSite(outDir: string): Promise<void> {
  await build({
    configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true },
  });
}
