/**
 * `yolos detect` and `yolos eval` with the committed nano16 model (GPU, spawned): colliding image
 * names get distinct outputs; eval takes its size from the config beside the weights (the same
 * scores as naming the preset); errors name the weights file.
 */
import { it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { shapesDataset } from '../../yolos/data/shapes.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';
import { encodePng } from '../../yolos/image-io.ts';

const yolos = (...args: string[]) => spawnSync(process.execPath, ['bin/yolos.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });

it('detect: a/x.png and b/x.png write two files, named in the JSON lines', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yolos-detect-'));
  const ds = shapesDataset({ seed: 3, count: 2, size: 64 });
  for (const [i, sub] of ['a', 'b'].entries()) {
    mkdirSync(join(dir, sub));
    const s = ds.get(i);
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let p = 0; p < 64 * 64; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(s.image[c * 64 * 64 + p] * 255);
    writeFileSync(join(dir, sub, 'x.png'), encodePng({ width: 64, height: 64, data: rgb, channels: 3 }));
  }
  const out = join(dir, 'out');
  const r = yolos(
    'detect',
    join(dir, 'a/x.png'),
    join(dir, 'b/x.png'),
    '--weights',
    'models/shapes-nano16.safetensors',
    '--threshold',
    '0.3',
    '--out',
    out,
  );
  expect(r.status, r.stderr).toBe(0);
  expect(readdirSync(out).sort()).toEqual(['x-2.png', 'x.png']);
  expect(r.stderr).toContain(`${join(dir, 'b/x.png')}: `);
  expect(r.stderr).toContain(`→ ${join(out, 'x-2.png')}`);

  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, 'not safetensors at all');
  copyFileSync('models/config.json', join(dir, 'config.json'));
  const e = yolos('detect', join(dir, 'a/x.png'), '--weights', bad);
  expect(e.status).toBe(1);
  expect(e.stderr).toContain(bad);
});

it('eval on a COCO folder: the size comes from the config beside the weights, as with --model nano16', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yolos-eval-'));
  await writeShapesCoco(shapesDataset({ seed: 0, start: 2 ** 40, count: 12, size: 64 }), dir, 'val'); // no train split: eval needs only val
  const fromConfig = yolos('eval', '--weights', 'models/shapes-nano16.safetensors', '--data', dir);
  const fromPreset = yolos('eval', '--weights', 'models/shapes-nano16.safetensors', '--model', 'nano16', '--data', dir);
  expect(fromConfig.status, fromConfig.stderr).toBe(0);
  expect(fromPreset.status, fromPreset.stderr).toBe(0);
  expect(fromConfig.stdout).toMatch(/Average Precision {2}\(AP\) @\[ IoU=0.50:0.95/);
  expect(fromConfig.stdout).toBe(fromPreset.stdout);
  const ap50 = Number(/IoU=0.50 {6}\| area= {3}all \| maxDets=100 \] = ([\d.]+)/.exec(fromConfig.stdout)![1]);
  expect(ap50).toBeGreaterThan(0.3); // at 800 px (the old default) nano16 scores ~0
});
