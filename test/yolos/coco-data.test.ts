import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, writeFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { shapesDataset } from '../../yolos/data/shapes.ts';
import { cocoTarget, rgbaToChw } from '../../yolos/data/coco.ts';
import { openCocoFolder } from '../../yolos/data/coco-node.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';
import type { CocoGroundTruth } from '../../yolos/eval/coco-eval.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'yolos-coco-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('CocoDataset', () => {
  it('loads back a shapes dataset written with writeShapesCoco (same boxes, labels, areas; pixels to 8 bits)', async () => {
    const ds = shapesDataset({ seed: 21, count: 12, start: 40 });
    const dir = join(root, 'shapes');
    const { annotationFile, imageDir } = await writeShapesCoco(ds, dir, 'val');
    expect(annotationFile).toBe(join(dir, 'annotations', 'instances_val2017.json'));
    expect((await readdir(imageDir)).sort()).toEqual(
      ds
        .toCoco()
        .images.map((im) => im.file_name)
        .sort(),
    );

    const coco = await openCocoFolder(dir, { split: 'val' });
    expect(coco.length).toBe(12);
    expect(coco.groundTruth).toEqual(JSON.parse(JSON.stringify(ds.toCoco())));
    expect(coco.categories.map((c) => c.name)).toEqual(['circle', 'square', 'triangle']);
    for (let i = 0; i < coco.length; i++) {
      const want = ds.get(i);
      const got = await coco.get(i);
      expect(got.imageId).toBe(want.imageId);
      expect([got.width, got.height]).toEqual([64, 64]);
      expect(got.origSize).toEqual([64, 64]);
      // Boxes are whole pixels: (x0 + x1)/2/64 and (x + w/2)/64 are the same exact number → equal float32.
      expect(got.boxes).toEqual(want.boxes);
      expect(got.labels).toEqual(want.labels);
      expect(got.areas).toEqual(want.areas);
      // PNG stores round(v·255): |v − round(v·255)/255| ≤ 0.5/255, plus float32 rounding (< 1e-7).
      let maxErr = 0;
      for (let p = 0; p < want.image.length; p++) maxErr = Math.max(maxErr, Math.abs(got.image[p] - want.image[p]));
      expect(maxErr).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    }
  });

  it('reads instances_<split>.json and JPEG; drops crowd and degenerate boxes, clamps to the image, sorts by id', async () => {
    const dir = join(root, 'custom');
    await mkdir(join(dir, 'annotations'), { recursive: true });
    await mkdir(join(dir, 'train2017'), { recursive: true });
    // a 20×10 JPEG of one flat colour (200, 100, 50)
    const W = 20,
      H = 10;
    const rgba = new Uint8Array(W * H * 4);
    for (let p = 0; p < W * H; p++) rgba.set([200, 100, 50, 255], p * 4);
    await writeFile(join(dir, 'train2017', 'a.jpg'), jpeg.encode({ data: rgba, width: W, height: H }, 100).data);
    const gt: CocoGroundTruth = {
      images: [
        { id: 5, file_name: 'a.jpg', width: W, height: H },
        { id: 2, file_name: 'a.jpg', width: W, height: H },
      ],
      categories: [
        { id: 7, name: 'x' },
        { id: 9, name: 'y' },
      ],
      annotations: [
        { id: 1, image_id: 5, category_id: 7, bbox: [2, 1, 4, 6], area: 24, iscrowd: 0 }, // kept
        { id: 2, image_id: 5, category_id: 9, bbox: [0, 0, 10, 10], area: 100, iscrowd: 1 }, // crowd: dropped
        { id: 3, image_id: 5, category_id: 9, bbox: [15, -2, 10, 5], area: 50, iscrowd: 0 }, // clamped to [15,0,20,3]
        { id: 4, image_id: 5, category_id: 7, bbox: [3, 3, 0, 4], area: 0, iscrowd: 0 }, // w = 0: dropped
        { id: 5, image_id: 5, category_id: 7, bbox: [25, 2, 5, 5], area: 25, iscrowd: 0 }, // outside: x0 = x1 = 20, dropped
        { id: 6, image_id: 2, category_id: 9, bbox: [0, 0, 20, 10], area: 200 }, // no iscrowd field: kept
      ],
    };
    await writeFile(join(dir, 'annotations', 'instances_train.json'), JSON.stringify(gt));
    const warnings: string[] = [];
    const coco = await openCocoFolder(dir, { split: 'train', onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      expect.stringMatching(/instances_train\.json: 1 annotation has a box of zero width or height \(first: annotation id 4/),
    ]);
    expect(coco.annotationFile).toBe(join(dir, 'annotations', 'instances_train.json'));
    expect(coco.length).toBe(2);

    const first = await coco.get(0); // id 2 comes first (ascending ids)
    expect(first.imageId).toBe(2);
    expect(Array.from(first.boxes)).toEqual([0.5, 0.5, 1, 1]);
    expect(Array.from(first.labels)).toEqual([9]);

    const s = await coco.get(1);
    expect(s.imageId).toBe(5);
    expect([s.width, s.height]).toEqual([W, H]);
    expect(Array.from(s.labels)).toEqual([7, 9]);
    expect(Array.from(s.areas)).toEqual([24, 50]); // the annotation's area field, as DETR keeps it
    // [2,1,4,6] → xyxy [2,1,6,7] → cxcywh [4/20, 4/10, 4/20, 6/10]; [15,-2,10,5] → [15,0,20,3] → [17.5/20, 1.5/10, 5/20, 3/10]
    const want = [4 / 20, 4 / 10, 4 / 20, 6 / 10, 17.5 / 20, 1.5 / 10, 5 / 20, 3 / 10];
    Array.from(s.boxes).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6)); // float32 storage: ~6e-8
    // JPEG at quality 100 of a flat colour decodes to within a few levels (chroma subsampling + DCT rounding).
    const expected = [200 / 255, 100 / 255, 50 / 255];
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < W * H; p++) expect(Math.abs(s.image[c * W * H + p] - expected[c])).toBeLessThanOrEqual(4 / 255);
    }
  });

  it('names the files it tried when no annotation file exists', async () => {
    await expect(openCocoFolder(join(root, 'nothing'), { split: 'val' })).rejects.toThrow(/instances_val2017\.json.*instances_val\.json/);
  });

  it('cocoTarget and rgbaToChw on their own', () => {
    const t = cocoTarget([{ id: 1, image_id: 1, category_id: 3, bbox: [-5, 5, 15, 10], area: 150, iscrowd: 0 }], 20, 40);
    // [-5,5,15,10] → xyxy [-5,5,10,15] → clamped [0,5,10,15] → cxcywh [5,10,10,10] / [20,40,20,40]
    expect(Array.from(t.boxes)).toEqual([0.25, 0.25, 0.5, 0.25]);
    expect(Array.from(rgbaToChw(new Uint8Array([255, 0, 51, 9, 0, 255, 0, 9]), 2, 1))).toEqual([1, 0, 0, 1, 0.2, 0].map(Math.fround));
  });
});
