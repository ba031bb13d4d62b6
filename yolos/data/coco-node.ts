/**
 * Opens a COCO 2017-layout folder from disk (Node only; the dataset itself is ./coco.ts):
 *   <dir>/annotations/instances_<split>2017.json   (or instances_<split>.json)
 *   <dir>/<split>2017/<file_name>                   decoded by ../image-io.ts
 *
 * @example
 *   const ds = await openCocoFolder('/data/coco', { split: 'val' });
 *   const s = await ds.get(0);
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../image-io.ts';
import { CocoDataset, type CocoDatasetOptions, type CocoImageReader } from './coco.ts';

export interface CocoFolderOptions extends Omit<CocoDatasetOptions, 'annotationFile'> {
  /** 'train' or 'val' (any name: the folders are `<split>2017`). Default 'val'. */
  split?: string;
  /** Override the annotation file path. */
  annotationFile?: string;
  /** Override the image folder. */
  imageDir?: string;
}

/** No annotation file at any of the paths tried (callers add advice, e.g. `--train-split`). */
export class NoAnnotationFileError extends Error {
  constructor(readonly tried: string[]) {
    super(`no COCO annotation file: tried ${tried.join(', ')}`);
    this.name = 'NoAnnotationFileError';
  }
}

/** Reads `<imageDir>/<fileName>` and decodes it; errors name the full path. */
export function folderImageReader(imageDir: string): CocoImageReader {
  return async (fileName) => {
    const file = join(imageDir, fileName);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`${file}: ${err.code === 'ENOENT' ? 'no such image file' : `cannot read (${err.message})`}`);
    }
    return await decodeImage(bytes, file);
  };
}

/**
 * Opens `<dir>` in COCO 2017 layout: `annotations/instances_<split>2017.json`, or
 * `annotations/instances_<split>.json` when the first is absent; images from `<split>2017/`.
 * Throws `NoAnnotationFileError` when neither exists; a bad file fails naming it (see ./coco-validate.ts).
 */
export async function openCocoFolder(dir: string, opts: CocoFolderOptions = {}): Promise<CocoDataset> {
  const split = opts.split ?? 'val';
  const candidates = opts.annotationFile
    ? [opts.annotationFile]
    : [join(dir, 'annotations', `instances_${split}2017.json`), join(dir, 'annotations', `instances_${split}.json`)];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') continue;
      throw new Error(`${file}: cannot read (${err.message})`);
    }
    const reader = folderImageReader(opts.imageDir ?? join(dir, `${split}2017`));
    return CocoDataset.fromJson(text, reader, { annotationFile: file, onWarning: opts.onWarning });
  }
  throw new NoAnnotationFileError(candidates);
}
