import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../../yolos/image-io.ts';
import { makeSources } from '../../yolos/train/data-node.ts';
import { evalTransform } from '../../yolos/data/augment.ts';
import { openCocoFolder } from '../../yolos/data/coco-node.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'yolos-coco-src-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A flat grey PNG of width × height. */
async function png(width: number, height: number): Promise<Uint8Array> {
  return await encodePng({ width, height, data: new Uint8Array(width * height * 3).fill(90), channels: 3 });
}

/**
 * A COCO folder whose split holds `images` (name → bytes); every image gets one box covering its centre.
 * Image sizes are given so the boxes fit; the decoded size is what the loader uses.
 */
async function cocoFolder(dir: string, split: string, images: [string, Uint8Array, number, number][]): Promise<void> {
  await mkdir(join(dir, 'annotations'), { recursive: true });
  await mkdir(join(dir, `${split}2017`), { recursive: true });
  for (const [name, bytes] of images) await writeFile(join(dir, `${split}2017`, name), bytes);
  const gt = {
    images: images.map(([file_name, , width, height], i) => ({ id: i + 1, file_name, width, height })),
    categories: [{ id: 1, name: 'thing' }],
    annotations: images.map(([, , w, h], i) => ({
      id: i + 1,
      image_id: i + 1,
      category_id: 1,
      bbox: [w / 4, h / 4, w / 2, h / 2],
      area: (w * h) / 4,
      iscrowd: 0,
    })),
  };
  await writeFile(join(dir, 'annotations', `instances_${split}2017.json`), JSON.stringify(gt));
}

describe('odd images in a COCO folder', () => {
  it('a 17×200 and a 1×1 image train and evaluate; a corrupt one is skipped with a warning naming it', async () => {
    const dir = join(root, 'odd');
    const corrupt = (await png(8, 8)).slice(0, 40); // a PNG cut off after its header
    await cocoFolder(dir, 'train', [
      ['thin.png', await png(17, 200), 17, 200],
      ['dot.png', await png(1, 1), 1, 1],
      ['bad.png', corrupt, 8, 8],
      ['ok.png', await png(32, 32), 32, 32],
    ]);
    await cocoFolder(dir, 'val', [
      ['thin.png', await png(17, 200), 17, 200],
      ['dot.png', await png(1, 1), 1, 1],
    ]);
    const warnings: string[] = [];
    const { train, val } = await makeSources({
      data: dir,
      seed: 3,
      model: 'custom',
      size: 64,
      augment: true,
      onWarning: (m) => warnings.push(m),
    });
    // 8 steps of 4 cover every image twice, through both augmentation branches
    for (let step = 0; step < 8; step++) {
      const b = await train.batch(step, 4);
      expect(b.shape[0]).toBe(4);
      // a random crop may cut the box away; what is left lies in the image
      expect(b.targets.every((t) => t.labels.length <= 1 && t.boxes.every((v) => v > 0 && v <= 1))).toBe(true);
    }
    expect(warnings).toHaveLength(1); // once: a skipped image is not tried again
    expect(warnings[0]).toMatch(/^skipping training image id 3 'bad\.png': .*train2017\/bad\.png: .*\(1 of 4 skipped so far\)$/);
    for (let i = 0; i < val.length; i++) {
      const s = await val.get(i);
      expect((s.width % 16) + (s.height % 16)).toBe(0);
      expect(s.labels.length).toBe(1);
    }
    expect((await val.get(0)).origSize).toEqual([200, 17]);
  });

  it('evalTransform of a 17×200 image at YOLOS-Ti eval size keeps the box on its pixels', async () => {
    const ds = await openCocoFolder(join(root, 'odd'), { split: 'val' });
    const s = evalTransform(await ds.get(0), 64, 106);
    expect([s.height, s.width]).toEqual([96, 16]); // short side 16 (not 0), long side capped at 106 → 96
    Array.from(s.boxes).forEach((v, i) => expect(v).toBeCloseTo([0.5, 0.5, 0.5, 0.5][i], 6));
  });

  it('stops with an Error when every training image fails', async () => {
    const dir = join(root, 'allbad');
    await cocoFolder(dir, 'train', [
      ['x.png', new Uint8Array([1, 2, 3]), 4, 4],
      ['y.png', new Uint8Array([4, 5]), 4, 4],
    ]);
    const warnings: string[] = [];
    const { train } = await makeSources({
      data: dir,
      seed: 0,
      model: 'custom',
      size: 64,
      augment: false,
      onWarning: (m) => warnings.push(m),
    });
    await expect(train.batch(0, 2)).rejects.toThrow(
      /instances_train2017\.json: the first 2 training images all failed, the first with: .*x\.png/,
    );
  });
});

describe('makeSources splits', () => {
  it('missing training annotations are an Error naming the files and --train-split val, not a silent switch to val', async () => {
    const dir = join(root, 'valonly');
    await cocoFolder(dir, 'val', [['a.png', await png(16, 16), 16, 16]]);
    await expect(makeSources({ data: dir, seed: 0, model: 'custom', augment: false, onWarning: () => {} })).rejects.toThrow(
      /no 'train' annotations to train on \(tried .*instances_train2017\.json, .*instances_train\.json\); to train on the validation split instead, pass --train-split val/,
    );
    const warnings: string[] = [];
    const { train, val } = await makeSources({
      data: dir,
      seed: 0,
      model: 'custom',
      augment: false,
      trainSplit: 'val',
      onWarning: (m) => warnings.push(m),
    });
    expect(train.categories).toEqual([{ id: 1, name: 'thing' }]);
    expect(val.length).toBe(1);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^training on the validation split \(.*instances_val2017\.json\): evaluation scores are on images the model has seen$/,
      ),
    ]);
  });

  it('a folder without val annotations evaluates on train with a warning', async () => {
    const dir = join(root, 'trainonly');
    await cocoFolder(dir, 'train', [['a.png', await png(16, 16), 16, 16]]);
    const warnings: string[] = [];
    const { val } = await makeSources({ data: dir, seed: 0, model: 'custom', augment: false, onWarning: (m) => warnings.push(m) });
    expect(val.length).toBe(1);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^no validation annotations \(tried .*instances_val2017\.json, .*\): evaluating on the training split .*instances_train2017\.json/,
      ),
    ]);
  });

  it('a broken training annotation file fails naming it (no fallback either)', async () => {
    const dir = join(root, 'broken');
    await cocoFolder(dir, 'val', [['a.png', await png(16, 16), 16, 16]]);
    await writeFile(join(dir, 'annotations', 'instances_train2017.json'), '{"images": [}');
    await expect(makeSources({ data: dir, seed: 0, model: 'custom', augment: false })).rejects.toThrow(
      /instances_train2017\.json: not valid JSON/,
    );
  });

  it('a split with the shapes data is refused', async () => {
    await expect(makeSources({ data: 'shapes', seed: 0, model: 'nano16', augment: false, trainSplit: 'val' })).rejects.toThrow(
      /split applies to COCO folders only/,
    );
  });
});
