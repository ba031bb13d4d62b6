/**
 * The web pages (train & detect, kernel playground), built with Vite: `npm run web` (dev server),
 * `npm run web:build` (static files in dist/web, relative base: any static server, any sub-path),
 * `npm run web:preview`. The pages import the library from ../engine and ../yolos as they are.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Node-only code paths the library reaches by dynamic import and never takes in a browser (Dawn's
 * dawn.node, files on disk and their PNG/JPEG codecs): left out of the page and worker bundles. */
const NODE_ONLY = ['webgpu', 'sharp', 'pngjs', /^node:/];

export default defineConfig({
  root,
  base: './',
  // the pages import ../engine and ../yolos: let the dev server read the repository
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  optimizeDeps: { exclude: ['webgpu', 'sharp', 'pngjs'] },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { index: `${root}index.html`, playground: `${root}playground.html` },
      external: NODE_ONLY,
    },
  },
  // the Train tab's worker (web/src/train-worker.ts) is an ES module worker with the library in it
  worker: { format: 'es', rollupOptions: { external: NODE_ONLY } },
});
