/**
 * The trainer's files without a GPU: atomic writes that name the file on a full disk, stale temp
 * files, checkpoint metadata errors, metrics truncation on resume, and the resume option rules.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, symlinkSync, existsSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomic, removeStaleTemps } from '../../yolos/train/files-node.ts';
import { loadCheckpoint } from '../../yolos/train/checkpoint.ts';
import { checkPinned, resumedTotal, truncateMetrics } from '../../yolos/train/resume.ts';
import { writeSafetensors } from '../../yolos/safetensors.ts';
import { presets } from '../../yolos/config.ts';
import { appendJsonl } from '../../yolos/train/report.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'yolos-files-'));

describe('writeAtomic', () => {
  it('a full disk (ENOSPC) is an error naming the file, and leaves the old file and no temp file', async () => {
    const dir = tmp(),
      target = join(dir, 'checkpoint.safetensors');
    writeFileSync(target, 'old');
    symlinkSync('/dev/full', `${target}.tmp-${process.pid}`); // the temp file this process would write: every write fails with ENOSPC
    await expect(writeAtomic(target, new Uint8Array(1 << 16))).rejects.toThrow(
      `cannot write '${target}': no space left on device (ENOSPC)`,
    );
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
  });

  it('a failing metrics append names the file', async () => {
    await expect(appendJsonl('/dev/full', { step: 1 })).rejects.toThrow("cannot append to '/dev/full': no space left on device (ENOSPC)");
  });

  it('removeStaleTemps deletes temp files of dead processes only', async () => {
    const dir = tmp();
    for (const n of ['checkpoint.safetensors.tmp-999999999', `model.safetensors.tmp-${process.ppid}`, 'keep.json'])
      writeFileSync(join(dir, n), '');
    expect(await removeStaleTemps(dir)).toEqual(['checkpoint.safetensors.tmp-999999999']);
    expect(readdirSync(dir).sort()).toEqual(['keep.json', `model.safetensors.tmp-${process.ppid}`]);
  });
});

describe('loadCheckpoint errors name the file and what was expected', () => {
  const meta = { step: 3, config: presets.nano16, options: {}, seconds: 1, imagesSeen: 6, optimizer: { paramGroups: [], steps: {} } };
  const write = (bytes: Uint8Array | string) => {
    const p = join(tmp(), 'checkpoint.safetensors');
    writeFileSync(p, bytes);
    return p;
  };
  const withMeta = (m: unknown) =>
    write(writeSafetensors(new Map(), { 'yolos.checkpoint': typeof m === 'string' ? m : JSON.stringify(m) }));
  it.each([
    [
      'missing',
      () => join(tmp(), 'nope.safetensors'),
      /cannot read checkpoint '.*nope\.safetensors': no such file or directory \(ENOENT\)/,
    ],
    ['too short', () => write('abc'), /checkpoint '.*': 3 bytes is too short/],
    [
      'truncated',
      () => write(writeSafetensors(new Map(), { a: 'b' }).subarray(0, 20)),
      /checkpoint '.*': the header claims \d+ bytes but the file has 12/,
    ],
    [
      'plain weights',
      () => write(writeSafetensors(new Map())),
      /checkpoint '.*': no yolos.checkpoint metadata \(is it a plain weights file/,
    ],
    ['metadata not JSON', () => withMeta('{step'), /checkpoint '.*': metadata 'yolos.checkpoint' is not valid JSON/],
    ['bad step', () => withMeta({ ...meta, step: -1 }), /checkpoint '.*': metadata field 'step' must be a non-negative integer, got -1/],
    ['no optimizer', () => withMeta({ ...meta, optimizer: undefined }), /metadata field 'optimizer' must be \{ paramGroups/],
    [
      'bad config',
      () => withMeta({ ...meta, config: { ...presets.nano16, image_size: 'big' } }),
      /checkpoint '.*': metadata field 'config': config: 'image_size' must be/,
    ],
  ])('%s', async (_, make, message) => {
    await expect(loadCheckpoint(make())).rejects.toThrow(message);
  });
});

describe('resume', () => {
  it('a different recipe option is refused, naming it, both values and the checkpoint; an equal one passes', () => {
    const saved = { data: 'shapes', model: 'nano16', batch: 16, lr: 5e-4 };
    expect(() => checkPinned({ batch: 8 }, saved, 'r/checkpoint.safetensors')).toThrow(
      "train: batch (--batch) 8 differs from 16 in the checkpoint 'r/checkpoint.safetensors'",
    );
    expect(() => checkPinned({ lr: 1e-3 }, saved, 'c')).toThrow(/lr \(--lr\) 0.001 differs from 0.0005/);
    expect(() => checkPinned({ model: 'tiny' }, saved, 'c')).toThrow(/model \(--model\) "tiny" differs from "nano16"/);
    expect(() => checkPinned({ trainSplit: 'val' }, saved, 'c')).toThrow(/--train-split/);
    expect(() => checkPinned({ batch: 16, data: 'shapes', model: 'nano16', trainSplit: 'train' }, saved, 'c')).not.toThrow();
  });

  it('--steps may grow, never shrink below the checkpoint', () => {
    expect(resumedTotal(undefined, 8000, 50, 'c')).toBe(8000);
    expect(resumedTotal(9000, 8000, 50, 'c')).toBe(9000);
    expect(() => resumedTotal(40, 8000, 50, 'c')).toThrow("the checkpoint 'c' is at step 50; --steps 40 must be larger");
  });

  it('metrics.jsonl keeps the steps before the resume point and drops a torn line', async () => {
    const p = join(tmp(), 'metrics.jsonl');
    writeFileSync(p, [9, 19, 29, 39].map((step) => JSON.stringify({ step })).join('\n') + '\n{"step": 4');
    await truncateMetrics(p, 30);
    expect(readFileSync(p, 'utf8')).toBe('{"step":9}\n{"step":19}\n{"step":29}\n');
    await truncateMetrics(join(p, '..', 'none.jsonl'), 0);
    expect(existsSync(join(p, '..', 'none.jsonl'))).toBe(true);
  });
});

describe('evaluate', () => {
  it('no images to evaluate is an error saying so, not an AP of 0 or NaN', async () => {
    const { evaluate } = await import('../../yolos/train/evaluate.ts');
    const val = {
      length: 0,
      groundTruth: { images: [], annotations: [], categories: [] },
      get: () => {
        throw new Error('unreachable');
      },
    };
    await expect(evaluate(null as never, val as never, null as never)).rejects.toThrow(
      'evaluate: no images to evaluate (the validation data has 0, limit none); expected at least one',
    );
  });
});
