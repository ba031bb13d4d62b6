/**
 * The tape. An op whose inputs need gradients calls `record()`, which attaches a GradNode to its
 * output: the inputs, the tensors saved for backward (as extra handles on their storage, so user code
 * may dispose its own handles) and the op's backward rule, defined next to the op itself.
 */
import type { Tensor } from '../tensor.ts';
import { EngineError } from '../errors.ts';

export type BackwardRule = (gradOut: Tensor, saved: Tensor[]) => (Tensor | null)[];

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Which inputs need a gradient (others get none computed, when the rule checks `needs`). */
  needs: boolean[];
  saved: Tensor[];
  savedVersions: number[];
  savedFrom: Tensor[];
  backward: BackwardRule;
  freed: boolean;
}

let gradEnabled = true;
/** Handles saved for backward and not yet freed (a test checks none are made under noGrad). */
let savedLive = 0;

export function savedTensorCount(): number {
  return savedLive;
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` with gradient recording on or off, restoring the previous state after. */
function withGrad<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` without recording gradients. */
export function noGrad<T>(fn: () => T): T {
  return withGrad(false, fn);
}

/** Runs `fn` recording gradients even inside noGrad (checkpoint's recompute, which runs during backward). */
export function enableGrad<T>(fn: () => T): T {
  return withGrad(true, fn);
}

/** Whether an op over these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | number | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && typeof t === 'object' && t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a node to `out` when any input requires a gradient. `saved` tensors are kept alive (new
 * handles on the same storage) until backward frees the graph.
 */
export function record(op: string, inputs: Tensor[], out: Tensor, backward: BackwardRule, saved: Tensor[] = []): Tensor {
  if (!needsGrad(...inputs)) return out;
  savedLive += saved.length;
  out.requiresGrad = true;
  out.gradNode = {
    op,
    inputs,
    needs: inputs.map((t) => t.requiresGrad),
    saved: saved.map((t) => keepAlive(t)),
    savedVersions: saved.map((t) => t.version),
    savedFrom: saved,
    backward,
    freed: false,
  };
  return out;
}

// Saved handles live outside every scope (scope.keep would be circular to import here).
let keepAliveImpl: (t: Tensor) => Tensor = () => {
  throw new EngineError('autograd not initialised');
};
export function setKeepAlive(fn: (t: Tensor) => Tensor): void {
  keepAliveImpl = fn;
}
function keepAlive(t: Tensor): Tensor {
  return keepAliveImpl(t);
}

export function freeNode(node: GradNode): void {
  if (node.freed) return;
  node.freed = true;
  savedLive -= node.saved.length;
  for (const t of node.saved) t.dispose();
  node.saved = [];
}
