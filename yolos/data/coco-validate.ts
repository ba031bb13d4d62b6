/**
 * Checks a COCO annotation JSON before anything trusts it (platform-neutral: text in, typed object out).
 *
 * Policy, per case:
 *  FAIL (one Error naming the file, the first few problems and how many there are in all):
 *    text that is not JSON; a top level without `images`, `annotations` and `categories` arrays;
 *    an id that is not an integer, or appears twice (images, annotations, categories each);
 *    an image without a non-empty string `file_name`;
 *    an annotation whose `image_id` is no image or whose `category_id` is no category;
 *    a `bbox` that is not 4 finite numbers, or has w < 0 or h < 0; an `area` that is not a finite number ≥ 0;
 *    an `iscrowd` other than 0, 1, true, false (or absent).
 *  SKIP with one warning and a count: boxes with w = 0 or h = 0. They stay in the ground truth (the
 *    evaluator keeps them, as pycocotools does) but are no training target (DETR drops x1 ≤ x0).
 * A category `name`, when present, must be a string. Fields the loader does not use (image width and
 * height, segmentation, licenses, info) are not checked.
 *
 * @example
 *   const gt = parseCocoAnnotations(await file.text(), file.name);   // throws naming file and field
 */
import type { CocoGroundTruth } from '../eval/coco-eval.ts';

/** Where warnings go; default console.warn. */
export type WarningSink = (message: string) => void;

/** How many problems one error message lists. */
const SHOWN = 5;

/**
 * Parses and validates annotation JSON text (see the file header for the policy).
 * @example parseCocoAnnotations('{"images":[],"annotations":[],"categories":[]}', 'a.json')
 */
export function parseCocoAnnotations(text: string, file: string, onWarning: WarningSink = console.warn): CocoGroundTruth {
  return validateCocoGroundTruth(parseJsonText(text, file), file, onWarning);
}

/** JSON.parse whose error names the file. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Validates an already-parsed annotation object; returns it typed, or throws listing the problems.
 * @example validateCocoGroundTruth(JSON.parse(text), 'instances_val2017.json')
 */
export function validateCocoGroundTruth(json: unknown, file: string, onWarning: WarningSink = console.warn): CocoGroundTruth {
  const problems: string[] = [];
  const root = json as Record<string, unknown> | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw new Error(`${file}: expected a COCO annotation object, got ${describe(json)}`);
  }
  const missing = ['images', 'annotations', 'categories'].filter((k) => !Array.isArray(root[k]));
  if (missing.length)
    throw new Error(
      `${file}: expected arrays 'images', 'annotations' and 'categories'; ${missing.map((k) => `'${k}' is ${describe(root[k])}`).join(', ')}`,
    );

  const records = (key: string) => root[key] as unknown[];
  const idsOf = (key: string, label: string): Set<number> => {
    const seen = new Set<number>();
    records(key).forEach((r, i) => {
      const where = `${key}[${i}]`;
      if (typeof r !== 'object' || r === null) {
        problems.push(`${where}: expected an object, got ${describe(r)}`);
        return;
      }
      const id = (r as { id?: unknown }).id;
      if (!Number.isInteger(id)) problems.push(`${where}: id is ${describe(id)}, expected an integer`);
      else if (seen.has(id as number)) problems.push(`${where}: duplicate ${label} id ${id}`);
      else seen.add(id as number);
    });
    return seen;
  };
  const imageIds = idsOf('images', 'image');
  const categoryIds = idsOf('categories', 'category');
  idsOf('annotations', 'annotation');

  records('images').forEach((r, i) => {
    const im = r as { id?: unknown; file_name?: unknown } | null;
    if (typeof im !== 'object' || im === null) return;
    if (typeof im.file_name !== 'string' || im.file_name === '')
      problems.push(`image id ${String(im.id)} (images[${i}]): file_name is ${describe(im.file_name)}, expected a non-empty string`);
  });
  records('categories').forEach((r, i) => {
    const c = r as { id?: unknown; name?: unknown } | null;
    if (typeof c === 'object' && c !== null && c.name !== undefined && typeof c.name !== 'string')
      problems.push(`category id ${String(c.id)} (categories[${i}]): name is ${describe(c.name)}, expected a string`);
  });

  let degenerate = 0;
  let firstDegenerate = '';
  records('annotations').forEach((r, i) => {
    const a = r as Record<string, unknown> | null;
    if (typeof a !== 'object' || a === null) return;
    const where = `annotation id ${String(a.id)} (annotations[${i}])`;
    if (!imageIds.has(a.image_id as number))
      problems.push(`${where}: image_id is ${describe(a.image_id)}, expected the id of an entry of 'images'`);
    if (!categoryIds.has(a.category_id as number))
      problems.push(`${where}: category_id is ${describe(a.category_id)}, expected the id of an entry of 'categories'`);
    const bbox = a.bbox;
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      problems.push(`${where}: bbox is ${describe(bbox)}, expected [x, y, w, h] of 4 finite numbers`);
    } else if (bbox[2] < 0 || bbox[3] < 0) {
      problems.push(`${where}: bbox [${bbox.join(', ')}] has a negative width or height`);
    } else if (bbox[2] === 0 || bbox[3] === 0) {
      if (degenerate++ === 0) firstDegenerate = `${where}, bbox [${bbox.join(', ')}]`;
    }
    if (typeof a.area !== 'number' || !Number.isFinite(a.area) || a.area < 0)
      problems.push(`${where}: area is ${describe(a.area)}, expected a finite number ≥ 0`);
    if (a.iscrowd !== undefined && ![0, 1, true, false].includes(a.iscrowd as number | boolean))
      problems.push(`${where}: iscrowd is ${describe(a.iscrowd)}, expected 0 or 1`);
  });

  if (problems.length) {
    const more = problems.length > SHOWN ? `\n  … and ${problems.length - SHOWN} more` : '';
    throw new Error(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the COCO annotations:\n  ${problems.slice(0, SHOWN).join('\n  ')}${more}`,
    );
  }
  if (degenerate)
    onWarning(
      `${file}: ${degenerate} annotation${degenerate === 1 ? ' has' : 's have'} a box of zero width or height (first: ${firstDegenerate}); skipped as training targets`,
    );
  return root as unknown as CocoGroundTruth;
}

/** A short description of a JSON value for messages: `"1"`, `null`, `undefined`, `an array of 3`. */
function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (Array.isArray(v))
    return v.length <= 6
      ? `[${v.map((x) => (typeof x === 'number' ? String(x) : (JSON.stringify(x) ?? 'undefined'))).join(',')}]`
      : `an array of ${v.length}`;
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
