/**
 * Reverse-mode sweep: topological order from the output, each node's rule run inside a scope (its
 * intermediates freed), gradients summed per tensor, the graph freed afterwards unless retained.
 */
import { Tensor } from '../tensor.ts';
import { EngineError, ShapeError, fmtShape } from '../errors.ts';
import { scope, keep } from '../scope.ts';
import { freeNode, noGrad, setKeepAlive, type GradNode } from './node.ts';
import { add } from '../ops/elementwise.ts';
import { full } from '../ops/creation.ts';

setKeepAlive((t) => keep(t.view(t.shape)));

export interface BackwardOptions {
  /** Keep the graph (and its saved tensors) for another backward. */
  retainGraph?: boolean;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const node = t.gradNode;
    if (node && i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

function checkNode(node: GradNode, t: Tensor): void {
  if (node.freed) {
    throw new EngineError(
      `backward: the graph through '${node.op}' (output ${fmtShape(t.shape)}) was already freed by an earlier backward; pass { retainGraph: true } to the first call to backpropagate twice`,
    );
  }
  node.savedFrom.forEach((s, i) => {
    if (s.version !== node.savedVersions[i]) {
      throw new EngineError(
        `backward: a tensor ${fmtShape(s.shape)} saved by '${node.op}' was modified in place after it was used (version ${node.savedVersions[i]} → ${s.version})`,
      );
    }
  });
}

/**
 * Backpropagates from `root` and returns the gradient of every leaf (tensor that requires grad
 * and has no node) reached. Gradients are fresh tensors outside any scope.
 */
export function gradients(root: Tensor, seed?: Tensor, opts: BackwardOptions = {}): Map<Tensor, Tensor> {
  root.storageFor('backward');
  if (!root.requiresGrad)
    throw new EngineError(`backward: tensor ${fmtShape(root.shape)} has no graph (nothing it depends on requires a gradient)`);
  if (!seed && root.size !== 1)
    throw new ShapeError(
      `backward: the output has shape ${fmtShape(root.shape)}; backward without a seed gradient needs a single element (pass seed = gradient of the output)`,
    );
  if (seed && (seed.shape.length !== root.shape.length || seed.shape.some((d, i) => d !== root.shape[i]))) {
    throw new ShapeError(`backward: seed gradient ${fmtShape(seed.shape)} does not match the output ${fmtShape(root.shape)}`);
  }
  return noGrad(() => {
    const order = topoOrder(root);
    for (const t of order) if (t.gradNode) checkNode(t.gradNode, t);
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, keep(seed ? seed.view(seed.shape) : full(root.shape, 1)));
    const leaves = new Map<Tensor, Tensor>();
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.gradNode;
      if (!node) {
        leaves.set(t, g);
        continue;
      }
      const inGrads = scope(() => node.backward(g, node.saved));
      g.dispose();
      node.inputs.forEach((input, i) => {
        const gi = inGrads[i];
        if (!gi) return;
        if (!input.requiresGrad) {
          gi.dispose();
          return;
        }
        if (gi.shape.length !== input.shape.length || gi.shape.some((d, k) => d !== input.shape[k])) {
          throw new EngineError(
            `backward: '${node.op}' produced a gradient ${fmtShape(gi.shape)} for an input ${fmtShape(input.shape)} (a bug in its rule)`,
          );
        }
        const prev = grads.get(input);
        if (prev) {
          grads.set(input, keep(add(prev, gi)));
          prev.dispose();
          gi.dispose();
        } else grads.set(input, keep(gi));
      });
      // Rules may return the same tensor for two inputs; those handles were kept above.
      if (!opts.retainGraph) freeNode(node);
    }
    return leaves;
  });
}

/** `t.backward()`: gradients accumulate into the leaves' `.grad`, as in PyTorch. */
export function backward(root: Tensor, seed?: Tensor, opts: BackwardOptions = {}): void {
  const leaves = gradients(root, seed, opts);
  noGrad(() => {
    for (const [leaf, g] of leaves) {
      if (leaf.grad && !leaf.grad.disposed) {
        const sum = keep(add(leaf.grad, g));
        leaf.grad.dispose();
        g.dispose();
        leaf.grad = sum;
      } else leaf.grad = g;
    }
  });
}

/**
 * `valueAndGrad(f)(...xs)` → { value, grads }: f's scalar output and its gradient with respect to
 * each tensor argument. The arguments' `.grad` is untouched.
 * @example const { value, grads: [dw] } = valueAndGrad((w) => w.square().sum())(w);
 */
export function valueAndGrad<A extends Tensor[]>(f: (...args: A) => Tensor) {
  return (...args: A): { value: Tensor; grads: Tensor[] } => {
    const inputs = args.map((a) => {
      const v = a.view(a.shape);
      v.requiresGrad = true;
      return v;
    }) as A;
    try {
      const value = f(...inputs);
      if (!(value instanceof Tensor)) throw new EngineError('valueAndGrad: f must return a Tensor');
      if (!value.requiresGrad) {
        return { value, grads: inputs.map((i) => keep(full(i.shape, 0))) };
      }
      const leaves = gradients(value);
      const grads = inputs.map((i) => leaves.get(i) ?? keep(full(i.shape, 0)));
      for (const [leaf, g] of leaves) if (!inputs.includes(leaf)) g.dispose();
      const detached = value.detach();
      value.dispose();
      return { value: detached, grads };
    } finally {
      for (const i of inputs) i.dispose();
    }
  };
}

/** `grad(f)(...xs)` → the gradients of f's scalar output with respect to each argument. */
export function grad<A extends Tensor[]>(f: (...args: A) => Tensor) {
  const vg = valueAndGrad(f);
  return (...args: A): Tensor[] => {
    const { value, grads } = vg(...args);
    value.dispose();
    return grads;
  };
}
