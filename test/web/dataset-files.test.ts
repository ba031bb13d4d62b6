/**
 * filesOfDrop / filesOfInput / describeFiles (web/src/dataset-files.ts): a dropped folder is walked
 * through the entry API — every chunk readEntries returns, nested folders, paths inside the folder —
 * and picked files keep their webkitRelativePath. Fake entries stand in for Chromium's (a test
 * cannot make a drop of a real folder).
 */
import { describe, it, expect } from 'vitest';
import { filesOfDrop, filesOfInput, describeFiles } from '../../web/src/dataset-files.ts';

type Entry = {
  isFile: boolean;
  fullPath: string;
  file?: (ok: (f: File) => void) => void;
  createReader?: () => { readEntries: (ok: (e: Entry[]) => void) => void };
};
const file = (fullPath: string): Entry => ({ isFile: true, fullPath, file: (ok) => ok(new File([fullPath], fullPath.split('/').pop()!)) });
/** A folder whose reader hands out its children two at a time, as Chromium hands out chunks. */
function folder(fullPath: string, children: Entry[]): Entry {
  return {
    isFile: false,
    fullPath,
    createReader: () => {
      let at = 0;
      return {
        readEntries: (ok) => {
          ok(children.slice(at, at + 2));
          at += 2;
        },
      };
    },
  };
}

describe('dataset files', () => {
  it('walks a dropped folder: every chunk, nested folders, paths without the leading slash', async () => {
    const tree = folder('/coco', [
      file('/coco/a.png'),
      file('/coco/b.png'),
      file('/coco/c.png'),
      folder('/coco/annotations', [file('/coco/annotations/instances_train.json')]),
    ]);
    const dt = { items: [{ webkitGetAsEntry: () => tree }], files: [] } as unknown as DataTransfer;
    const files = await filesOfDrop(dt);
    expect(files.map((f) => f.path)).toEqual(['coco/a.png', 'coco/b.png', 'coco/c.png', 'coco/annotations/instances_train.json']);
    expect(await files[3].blob.text()).toBe('/coco/annotations/instances_train.json');
    expect(describeFiles(files)).toBe('coco/');
  });
  it('keeps the paths a directory picker gives, and names plain picks by count', () => {
    const picked = Object.assign(new File(['x'], 'a.png'), { webkitRelativePath: 'set/train/a.png' });
    expect(filesOfInput([picked]).map((f) => f.path)).toEqual(['set/train/a.png']);
    expect(describeFiles(filesOfInput([new File(['x'], 'a.png'), new File(['y'], 'b.json')]))).toBe('2 files');
  });
});
