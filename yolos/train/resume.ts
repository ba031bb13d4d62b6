/**
 * What a resumed run keeps, may change and must refuse. The recipe (data, model, batch, lr, …) is
 * the checkpoint's: a different value is refused with a message, never silently dropped. `steps` may
 * grow (the cosine schedule is re-fitted to the new end); when to stop, checkpoint, log and evaluate
 * are this run's to choose.
 */
import { readFile } from 'node:fs/promises';
import { parseConfig, type YolosConfig } from '../config.ts';
import { writeAtomic } from './files-node.ts';

/** The options a checkpoint pins, in the order they are checked. */
export const PINNED = [
  'data',
  'trainSplit',
  'model',
  'batch',
  'lr',
  'weightDecay',
  'clip',
  'warmup',
  'size',
  'seed',
  'init',
  'augment',
] as const;
export type PinnedKey = (typeof PINNED)[number];

const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const modelKey = (m: unknown) => (typeof m === 'string' ? m : parseConfig(m as YolosConfig));

/**
 * Throws when `given` sets a pinned option to something else than the checkpoint's `saved` value.
 * @example checkPinned({ batch: 8 }, { batch: 16 }, 'runs/x/checkpoint.safetensors') // throws
 */
export function checkPinned(given: Partial<Record<PinnedKey, unknown>>, saved: Record<string, unknown>, path: string): void {
  for (const k of PINNED) {
    const g = given[k];
    if (g === undefined) continue;
    const s = k === 'trainSplit' ? (saved[k] ?? 'train') : saved[k];
    const differs = k === 'model' ? !same(modelKey(g), modelKey(s)) : !same(g, s);
    if (differs) {
      const show = (v: unknown) => (k === 'model' && typeof v === 'object' ? 'a custom config' : JSON.stringify(v));
      throw new Error(
        `train: ${k} (${flag(k)}) ${show(g)} differs from ${show(s)} in the checkpoint '${path}'; a resumed run keeps the recipe it started with — leave ${flag(k)} out, or start a new run with another --out`,
      );
    }
  }
}

/** The schedule's end for a resumed run: the checkpoint's, or a larger `steps` given now. */
export function resumedTotal(given: number | undefined, saved: number, atStep: number, path: string): number {
  if (given === undefined) return saved;
  if (!(given > atStep))
    throw new Error(
      `train: the checkpoint '${path}' is at step ${atStep}; --steps ${given} must be larger to train on (the schedule is re-fitted to the new end)`,
    );
  return given;
}

/**
 * Keeps the lines of `metrics.jsonl` for steps before `step` (dropping a torn last line), so a
 * resumed run appends each step once.
 */
export async function truncateMetrics(path: string, step: number): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    text = '';
  }
  const kept = text.split('\n').filter((line) => {
    try {
      return (JSON.parse(line) as { step: number }).step < step;
    } catch {
      return false;
    }
  });
  await writeAtomic(path, kept.map((l) => `${l}\n`).join(''));
}
