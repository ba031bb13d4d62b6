/**
 * The files of a dataset the user gives the page — a folder from `<input webkitdirectory>`, several
 * picked files, or a folder or files dropped on the page — as { path, blob } with their paths inside
 * the folder, which is how yolos/data/coco-files.ts finds the annotations and the images.
 */
import type { DatasetFile } from '../../yolos/data/coco-files.ts';

/** Picked files: a directory picker gives each its path in the folder; plain picks have only names. */
export function filesOfInput(list: FileList | File[]): DatasetFile[] {
  return Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
}

/**
 * Dropped files and folders (folders walked through `webkitGetAsEntry`). The entries must be taken
 * before the first await: the DataTransfer empties when the drop event returns.
 */
export async function filesOfDrop(dt: DataTransfer): Promise<DatasetFile[]> {
  const entries = Array.from(dt.items ?? [], (item) => item.webkitGetAsEntry?.() ?? null);
  if (!entries.length || entries.some((e) => e === null)) return filesOfInput(dt.files); // no entry API: plain files
  const out: DatasetFile[] = [];
  for (const entry of entries) await walk(entry!, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: DatasetFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, (e) => reject(new Error(`${entry.fullPath}: cannot be read (${e.message})`))),
    );
    out.push({ path: entry.fullPath.replace(/^\//, ''), blob: file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns a chunk (at most 100 in Chromium) per call, then [] at the end
  for (;;) {
    const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, (e) => reject(new Error(`${entry.fullPath}: cannot list the folder (${e.message})`))),
    );
    if (!chunk.length) break;
    for (const e of chunk) await walk(e, out);
  }
}

/** A short name for what was given: the top folder, the archive, or "N files". */
export function describeFiles(files: DatasetFile[]): string {
  const tops = new Set(files.map((f) => f.path.split('/')[0]));
  if (files.length === 1) return files[0].path;
  return tops.size === 1 && files[0].path.includes('/') ? `${[...tops][0]}/` : `${files.length} files`;
}
