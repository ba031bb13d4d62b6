/**
 * Module: a tree of named parameters, like torch.nn.Module.
 *
 * Parameters and submodules are found in two places, in this order:
 *  1. those registered with `registerParameter(name, t)` / `registerModule(name, m)` (registration order);
 *  2. the module's own fields (declaration order): a field holding a parameter tensor, a Module, or
 *     an array of them (named `field.0`, `field.1`, …).
 * A parameter is a tensor made by `parameter()` (or any leaf tensor with requiresGrad). As in
 * PyTorch, a module's own parameters come before its children's, so `namedParameters()` of
 * `MLP([2, 4, 1])` is `layers.0.weight, layers.0.bias, layers.1.weight, layers.1.bias`. A tensor
 * shared by two modules is listed once, under its first name.
 *
 * Parameters live outside every scope (`keep`); `dispose()` frees them.
 */
import { Tensor } from '../tensor.ts';
import { keep } from '../scope.ts';
import { rt } from '../runtime.ts';
import { DTypeError, EngineError, fmtShape } from '../errors.ts';

const PARAMETERS = new WeakSet<Tensor>();

/**
 * Makes `t` a parameter: f32, requiresGrad, exempt from the enclosing scopes. Returns it.
 * @example this.scale = parameter(ones([d]));
 */
export function parameter(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new DTypeError(`parameter: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
  if (t.dtype !== 'f32') throw new DTypeError(`parameter: parameters must be f32, got ${t.dtype}${fmtShape(t.shape)}`);
  t.storageFor('parameter');
  keep(t);
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return t;
}

/** Whether `v` counts as a parameter of a module that holds it. */
export function isParameter(v: unknown): v is Tensor {
  return v instanceof Tensor && (PARAMETERS.has(v) || (v.requiresGrad && v.gradNode === null));
}

export type StateDict = Map<string, Tensor> | Record<string, Tensor>;

export interface LoadResult {
  /** Parameters of the module absent from the dict (only when strict = false). */
  missing: string[];
  /** Entries of the dict that name no parameter (only when strict = false). */
  unexpected: string[];
}

type Entry = [string, Tensor | Module];

export class Module {
  /** Training mode (dropout active) or evaluation mode; set recursively by train()/eval(). */
  training = true;
  #registered = new Map<string, Tensor | Module>();

  /** Adds a parameter under `name` (made a parameter if it is not one yet). */
  registerParameter(name: string, t: Tensor): Tensor {
    checkName(name, this.#registered);
    this.#registered.set(name, parameter(t));
    return t;
  }

  /** Adds a submodule under `name`. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(name, this.#registered);
    if (!(m instanceof Module)) throw new EngineError(`registerModule: '${name}' is not a Module`);
    this.#registered.set(name, m);
    return m;
  }

  /** The direct parameters and submodules: registered ones, then fields, in order. */
  #entries(): Entry[] {
    const out: Entry[] = [...this.#registered];
    const self = this as unknown as Record<string, unknown>;
    for (const key of Object.keys(self)) {
      const v = self[key];
      if (v instanceof Module || isParameter(v)) out.push([key, v]);
      else if (Array.isArray(v)) {
        v.forEach((x, i) => {
          if (x instanceof Module || isParameter(x)) out.push([`${key}.${i}`, x]);
        });
      }
    }
    return out;
  }

  /** This module ('') and every submodule, pre-order, each once. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, v] of this.#entries()) {
      if (v instanceof Module) out.push(...v.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    }
    return out;
  }

  /** [dotted name, parameter] for the whole tree: own parameters first, then each child's, recursively. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, v] of m.#entries()) {
        if (v instanceof Module || seen.has(v)) continue;
        seen.add(v);
        out.push([prefix ? `${prefix}.${name}` : name, v]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * name → parameter, in namedParameters() order. The values are the parameters themselves (not
   * copies, as in PyTorch): do not dispose them; `clone()` one to snapshot it.
   */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies the values of `dict` into the parameters' existing storage (so optimizers holding them
   * stay valid). Everything is checked before anything is copied; one Error lists every problem:
   * keys missing from the dict and keys the model does not have (both only when `strict`), and
   * every shape or dtype mismatch (always, as in PyTorch).
   * @example model.loadStateDict(other.stateDict());
   */
  loadStateDict(dict: StateDict, { strict = true }: { strict?: boolean } = {}): LoadResult {
    const entries: [string, unknown][] = dict instanceof Map ? [...dict] : Object.entries(dict);
    const given = new Map(entries);
    const own = this.namedParameters();
    const ownNames = new Set(own.map(([n]) => n));
    const missing = own.filter(([n]) => !given.has(n)).map(([n]) => n);
    const unexpected = entries.map(([n]) => n).filter((n) => !ownNames.has(n));
    const mismatched: string[] = [];
    const copies: [Tensor, Tensor][] = [];
    for (const [name, p] of own) {
      if (!given.has(name)) continue;
      const v = given.get(name);
      if (!(v instanceof Tensor)) {
        mismatched.push(`${name}: expected a Tensor, got ${v === null ? 'null' : typeof v}`);
        continue;
      }
      if (v.disposed) {
        mismatched.push(`${name}: the tensor was disposed`);
        continue;
      }
      if (v.dtype !== p.dtype) {
        mismatched.push(`${name}: dtype ${v.dtype} in the dict, ${p.dtype} in the model`);
        continue;
      }
      if (v.shape.length !== p.shape.length || v.shape.some((d, i) => d !== p.shape[i])) {
        mismatched.push(`${name}: shape ${fmtShape(v.shape)} in the dict, ${fmtShape(p.shape)} in the model`);
        continue;
      }
      copies.push([v, p]);
    }
    const problems: string[] = [];
    if (strict && missing.length) problems.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
    if (strict && unexpected.length) problems.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    if (mismatched.length) problems.push(`mismatched (${mismatched.length}):\n    ${mismatched.join('\n    ')}`);
    if (problems.length)
      throw new EngineError(
        `loadStateDict: ${problems.length} kind${problems.length > 1 ? 's' : ''} of problem, nothing was loaded:\n  ${problems.join('\n  ')}`,
      );
    for (const [src, dst] of copies) copyInto(dst, src);
    return { missing, unexpected };
  }

  /** Sets training mode on this module and every submodule. Returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (dropout off). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees the parameters (and their gradients). */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

function checkName(name: string, registered: Map<string, unknown>): void {
  if (!name || name.includes('.')) throw new EngineError(`Module: invalid name '${name}' (non-empty, no dots)`);
  if (registered.has(name)) throw new EngineError(`Module: '${name}' is already registered`);
}

/**
 * dst's storage ← src's values, on the GPU, in the open command stream; bumps dst.version so a
 * graph that saved dst's old values refuses to backpropagate. Shapes and dtypes must match.
 */
export function copyInto(dst: Tensor, src: Tensor): void {
  const s = src.storageFor('copyInto'),
    d = dst.storageFor('copyInto');
  if (s !== d && dst.size > 0) rt().copyBuffer(s.pb, 0, d.pb, 0, dst.size * 4);
  dst.version++;
}
