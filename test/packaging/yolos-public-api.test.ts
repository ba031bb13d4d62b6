/**
 * `yolos/` needs only the engine's public entries (engine/index.ts, engine/node.ts): what it lacked
 * became public API (`launch`, `assertCode`, `Params`, `wgsl`, `needsGrad`). The host-side
 * pre-processing and augmentation load no engine code at all, so they hold the one definition of the
 * ImageNet constants.
 */
import { describe, expect, test } from 'vitest';
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const REPO = join(import.meta.dirname, '../..');
const PUBLIC = /engine\/(index|node)\.ts$/;
// Files of other parts not yet moved to the public entry; shrink this list as they are.
// plain-CPU helpers the engine's GPU entry would drag in with them (a safetensors reader or the data pipeline
// must not load the GPU runtime): the f16 bit decoder and the seeded PRNG
const NOT_YET = new Set(['yolos/safetensors-dtypes.ts', 'yolos/data/rng.ts']);

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('yolos and the engine', () => {
  test('yolos/ imports the engine only through its public entries', () => {
    const internal = tsFiles('yolos').flatMap((f) => {
      const specs = [
        ...readFileSync(join(REPO, f), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm),
      ].map((m) => m[1] ?? m[2]);
      return specs.filter((s) => s.includes('engine/') && !PUBLIC.test(s)).map((s) => `${f} → ${s}`);
    });
    expect(internal.filter((line) => !NOT_YET.has(line.split(' → ')[0]))).toEqual([]);
  });

  test.each(['yolos/preprocess.ts', 'yolos/data/augment.ts'])('%s loads no engine GPU module', async (entry) => {
    const r = await build({
      entryPoints: [join(REPO, entry)],
      bundle: true,
      write: false,
      platform: 'neutral',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
    });
    const engineFiles = Object.keys(r.metafile.inputs)
      .map((f) => relative(REPO, join(process.cwd(), f)))
      .filter((f) => f.startsWith('engine/'));
    // engine/prng.ts is plain CPU arithmetic (the data pipeline's seeded PRNG comes from it), no GPU code
    expect(engineFiles.filter((f) => f !== 'engine/prng.ts')).toEqual([]);
  });
});
