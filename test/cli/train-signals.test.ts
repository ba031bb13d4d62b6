/**
 * `yolos train` as a process (GPU, spawned, batch 2): SIGTERM → checkpoint and exit 143, repeated
 * signals during the save change nothing; --checkpoint-every writes before any signal; a COCO folder
 * without training annotations is an error naming the file unless --train-split val.
 */
import { it, expect } from 'vitest';
import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { init } from '../../engine/node.ts';
import { loadCheckpoint } from '../../yolos/train/checkpoint.ts';
import { shapesDataset } from '../../yolos/data/shapes.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'yolos-cli-train-'));

it('SIGTERM, then SIGTERM and SIGHUP again while saving: exit 143, a complete checkpoint, no temp files', async () => {
  const out = tmp();
  const child = spawn(process.execPath, [
    'bin/yolos.mjs',
    'train',
    '--data',
    'shapes',
    '--batch',
    '2',
    '--steps',
    '1000',
    '--checkpoint-every',
    '2',
    '--out',
    out,
  ]);
  let err = '',
    stdout = '',
    sawEarlyCheckpoint = false;
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
    if (/step 5\//.test(err) && !child.killed) {
      sawEarlyCheckpoint = existsSync(join(out, 'checkpoint.safetensors')); // from --checkpoint-every 2, before any signal
      child.kill('SIGTERM');
      setTimeout(() => {
        child.kill('SIGTERM');
        child.kill('SIGHUP');
      }, 30);
    }
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(code, err.slice(-1500)).toBe(143);
  expect(sawEarlyCheckpoint).toBe(true);
  expect(err).toMatch(/SIGTERM: stopping after this step and writing a checkpoint/);
  expect(err).toMatch(/still writing the checkpoint/);
  expect(stdout).toMatch(/stopped by SIGTERM; checkpoint .*checkpoint\.safetensors/);
  expect(stdout).toMatch(/continue with: yolos train --resume --out /);
  expect(readdirSync(out).filter((n) => n.includes('.tmp-'))).toEqual([]);
  const engine = await init();
  const ck = await loadCheckpoint(join(out, 'checkpoint.safetensors'));
  expect(ck.meta.step).toBeGreaterThanOrEqual(5);
  ck.model.dispose();
  engine.dispose();
});

it('no training annotations: exit 1 naming the file; --train-split val trains on purpose', async () => {
  const dir = tmp();
  await writeShapesCoco(shapesDataset({ seed: 1, count: 2, size: 64 }), dir, 'val');
  const r = spawnSync(
    process.execPath,
    ['bin/yolos.mjs', 'train', '--data', dir, '--out', join(dir, 'run'), '--steps', '1', '--batch', '1', '--size', '64'],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/instances_train/);
  expect(r.stderr).toMatch(/--train-split val/);
  const ok = spawnSync(
    process.execPath,
    [
      'bin/yolos.mjs',
      'train',
      '--data',
      dir,
      '--train-split',
      'val',
      '--out',
      join(dir, 'run'),
      '--steps',
      '1',
      '--batch',
      '1',
      '--size',
      '64',
    ],
    { encoding: 'utf8' },
  );
  expect(ok.status, ok.stderr).toBe(0);
  expect(ok.stdout).toMatch(/trained 1\/1 steps/);
});
