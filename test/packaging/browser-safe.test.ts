/**
 * The browser entries (what `browser`/`default` export conditions point at) reach no Node-only module —
 * not `node:*`, Dawn's `webgpu`, sharp or the PNG/JPEG codecs, not even by dynamic import — so a consumer's
 * default Vite/esbuild/webpack build works, in a page and in a Worker (whose default IIFE format also
 * forbids code splitting: no dynamic import() either).
 */
import { describe, expect, test } from 'vitest';
import { build } from 'esbuild';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '../..');
const NODE_ONLY = /^(node:|webgpu$|sharp$|pngjs$|jpeg-js$|fs$|path$|os$|url$|child_process$)/;

async function browserGraph(entry: string): Promise<{ inputs: string[]; nodeOnly: string[]; dynamic: string[] }> {
  const nodeOnly: string[] = [];
  const result = await build({
    entryPoints: [join(REPO, entry)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'node-only',
        setup(b) {
          b.onResolve({ filter: NODE_ONLY }, (args) => {
            nodeOnly.push(`${args.path} (imported by ${args.importer.replace(`${REPO}/`, '')})`);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  const inputs = Object.keys(result.metafile.inputs);
  const dynamic = Object.entries(result.metafile.inputs).flatMap(([file, info]) =>
    info.imports.filter((i) => i.kind === 'dynamic-import').map((i) => `${file} → ${i.path}`),
  );
  return { inputs, nodeOnly, dynamic };
}

describe('browser entries', () => {
  for (const entry of ['index.ts', 'engine/index.ts', 'yolos/index.ts', 'hungarian/index.ts']) {
    test(`${entry} reaches no Node-only module and no dynamic import`, async () => {
      const g = await browserGraph(entry);
      expect(g.inputs.length).toBeGreaterThan(0);
      expect(g.nodeOnly).toEqual([]);
      expect(g.dynamic).toEqual([]);
      expect(g.inputs.filter((f) => /-node\.ts$|^yolos\/cli|train\/train\.ts|image-io\.ts/.test(f))).toEqual([]);
    });
  }
});
