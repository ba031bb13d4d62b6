/** `yolos detect`'s output file names: one per input, unique, and the same for the same argument list. */
import { basename, extname } from 'node:path';

/**
 * `<stem>.png` per input; a stem already taken (a/x.png b/x.png, or x.png x.jpg) gets `-2`, `-3`, …
 * in argument order, skipping names another input already has.
 * @example uniqueOutputNames(['a/x.png', 'b/x.png', 'x.jpg']) // ['x.png', 'x-2.png', 'x-3.png']
 */
export function uniqueOutputNames(paths: readonly string[]): string[] {
  const stems = paths.map((p) => basename(p, extname(p)));
  const key = (name: string) => name.toLowerCase(); // case-insensitive file systems (macOS, Windows)
  const taken = new Set<string>();
  const firstOwner = new Map<string, number>();
  stems.forEach((s, i) => {
    if (!firstOwner.has(key(s))) firstOwner.set(key(s), i);
  });
  return stems.map((stem, i) => {
    let name = stem;
    for (let k = 2; taken.has(key(name)) || (firstOwner.has(key(name)) && firstOwner.get(key(name))! > i); k++) name = `${stem}-${k}`;
    taken.add(key(name));
    return `${name}.png`;
  });
}
