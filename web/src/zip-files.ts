/**
 * `.zip` archives among a dataset's files, unpacked (fflate, in the training worker so a large archive
 * never blocks the page): each entry becomes a file at its path inside the archive.
 */
import { unzipSync } from 'fflate';
import type { DatasetFile } from '../../yolos/data/coco-files.ts';

/** The files with every `.zip` among them replaced by its entries (folders and empty names dropped). */
export async function expandArchives(files: DatasetFile[]): Promise<DatasetFile[]> {
  const out: DatasetFile[] = [];
  for (const f of files) {
    if (!/\.zip$/i.test(f.path)) {
      out.push(f);
      continue;
    }
    const bytes = new Uint8Array(await f.blob.arrayBuffer());
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes); // synchronous: this runs in the worker
    } catch (e) {
      throw new Error(`${f.path}: not a readable zip archive (${(e as Error).message})`);
    }
    for (const [path, data] of Object.entries(entries)) {
      if (!path.endsWith('/')) out.push({ path, blob: new Blob([data as Uint8Array<ArrayBuffer>]) });
    }
  }
  return out;
}
