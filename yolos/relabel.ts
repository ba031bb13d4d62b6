/**
 * A detector on a new label set — Hugging Face's `ignore_mismatched_sizes=True` case: every tensor
 * loads as stored except the class head's last layer, whose shape follows num_labels + 1; that layer is
 * re-initialised (PyTorch's default Linear init) when the label count changes. With the same count only
 * the names change.
 */
import type { Tensor } from '../engine/index.ts';
import { parameterShapes, type YolosConfig } from './config.ts';
import { initHeadTensor } from './init.ts';

/** The tensors whose shape depends on num_labels. */
export const CLASS_OUTPUT_KEYS = ['class_labels_classifier.layers.2.weight', 'class_labels_classifier.layers.2.bias'] as const;

/** `c` with the labels of `id2label`, whose keys must be exactly '0' … 'n−1' (class indices). */
export function withLabels(c: YolosConfig, id2label: Record<string, string>, where: string): YolosConfig {
  if (!id2label || typeof id2label !== 'object' || Array.isArray(id2label))
    throw new Error(`${where}: id2label must be an object { "0": name, … }, got ${Array.isArray(id2label) ? 'an array' : typeof id2label}`);
  const keys = Object.keys(id2label);
  if (!keys.length) throw new Error(`${where}: id2label is empty; expected at least one label`);
  for (let i = 0; i < keys.length; i++) {
    if (!(String(i) in id2label))
      throw new Error(
        `${where}: id2label keys must be the class indices 0…${keys.length - 1}; '${i}' is missing (keys: ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', …' : ''})`,
      );
    if (typeof id2label[String(i)] !== 'string')
      throw new Error(`${where}: id2label['${i}'] must be a string, got ${JSON.stringify(id2label[String(i)])}`);
  }
  return { ...c, num_labels: keys.length, id2label: Object.fromEntries(keys.map((_, i) => [String(i), id2label[String(i)]])) };
}

/** Hugging Face's default names for `n` labels. */
export const numberedLabels = (n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [String(i), `LABEL_${i}`]));

/**
 * The re-initialised class output layer for `target` (by key) and the line that says so, or null when
 * the label count is unchanged.
 */
export function reinitClassOutput(
  stored: YolosConfig,
  target: YolosConfig,
  seed: number,
  where: string,
): { tensors: Map<string, Tensor>; report: string } | null {
  if (stored.num_labels === target.num_labels) return null;
  const shapes = parameterShapes(target),
    before = new Map(parameterShapes(stored));
  const tensors = new Map(CLASS_OUTPUT_KEYS.map((k) => [k, initHeadTensor(target, shapes, k, seed)] as [string, Tensor]));
  const changed = CLASS_OUTPUT_KEYS.map((k) => `${k} [${before.get(k)}] → [${tensors.get(k)!.shape}]`).join(', ');
  return {
    tensors,
    report: `${where}: num_labels ${stored.num_labels} → ${target.num_labels}: re-initialised ${changed} (PyTorch's default Linear init, seed ${seed}); every other tensor is loaded as stored`,
  };
}
