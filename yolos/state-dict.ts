/**
 * Named weights against YOLOS's f32 parameters: which stored dtypes load (only those whose every
 * value is an f32: F32, F16, BF16, F8; integers and F64 are refused, never rounded), and one check of
 * names and shapes that reports missing keys, unexpected keys and mismatches, the first few of each.
 */
import { Tensor, ShapeError, cast, noGrad, tensor, nn } from '../engine/index.ts';
import type { SafeTensor } from './safetensors.ts';
import { showKey } from './safetensors-header.ts';

/** A weight given by name: a tensor on the device, or one read from a file (readSafetensors). */
export type WeightValue = Tensor | SafeTensor;

/** Stored dtypes whose values are all exactly f32 values (readSafetensors widens them to Float32Array). */
const EXACT_FILE_DTYPES = new Set(['F32', 'F16', 'BF16', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0']);
const EXACT_TENSOR_DTYPES = new Set(['f32', 'f16']);

export interface WeightsCheck {
  /** Expected keys absent from the weights (an error when strict). */
  missing: string[];
  /** Keys of the weights that name no parameter (an error when strict). */
  unexpected: string[];
}

const SHOWN_PER_KIND = 3;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Why `v` cannot fill an f32 parameter of `shape`, or null when it can. */
function mismatch(key: string, v: unknown, shape: readonly number[], source: string): string | null {
  const k = `key ${showKey(key)}`;
  if (v instanceof Tensor) {
    if (v.disposed) return `${k}: the tensor was disposed`;
    if (!EXACT_TENSOR_DTYPES.has(v.dtype)) return `${k}: dtype ${v.dtype}, expected f32 (or f16, which converts exactly)`;
    if (!sameShape(v.shape, shape)) return `${k}: ${source} has shape [${v.shape}], the config expects [${shape}]`;
    return null;
  }
  const t = v as Partial<SafeTensor> | null;
  if (!t || typeof t !== 'object' || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !ArrayBuffer.isView(t.data)) {
    return `${k}: expected a Tensor or a { dtype, shape, data } from readSafetensors, got ${v === null ? 'null' : typeof v}`;
  }
  if (!EXACT_FILE_DTYPES.has(t.dtype))
    return `${k}: dtype ${t.dtype} cannot be loaded into an f32 parameter exactly; expected F32 (or F16, BF16, F8, which convert exactly)`;
  if (!sameShape(t.shape, shape)) return `${k}: ${source} has shape [${t.shape}], the config expects [${shape}]`;
  if (!(t.data instanceof Float32Array) || t.data.length !== t.shape.reduce((a, b) => a * b, 1))
    return `${k}: expected ${t.shape.reduce((a, b) => a * b, 1)} values in a Float32Array, got ${t.data.length} in a ${t.data.constructor.name}`;
  return null;
}

/**
 * Checks `given` against the `expected` [name, shape] list; throws one ShapeError listing the problems
 * (`title` first: who loads, from which file, into what) unless there are none. Mismatched dtypes and
 * shapes are always problems; missing and unexpected keys unless allowed.
 */
export function checkWeights(
  expected: readonly (readonly [string, readonly number[]])[],
  given: ReadonlyMap<string, unknown>,
  opts: { allowMissing: boolean; allowUnexpected: boolean; title: string; source: string },
): WeightsCheck {
  const known = new Set(expected.map(([n]) => n));
  const missing = expected.filter(([n]) => !given.has(n)).map(([n]) => n);
  const unexpected = [...given.keys()].filter((n) => !known.has(n));
  const wrong: string[] = [];
  for (const [name, shape] of expected) {
    if (!given.has(name)) continue;
    const why = mismatch(name, given.get(name), shape, opts.source);
    if (why) wrong.push(why);
  }
  const shapeOf = new Map(expected);
  const kinds: [string, string[]][] = [
    ['missing', opts.allowMissing ? [] : missing.map((n) => `missing key ${showKey(n)} (expected shape [${shapeOf.get(n)}])`)],
    ['mismatched', wrong],
    ['unexpected', opts.allowUnexpected ? [] : unexpected.map((n) => `unexpected key ${showKey(n)}${describeShape(given.get(n))}`)],
  ];
  const total = kinds.reduce((s, [, l]) => s + l.length, 0);
  if (!total) return { missing, unexpected };
  const lines: string[] = [];
  for (const [kind, list] of kinds) {
    lines.push(...list.slice(0, SHOWN_PER_KIND));
    if (list.length > SHOWN_PER_KIND) lines.push(`… and ${(list.length - SHOWN_PER_KIND).toLocaleString('en-US')} more ${kind}`);
  }
  const counts = kinds
    .filter(([, l]) => l.length)
    .map(([kind, l]) => `${l.length} ${kind}`)
    .join(', ');
  throw new ShapeError(`${opts.title} (${counts}; nothing was loaded):\n  ${lines.join('\n  ')}`);
}

function describeShape(v: unknown): string {
  const shape = (v as { shape?: unknown } | undefined)?.shape;
  return Array.isArray(shape) ? ` [${shape}]` : '';
}

/** A new f32 device tensor holding a checked weight's values. */
export function toF32Tensor(v: WeightValue, shape: readonly number[]): Tensor {
  if (v instanceof Tensor) return noGrad(() => (v.dtype === 'f32' ? v.view([...shape]) : cast(v, 'f32')));
  return tensor(v.data as Float32Array, [...shape]);
}

/** dst ← a checked weight's values, in place (optimizers holding dst stay valid). */
export function copyWeightInto(dst: Tensor, v: WeightValue): void {
  const src = toF32Tensor(v, dst.shape);
  nn.copyInto(dst, src);
  if (src !== v) src.dispose();
}

/** The tensors whose names start with `prefix`, under their names without it (a checkpoint's `model/` part). */
export function withoutPrefix<V>(tensors: ReadonlyMap<string, V>, prefix: string): Map<string, V> {
  const out = new Map<string, V>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}
