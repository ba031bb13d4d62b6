/** The README's ten-line training example runs as written and its loss falls. */
import { it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

it('README: "Training in ten lines" runs and learns', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = readme.split('### Training in ten lines')[1].split('```ts')[1].split('```')[0];
  expect(block.trim().split('\n').length).toBeLessThanOrEqual(14);
  const file = join(mkdtempSync(join(tmpdir(), 'readme-')), 'example.mts');
  expect(block).toContain("from 'yolos-webgpu'");
  writeFileSync(file, block.replace("'yolos-webgpu'", `'${resolve('node.ts')}'`)); // the package's Node entry, from the sources
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  const losses = r.stdout
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[1]));
  expect(losses.length).toBe(4);
  expect(losses[3]).toBeLessThan(losses[0] / 10);
});
