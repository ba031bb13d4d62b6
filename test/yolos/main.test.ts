/**
 * The main job and the committed model: `npm start -- --quick` writes every output, and
 * models/shapes-nano16.safetensors scores on the validation stream what models/training.json (and
 * the README) say, with AP50 ≥ 0.5.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { init } from '../../engine/index.ts';
import { Yolos, parseConfig } from '../../yolos/index.ts';
import { labelMap } from '../../yolos/train/data.ts';
import { makeSources } from '../../yolos/train/data-node.ts';
import { evaluate } from '../../yolos/train/evaluate.ts';

describe('npm start', () => {
  it('--quick trains for a minute, evaluates both models and writes every output file', () => {
    const out = mkdtempSync(join(tmpdir(), 'yolos-main-'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts', '--quick', '--out', out], { encoding: 'utf8', timeout: 600_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toMatch(/== scratch model/);
    expect(r.stdout).toMatch(/Average Precision {2}\(AP\) @\[ IoU=0.50 /);
    const png = readFileSync(join(out, 'detections.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<path d="M/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    for (const k of ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'steps', 'imagesSeen', 'seconds', 'adapter'])
      expect(metrics.scratch, k).toHaveProperty(k);
    expect(metrics.scratch.steps).toBeGreaterThan(0);
    if (existsSync('models/shapes-nano16.safetensors')) expect(metrics.pretrained.AP50).toBeGreaterThanOrEqual(0.5);
    expect(existsSync(join(out, 'shapes-val', 'annotations', 'instances_val2017.json'))).toBe(true);
  }, 600_000);
});

describe('the committed model', () => {
  it('scores on the validation stream what models/training.json records, with AP50 ≥ 0.5', async () => {
    const engine = await init();
    const info = JSON.parse(readFileSync('models/training.json', 'utf8'));
    const model = Yolos.fromSafetensors(
      new Uint8Array(readFileSync('models/shapes-nano16.safetensors')),
      parseConfig(readFileSync('models/config.json', 'utf8')),
    );
    const { train, val } = await makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false });
    const { result } = await evaluate(model.eval(), val, labelMap(train.categories, model.config.num_labels));
    expect(result.AP50).toBeGreaterThanOrEqual(0.5);
    // same adapter kind → the same numbers; allow a little for another adapter's rounding
    expect(Math.abs(result.AP50 - info.validation.AP50)).toBeLessThan(0.01);
    expect(Math.abs(result.AP - info.validation.AP)).toBeLessThan(0.01);
    model.dispose();
    engine.dispose();
  }, 300_000);
});
