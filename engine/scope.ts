/**
 * Tensor lifetimes: `scope(fn)` frees every tensor made inside `fn` except those it returns (found
 * in arrays, plain objects and Maps of the result) — like tf.tidy. `keep(t)` exempts a tensor.
 */
import type { Tensor } from './tensor.ts';
import { EngineError } from './errors.ts';

const stack: Set<Tensor>[] = [];

export function track(t: Tensor): void {
  if (stack.length) stack[stack.length - 1].add(t);
}

export function untrack(t: Tensor): void {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i].delete(t)) return;
}

/** Exempts `t` from the enclosing scopes' clean-up; returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ((value as { __isTensor?: boolean }).__isTensor) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen);
    return;
  }
  if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

/**
 * Runs `fn` and disposes the tensors it created, except those in its result.
 * @example const y = scope(() => x.mul(2).add(1)); // the x·2 intermediate is freed
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  stack.pop();
  if (result instanceof Promise) {
    for (const t of mine) t.dispose();
    throw new EngineError('scope: the function returned a Promise; scope() is synchronous (await outside it)');
  }
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of mine) if (!kept.has(t)) t.dispose();
  for (const t of kept) if (mine.has(t)) track(t);
  return result;
}

export function scopeDepth(): number {
  return stack.length;
}
