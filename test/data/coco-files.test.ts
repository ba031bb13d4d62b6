/**
 * cocoFromFiles (yolos/data/coco-files.ts): a COCO folder given as picked/dropped files — which
 * annotation files train and validate, images found by file_name in split folders or flat, the
 * held-out slice without a val split, and the errors for missing images and malformed annotations.
 * Images are 2×2 stubs decoded by a fake decoder (no image codec in the node project needs to run).
 */
import { describe, it, expect } from 'vitest';
import { cocoFromFiles, chooseAnnotationFiles, type DatasetFile } from '../../yolos/data/coco-files.ts';

const json = (o: unknown) => new Blob([JSON.stringify(o)]);
/** A tiny annotation file naming images `names` (ids 1…), one box each, categories 1 and 2. */
function annotations(names: string[]) {
  return {
    images: names.map((file_name, i) => ({ id: i + 1, file_name, width: 2, height: 2 })),
    annotations: names.map((_, i) => ({ id: 100 + i, image_id: i + 1, category_id: 1 + (i % 2), bbox: [0, 0, 1, 1], area: 1, iscrowd: 0 })),
    categories: [
      { id: 1, name: 'circle' },
      { id: 2, name: 'square' },
    ],
  };
}
/** A stub image file whose bytes are its own path (the fake decoder reports which file it read). */
const image = (path: string): DatasetFile => ({ path, blob: new Blob([path]) });
const decodedFrom: string[] = [];
const decode = async (blob: Blob) => {
  decodedFrom.push(await blob.text());
  return { width: 2, height: 2, data: new Uint8Array(16), channels: 4 as const };
};

describe('cocoFromFiles', () => {
  it('trains on instances_train*, validates on instances_val*, images found in their split folders', async () => {
    // the same file name in both splits: each annotation file gets its own split's image
    const files = [
      { path: 'coco/annotations/instances_train2017.json', blob: json(annotations(['a.png', 'b.png'])) },
      { path: 'coco/annotations/instances_val2017.json', blob: json(annotations(['a.png'])) },
      image('coco/train2017/a.png'),
      image('coco/train2017/b.png'),
      image('coco/val2017/a.png'),
      image('coco/__MACOSX/._a.png'),
    ];
    const ds = await cocoFromFiles(files, { decode });
    expect(ds.trainFile).toBe('coco/annotations/instances_train2017.json');
    expect(ds.valFile).toBe('coco/annotations/instances_val2017.json');
    expect(ds.train.length).toBe(2);
    expect(ds.val.length).toBe(1);
    decodedFrom.length = 0;
    await ds.train.get(0);
    await ds.val.get(0);
    expect(decodedFrom).toEqual(['coco/train2017/a.png', 'coco/val2017/a.png']);
    expect(ds.notes.join()).toMatch(/validating on coco\/annotations\/instances_val2017\.json/);
  });

  it('without a val split holds out the last 10% of the training images (at least one), and says so', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `${i}.png`);
    const ds = await cocoFromFiles([{ path: 'instances_mine.json', blob: json(annotations(names)) }, ...names.map(image)], { decode });
    expect(ds.valFile).toBeNull();
    expect(ds.train.length).toBe(11);
    expect(ds.val.length).toBe(1);
    expect(ds.val.imageInfo(0).id).toBe(12);
    expect(ds.notes.join()).toMatch(/no instances_val\*\.json: validating on the last 1 of the 12 images/);
  });

  it('names every missing image (first five and the count) before any training', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `${i}.png`);
    const run = cocoFromFiles([{ path: 'annotations/instances_train.json', blob: json(annotations(names)) }, image('images/0.png')], {
      decode,
    });
    await expect(run).rejects.toThrow(
      /annotations\/instances_train\.json: 6 of the 7 images it names are not among the chosen files:\n {2}image id 2: '1\.png' is missing[\s\S]*… and 1 more/,
    );
  });

  it("gives the validator's message for malformed annotations, and a JSON error naming the file", async () => {
    const bad = annotations(['a.png']);
    (bad.annotations[0] as { bbox: unknown }).bbox = [0, 0, 1];
    await expect(cocoFromFiles([{ path: 'instances_train.json', blob: json(bad) }, image('a.png')], { decode })).rejects.toThrow(
      /instances_train\.json: 1 problem in the COCO annotations:\n {2}annotation id 100 \(annotations\[0\]\): bbox is \[0,0,1\], expected \[x, y, w, h\] of 4 finite numbers/,
    );
    await expect(cocoFromFiles([{ path: 'instances_train.json', blob: new Blob(['{"images": [']) }], { decode })).rejects.toThrow(
      /instances_train\.json: not valid JSON/,
    );
  });

  it('chooses annotation files: train, else the only non-val one, else val; ambiguity and absence are errors', () => {
    expect(chooseAnnotationFiles(['x/instances_val.json'])).toEqual({ train: 'x/instances_val.json', val: null });
    expect(chooseAnnotationFiles(['instances_shapes.json', 'instances_val.json'])).toEqual({
      train: 'instances_shapes.json',
      val: 'instances_val.json',
    });
    expect(() => chooseAnnotationFiles(['a/instances_train.json', 'b/instances_train2017.json'])).toThrow(
      /2 annotation files for training \(instances_train\*\.json\): a\/instances_train\.json, b\/instances_train2017\.json; keep one/,
    );
    expect(() => chooseAnnotationFiles(['img/1.png', 'labels.json'])).toThrow(
      /no COCO annotation file among the 2 files: expected annotations\/instances_<split>\.json/,
    );
  });
});
