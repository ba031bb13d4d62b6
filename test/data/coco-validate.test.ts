import { describe, it, expect } from 'vitest';
import { CocoDataset, type CocoImageReader } from '../../yolos/data/coco.ts';
import { parseCocoAnnotations } from '../../yolos/data/coco-validate.ts';

/** A valid two-image ground truth; each test breaks one field. */
function gt(): any {
  return {
    images: [
      { id: 1, file_name: 'a.png' },
      { id: 2, file_name: 'b.png' },
    ],
    categories: [{ id: 3, name: 'cat' }],
    annotations: [
      { id: 10, image_id: 1, category_id: 3, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 },
      { id: 11, image_id: 2, category_id: 3, bbox: [0, 0, 5, 5], area: 25 },
    ],
  };
}
const FILE = 'instances_x.json';
/** A 10×10 grey image for every name: the loader never needs a disk here. */
const reader: CocoImageReader = async () => ({ width: 10, height: 10, data: new Uint8Array(400).fill(128) });
const open = (json: unknown, onWarning?: (m: string) => void) => new CocoDataset(json as any, reader, { annotationFile: FILE, onWarning });

describe('COCO annotation validation (fail: structural errors)', () => {
  it.each([
    [
      'a string bbox',
      (g: any) => {
        g.annotations[0].bbox = ['1', '2', '3', '4'];
      },
      /annotation id 10 \(annotations\[0\]\): bbox is \["1","2","3","4"\], expected \[x, y, w, h\] of 4 finite numbers/,
    ],
    [
      'a null bbox',
      (g: any) => {
        g.annotations[0].bbox = null;
      },
      /annotation id 10 .*bbox is null/,
    ],
    [
      'a missing bbox',
      (g: any) => {
        delete g.annotations[1].bbox;
      },
      /annotation id 11 .*bbox is missing/,
    ],
    [
      'a bbox of 3 numbers',
      (g: any) => {
        g.annotations[0].bbox = [1, 2, 3];
      },
      /bbox is \[1,2,3\]/,
    ],
    [
      'a NaN in a bbox',
      (g: any) => {
        g.annotations[0].bbox = [1, NaN, 3, 4];
      },
      /bbox is \[1,NaN,3,4\]/,
    ],
    [
      'a negative width',
      (g: any) => {
        g.annotations[0].bbox = [1, 2, -3, 4];
      },
      /bbox \[1, 2, -3, 4\] has a negative width or height/,
    ],
    [
      'a missing area',
      (g: any) => {
        delete g.annotations[0].area;
      },
      /annotation id 10 .*area is missing, expected a finite number ≥ 0/,
    ],
    [
      'an unknown category',
      (g: any) => {
        g.annotations[0].category_id = 4;
      },
      /annotation id 10 .*category_id is 4, expected the id of an entry of 'categories'/,
    ],
    [
      'an annotation of a missing image',
      (g: any) => {
        g.annotations[1].image_id = 9;
      },
      /annotation id 11 .*image_id is 9, expected the id of an entry of 'images'/,
    ],
    [
      'duplicate image ids',
      (g: any) => {
        g.images[1].id = 1;
      },
      /images\[1\]: duplicate image id 1/,
    ],
    [
      'duplicate annotation ids',
      (g: any) => {
        g.annotations[1].id = 10;
      },
      /annotations\[1\]: duplicate annotation id 10/,
    ],
    [
      'duplicate category ids',
      (g: any) => {
        g.categories.push({ id: 3, name: 'dog' });
      },
      /categories\[1\]: duplicate category id 3/,
    ],
    [
      'a string id',
      (g: any) => {
        g.images[0].id = '1';
      },
      /images\[0\]: id is "1", expected an integer/,
    ],
    [
      'a missing file_name',
      (g: any) => {
        delete g.images[1].file_name;
      },
      /image id 2 \(images\[1\]\): file_name is missing, expected a non-empty string/,
    ],
    [
      'an odd iscrowd',
      (g: any) => {
        g.annotations[0].iscrowd = 'yes';
      },
      /iscrowd is "yes", expected 0 or 1/,
    ],
    [
      'a missing array',
      (g: any) => {
        delete g.categories;
      },
      /expected arrays 'images', 'annotations' and 'categories'; 'categories' is missing/,
    ],
  ])('%s fails naming the file and the field', (_, breakIt, message) => {
    const g = gt();
    breakIt(g);
    expect(() => open(g)).toThrow(new RegExp(`^${FILE}: `));
    expect(() => open(g)).toThrow(message);
  });

  it('lists the first 5 problems and counts the rest', () => {
    const g = gt();
    for (let i = 0; i < 7; i++) g.annotations.push({ id: 100 + i, image_id: 1, category_id: 3, bbox: 'x', area: 1 });
    expect(() => open(g)).toThrow(/7 problems in the COCO annotations:(\n  annotation id 10\d[^\n]*){5}\n  … and 2 more$/);
  });

  it('a JSON syntax error names the file', () => {
    expect(() => parseCocoAnnotations('{"images": [', 'ann/instances_val2017.json')).toThrow(
      /^ann\/instances_val2017\.json: not valid JSON/,
    );
    expect(() => CocoDataset.fromJson('nope', reader, { annotationFile: FILE })).toThrow(/^instances_x\.json: not valid JSON/);
    expect(() => parseCocoAnnotations('[1, 2]', FILE)).toThrow(/^instances_x\.json: expected a COCO annotation object, got \[1,2\]/);
  });
});

describe('COCO annotation validation (skip: zero-size boxes)', () => {
  it('warns once with a count, keeps them for evaluation, drops them as targets', async () => {
    const g = gt();
    g.annotations.push(
      { id: 12, image_id: 1, category_id: 3, bbox: [4, 4, 0, 2], area: 0 },
      { id: 13, image_id: 1, category_id: 3, bbox: [4, 4, 2, 0], area: 0 },
    );
    const warnings: string[] = [];
    const ds = open(g, (m) => warnings.push(m));
    expect(warnings).toEqual([
      `${FILE}: 2 annotations have a box of zero width or height (first: annotation id 12 (annotations[2]), bbox [4, 4, 0, 2]); skipped as training targets`,
    ]);
    expect(ds.groundTruth.annotations).toHaveLength(4);
    const s = await ds.get(0);
    expect(Array.from(s.labels)).toEqual([3]);
  });

  it('a valid file loads without warnings; items come from the reader', async () => {
    const warnings: string[] = [];
    const ds = open(gt(), (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(ds.length).toBe(2);
    const s = await ds.get(1);
    expect([s.imageId, s.width, s.height]).toEqual([2, 10, 10]);
    expect(Array.from(s.boxes)).toEqual([0.25, 0.25, 0.5, 0.5]);
  });
});
