/**
 * A COCO dataset from picked or dropped files (browser-safe): a folder chosen with a directory picker,
 * dropped on a page, or unpacked from an archive, as a list of { path, blob }.
 *
 * Annotations: `instances_<split>.json` anywhere in the tree (`annotations/instances_train2017.json`,
 * or flat). Training reads the split that starts with `train`; without one, the only other
 * `instances_*.json` that is not a `val*` split; with only a `val*` file, that one. Validation reads
 * the `val*` split when it is another file, else the last 10% of the training images (in id order,
 * at least one) are held out — and `notes` says so. Several candidates for one role are an Error.
 * Images: each `file_name` is found by path suffix (`000001.png` matches `train2017/000001.png`); a
 * name in several folders goes to the one named like the split (`train2017/`, `train/`). Every image
 * the annotations name must be there: the missing ones are an Error listing them, before any training.
 * Malformed annotations fail with coco-validate.ts's message (file, annotation id, field).
 *
 * @example
 *   const files = [...input.files].map((f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
 *   const { train, val, notes } = await cocoFromFiles(files);
 */
import { CocoDataset, type DecodedImage } from './coco.ts';
import { parseJsonText, validateCocoGroundTruth, type WarningSink } from './coco-validate.ts';
import type { CocoGroundTruth } from '../eval/coco-eval.ts';
import { toRgbImage } from '../image-input.ts';

/** One file of a dataset folder: its path inside the folder ('/'-separated) and its bytes. */
export interface DatasetFile {
  path: string;
  blob: Blob;
}

export interface CocoFilesOptions {
  /** Decodes one image file (default `toRgbImage`: EXIF orientation, PIL's pixel cap). */
  decode?: (blob: Blob, path: string) => Promise<DecodedImage>;
  /** Where validation warnings go. Default console.warn. */
  onWarning?: WarningSink;
}

export interface CocoFilesDataset {
  train: CocoDataset;
  val: CocoDataset;
  /** The annotation files used (val: null when the validation images are held out of training's). */
  trainFile: string;
  valFile: string | null;
  /** What was chosen and why, one line each (for the page). */
  notes: string[];
}

/** Share of the training images held out for validation when there is no val split. */
export const HELD_OUT = 0.1;

const ANNOTATION = /(?:^|\/)instances_([^/]*)\.json$/i;
/** Files a folder picker or an archive brings along that are no part of the dataset. */
const JUNK = /(?:^|\/)(?:__MACOSX\/|\._|\.DS_Store$|Thumbs\.db$)/;

/** A path as '/'-separated, without a leading './' or '/'. */
export function normalizePath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^(?:\.\/|\/)+/, '');
}

const splitOf = (path: string) => ANNOTATION.exec(path)![1];

/** The annotation files for training and validation (see the file comment). */
export function chooseAnnotationFiles(paths: string[]): { train: string; val: string | null } {
  const all = paths.filter((p) => ANNOTATION.test(p)).sort();
  if (!all.length)
    throw new Error(
      `no COCO annotation file among the ${paths.length} files: expected annotations/instances_<split>.json (e.g. instances_train2017.json, instances_val2017.json)`,
    );
  const one = (list: string[], role: string): string | null => {
    if (list.length > 1) throw new Error(`${list.length} annotation files for ${role}: ${list.join(', ')}; keep one`);
    return list[0] ?? null;
  };
  const val = one(
    all.filter((p) => /^val/i.test(splitOf(p))),
    'validation (instances_val*.json)',
  );
  let train = one(
    all.filter((p) => /^train/i.test(splitOf(p))),
    'training (instances_train*.json)',
  );
  if (!train) {
    const others = all.filter((p) => p !== val);
    if (others.length > 1)
      throw new Error(
        `no instances_train*.json, and ${others.length} other annotation files: ${others.join(', ')}; name the training one instances_train.json`,
      );
    train = others[0] ?? val!;
  }
  return { train, val: val === train ? null : val };
}

/** Finds the image files that COCO `file_name`s name (see the file comment). */
export class ImageResolver {
  private readonly byName = new Map<string, DatasetFile[]>();

  constructor(files: DatasetFile[]) {
    for (const f of files) {
      const base = f.path.slice(f.path.lastIndexOf('/') + 1);
      const list = this.byName.get(base);
      if (list) list.push(f);
      else this.byName.set(base, [f]);
    }
  }

  /** The file for `fileName` under annotations of `split`, or a string saying why there is none. */
  find(fileName: string, split: string): DatasetFile | string {
    const name = normalizePath(fileName);
    const base = name.slice(name.lastIndexOf('/') + 1);
    let hits = (this.byName.get(base) ?? []).filter((f) => f.path === name || f.path.endsWith(`/${name}`));
    if (hits.length > 1) {
      const dirs = new Set([split, split.replace(/\d{4}$/, ''), `${split.replace(/\d{4}$/, '')}2017`]);
      const inSplit = hits.filter((f) =>
        f.path
          .split('/')
          .slice(0, -1)
          .some((d) => dirs.has(d)),
      );
      if (inSplit.length) hits = inSplit;
    }
    if (hits.length === 1) return hits[0];
    return hits.length
      ? `'${fileName}' is in ${hits.length} folders (${hits.map((f) => f.path).join(', ')}), none named like the split '${split}'`
      : `'${fileName}' is missing`;
  }
}

/**
 * The training and validation datasets of a COCO folder given as files (see the file comment).
 * @example const { train, val, notes } = await cocoFromFiles(files, { onWarning: (m) => notes.push(m) });
 */
export async function cocoFromFiles(input: DatasetFile[], opts: CocoFilesOptions = {}): Promise<CocoFilesDataset> {
  const files = input.map((f) => ({ path: normalizePath(f.path), blob: f.blob })).filter((f) => !JUNK.test(f.path));
  const chosen = chooseAnnotationFiles(files.map((f) => f.path));
  const images = new ImageResolver(files.filter((f) => !/\.json$/i.test(f.path)));
  const onWarning = opts.onWarning ?? console.warn;
  const decode = opts.decode ?? ((blob: Blob, path: string) => toRgbImage(blob, { name: path }) as Promise<DecodedImage>);
  const notes: string[] = [];

  const open = async (path: string): Promise<{ gt: CocoGroundTruth; read: (name: string) => Promise<DecodedImage> }> => {
    const file = files.find((f) => f.path === path)!;
    let text: string;
    try {
      text = await file.blob.text();
    } catch (e) {
      throw new Error(`${path}: cannot be read (${(e as Error).message})`);
    }
    const gt = validateCocoGroundTruth(parseJsonText(text, path), path, onWarning);
    const split = splitOf(path);
    const found = new Map<string, DatasetFile>();
    const missing: string[] = [];
    for (const im of gt.images as { id: number; file_name: string }[]) {
      const hit = images.find(im.file_name, split);
      if (typeof hit === 'string') missing.push(`image id ${im.id}: ${hit}`);
      else found.set(im.file_name, hit);
    }
    if (missing.length) {
      const shown = missing.slice(0, 5).join('\n  ');
      throw new Error(
        `${path}: ${missing.length} of the ${gt.images.length} images it names are not among the chosen files:\n  ${shown}${missing.length > 5 ? `\n  … and ${missing.length - 5} more` : ''}`,
      );
    }
    const read = (name: string) => {
      const f = found.get(name)!;
      return decode(f.blob, f.path);
    };
    return { gt, read };
  };

  const t = await open(chosen.train);
  // validated once above: the datasets below need not warn again
  const quiet = { annotationFile: chosen.train, onWarning: () => {} };
  if (chosen.val) {
    const v = await open(chosen.val);
    notes.push(`training on ${chosen.train} (${t.gt.images.length} images), validating on ${chosen.val} (${v.gt.images.length} images)`);
    return {
      train: new CocoDataset(t.gt, t.read, quiet),
      val: new CocoDataset(v.gt, v.read, { annotationFile: chosen.val, onWarning: () => {} }),
      trainFile: chosen.train,
      valFile: chosen.val,
      notes,
    };
  }
  const ids = (t.gt.images as { id: number }[]).map((im) => im.id).sort((a, b) => a - b);
  if (ids.length < 2) {
    notes.push(
      `${chosen.train} has ${ids.length} image${ids.length === 1 ? '' : 's'} and there is no val split: validating on the training image${ids.length === 1 ? '' : 's'} (scores measure fit, not generalisation)`,
    );
    const ds = new CocoDataset(t.gt, t.read, quiet);
    return { train: ds, val: ds, trainFile: chosen.train, valFile: null, notes };
  }
  const k = Math.max(1, Math.round(HELD_OUT * ids.length));
  const heldOut = new Set(ids.slice(-k));
  const part = (keep: (id: number) => boolean): CocoGroundTruth => ({
    ...t.gt,
    images: t.gt.images.filter((im) => keep(im.id)),
    annotations: t.gt.annotations.filter((a) => keep(a.image_id)),
  });
  notes.push(
    `no instances_val*.json: validating on the last ${k} of the ${ids.length} images of ${chosen.train} (by id), held out of training`,
  );
  return {
    train: new CocoDataset(
      part((id) => !heldOut.has(id)),
      t.read,
      quiet,
    ),
    val: new CocoDataset(
      part((id) => heldOut.has(id)),
      t.read,
      quiet,
    ),
    trainFile: chosen.train,
    valFile: null,
    notes,
  };
}
