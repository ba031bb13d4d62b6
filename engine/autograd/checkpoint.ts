/**
 * Gradient checkpointing: `checkpoint(fn, inputs)` keeps only fn's inputs for backward and recomputes
 * fn's forward when backward reaches it, so a stack of checkpointed blocks holds one block's
 * activations at a time instead of all of them.
 *
 * Forward: fn runs on detached copies of the inputs with recording on (so it picks the same kernels as
 * an ordinary forward and its values are bit-identical), inside a scope; its tape is walked once to
 * find the tensors it captured by closure (parameters), then freed with its intermediates. One node
 * remains, over inputs ‖ captured. Backward: fn runs again on fresh detached inputs, the incoming
 * gradient is backpropagated through that sub-graph, and the gradients of the inputs and the captured
 * tensors are returned to the outer sweep, which accumulates them as for any other node (so `.grad`,
 * `gradients()` and `valueAndGrad` see them).
 *
 * fn must be deterministic: the same inputs and parameters must give the same graph and values.
 * Random ops inside it need an explicit `seed` (the global generator advances between the two runs).
 */
import type { Tensor } from '../tensor.ts';
import { EngineError, ShapeError, fmtShape } from '../errors.ts';
import { scope } from '../scope.ts';
import { enableGrad, freeNode, isGradEnabled, record, type GradNode } from './node.ts';
import { gradients } from './backward.ts';

/** What fn's tape reaches: its nodes and the tensors it uses from outside (other than its inputs). */
interface Tape {
  nodes: GradNode[];
  captured: Tensor[];
}

/**
 * Walks fn's graph from `out` down to its inputs. Tensors older than `firstId` come from outside:
 * leaves (parameters) are captured; an outside tensor with a graph cannot be (recomputing would
 * backpropagate into the outer graph twice), nor can a leaf made inside fn (nothing would keep it).
 */
function walkTape(out: Tensor, inputs: Tensor[], firstId: number): Tape {
  const nodes: GradNode[] = [],
    captured: Tensor[] = [];
  const seen = new Set<Tensor>(inputs);
  const stack = seen.has(out) ? [] : [out];
  seen.add(out);
  const fail = (message: string) => {
    for (const n of nodes) freeNode(n);
    return new EngineError(message);
  };
  while (stack.length) {
    const t = stack.pop()!;
    if (t.id < firstId) {
      if (t.gradNode)
        throw fail(
          `checkpoint: fn uses tensor #${t.id} ${fmtShape(t.shape)}, computed outside it with a graph ('${t.gradNode.op}'), by closure; pass it in \`inputs\``,
        );
      captured.push(t);
      continue;
    }
    if (!t.gradNode)
      throw fail(
        `checkpoint: fn made tensor #${t.id} ${fmtShape(t.shape)} with requiresGrad but no graph (a new leaf); create parameters outside the checkpointed function`,
      );
    nodes.push(t.gradNode);
    for (const i of t.gradNode.inputs)
      if (i.requiresGrad && !seen.has(i)) {
        seen.add(i);
        stack.push(i);
      }
  }
  return { nodes, captured };
}

/** fn over detached handles on `sources` (requiresGrad as `needs`), with its tape. Call inside a scope. */
function runDetached(fn: (...xs: Tensor[]) => Tensor, sources: Tensor[], needs: boolean[]): { xs: Tensor[]; out: Tensor; tape: Tape } {
  const xs = sources.map((t, i) => {
    const v = t.detach();
    v.requiresGrad = needs[i];
    return v;
  });
  const firstId = xs[xs.length - 1].id + 1; // ids increase: fn's tensors are newer than its inputs
  const out = enableGrad(() => fn(...xs));
  if (!out || (out as { __isTensor?: boolean }).__isTensor !== true) throw new EngineError('checkpoint: fn must return a Tensor');
  return { xs, out, tape: out.requiresGrad ? walkTape(out, xs, firstId) : { nodes: [], captured: [] } };
}

/**
 * fn(...inputs), with fn's intermediates freed now and recomputed in backward. Gradients are identical
 * to calling fn directly (the same kernels run on the same values). Without recording (noGrad) it is
 * a plain call.
 * @example x = checkpoint((x) => block(x), [x]); // block's parameters, used by closure, get their .grad
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor {
  if (inputs.length === 0) throw new EngineError('checkpoint: needs at least one input tensor (what the function is recomputed from)');
  if (!isGradEnabled()) return fn(...inputs);
  for (const t of inputs) t.storageFor('checkpoint');
  const needs = inputs.map((t) => t.requiresGrad);
  const { y, captured } = scope(() => {
    const run = runDetached(fn, inputs, needs);
    for (const n of run.tape.nodes) freeNode(n);
    // y: a handle on the output's storage without fn's graph; captured tensors are outside the scope
    return { y: run.out.detach(), captured: run.tape.captured };
  });
  const shape = [...y.shape];
  return record(
    'checkpoint',
    [...inputs, ...captured],
    y,
    (gradOut, saved) => {
      // The rule runs in the outer sweep's scope: the recomputed intermediates are freed when it returns.
      const run = runDetached(fn, saved, needs);
      try {
        if (run.out.shape.length !== shape.length || run.out.shape.some((d, k) => d !== shape[k])) {
          throw new ShapeError(
            `checkpoint: the recomputed output is ${fmtShape(run.out.shape)}, the forward's was ${fmtShape(shape)} (fn must be deterministic)`,
          );
        }
        const known = new Set([...run.xs, ...captured]);
        const stray = run.tape.captured.find((t) => !known.has(t));
        if (stray)
          throw new EngineError(
            `checkpoint: the recompute used tensor #${stray.id} ${fmtShape(stray.shape)}, which the forward did not (fn must be deterministic)`,
          );
        if (!run.out.requiresGrad) return [];
        const leaves = gradients(run.out, gradOut);
        return [...run.xs, ...captured].map((t) => leaves.get(t) ?? null);
      } finally {
        for (const n of run.tape.nodes) freeNode(n); // nodes no gradient reached still hold saved tensors
      }
    },
    inputs,
  );
}
