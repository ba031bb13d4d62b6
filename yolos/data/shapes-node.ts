/**
 * Writes a shapes dataset to disk in COCO 2017 layout (Node only), every file atomically:
 *   <dir>/<split>2017/<12-digit id>.png   (8-bit RGB, round(v·255))
 *   <dir>/annotations/instances_<split>2017.json   (written last: a folder with it is complete)
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodePng } from '../image-io.ts';
import { writeAtomic } from '../train/files-node.ts';
import type { ShapesDataset } from './shapes.ts';

/**
 * @example await writeShapesCoco(shapesDataset({ seed: 1, count: 50 }), '/tmp/shapes', 'val');
 */
export async function writeShapesCoco(
  ds: ShapesDataset,
  dir: string,
  split = 'val',
): Promise<{ annotationFile: string; imageDir: string }> {
  const imageDir = join(dir, `${split}2017`);
  const annDir = join(dir, 'annotations');
  await mkdir(imageDir, { recursive: true });
  await mkdir(annDir, { recursive: true });
  const coco = ds.toCoco();
  const S = ds.size;
  const hw = S * S;
  for (let k = 0; k < ds.length; k++) {
    const img = ds.get(k).image;
    const rgb = new Uint8Array(3 * hw);
    for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(img[c * hw + p] * 255);
    await writeAtomic(join(imageDir, coco.images[k].file_name), await encodePng({ width: S, height: S, data: rgb, channels: 3 }));
  }
  const annotationFile = join(annDir, `instances_${split}2017.json`);
  await writeAtomic(annotationFile, JSON.stringify(coco));
  return { annotationFile, imageDir };
}
