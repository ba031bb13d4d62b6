/**
 * What AdamW and SGD share: parameter groups with their own hyper-parameters, per-parameter state
 * (a step count and GPU buffers kept outside every scope), zeroGrad, and state dicts.
 */
import { Tensor } from '../tensor.ts';
import { keep } from '../scope.ts';
import { DTypeError, EngineError, ShapeError, fmtShape } from '../errors.ts';
import { noGrad } from '../autograd/node.ts';
import { clone } from '../ops/movement.ts';
import { zeros } from '../ops/creation.ts';

/** A group of parameters; unset hyper-parameters take the optimizer's defaults. */
export type ParamGroupSpec<H> = Partial<H> & { params: Tensor[] };
export type ParamGroup<H> = H & { params: Tensor[] };

export interface ParamState {
  /** Updates applied to this parameter so far. */
  step: number;
  /** Optimizer buffers of the parameter's shape (AdamW: m, v; SGD: momentum). */
  buffers: Record<string, Tensor>;
}

/**
 * A snapshot of an optimizer: state by parameter index (over all groups, in order) and each group's
 * hyper-parameters with the indices of its parameters. The tensors are the optimizer's own buffers
 * (not copies): loadStateDict copies them.
 */
export interface OptimizerStateDict<H> {
  state: Record<number, ParamState>;
  paramGroups: (H & { params: number[] })[];
}

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(
    readonly name: string,
    params: Tensor[] | ParamGroupSpec<H>[],
    defaults: H,
  ) {
    if (!Array.isArray(params) || params.length === 0)
      throw new EngineError(`${name}: expected a non-empty list of parameters or parameter groups`);
    const specs: ParamGroupSpec<H>[] =
      params[0] instanceof Tensor ? [{ params: params as Tensor[] } as ParamGroupSpec<H>] : (params as ParamGroupSpec<H>[]);
    const seen = new Set<Tensor>();
    this.paramGroups = specs.map((spec, gi) => {
      if (!spec || !Array.isArray(spec.params)) throw new EngineError(`${name}: group ${gi} has no params array`);
      const group = { ...defaults } as ParamGroup<H>;
      for (const k of Object.keys(spec) as (keyof ParamGroupSpec<H>)[])
        if (k !== 'params' && spec[k] !== undefined) (group as Record<string, unknown>)[k as string] = spec[k];
      group.params = [...spec.params];
      group.params.forEach((p, i) => {
        if (!(p instanceof Tensor)) throw new DTypeError(`${name}: group ${gi} param ${i} is not a Tensor`);
        p.storageFor(name);
        if (p.dtype !== 'f32')
          throw new DTypeError(`${name}: parameters must be f32, got ${p.dtype}${fmtShape(p.shape)} (group ${gi} param ${i})`);
        if (seen.has(p))
          throw new EngineError(
            `${name}: a parameter ${fmtShape(p.shape)} appears twice (group ${gi} param ${i}); give each parameter one group`,
          );
        seen.add(p);
      });
      this.validate(group, gi);
      return group;
    });
  }

  /** Throws if a group's hyper-parameters are out of range. */
  protected abstract validate(group: H, index: number): void;

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** All parameters, group by group. */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Sets the learning rate of every group (e.g. from a schedule, before step()). */
  setLr(lr: number): void {
    for (const g of this.paramGroups) g.lr = lr;
  }

  /** Frees every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The parameter's gradient, checked; null when it has none (the parameter is skipped). */
  protected gradOf(p: Tensor): Tensor | null {
    const g = p.grad;
    if (!g || g.disposed) return null;
    if (g.dtype !== 'f32' || g.shape.length !== p.shape.length || g.shape.some((d, i) => d !== p.shape[i])) {
      throw new ShapeError(
        `${this.name}.step: gradient ${g.dtype}${fmtShape(g.shape)} does not match its parameter f32${fmtShape(p.shape)}`,
      );
    }
    return g;
  }

  /** The parameter's state, created with zero buffers named `names` on first use. */
  protected stateOf(p: Tensor, names: string[]): ParamState {
    let s = this.state.get(p);
    if (!s) {
      const buffers: Record<string, Tensor> = {};
      for (const n of names) buffers[n] = keep(zeros(p.shape));
      s = { step: 0, buffers };
      this.state.set(p, s);
    }
    return s;
  }

  stateDict(): OptimizerStateDict<H> {
    const state: Record<number, ParamState> = {};
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      const ids = params.map((p) => {
        const s = this.state.get(p);
        if (s) state[index] = { step: s.step, buffers: { ...s.buffers } };
        return index++;
      });
      return { ...(hyper as unknown as H), params: ids };
    });
    return { state, paramGroups };
  }

  /**
   * Restores hyper-parameters and state from `sd` (from an optimizer over parameters of the same
   * shapes, in the same groups). Buffers are copied, so `sd` may be disposed afterwards.
   */
  loadStateDict(sd: OptimizerStateDict<H>): void {
    const groups = sd.paramGroups;
    if (!groups || groups.length !== this.paramGroups.length) {
      throw new EngineError(
        `${this.name}.loadStateDict: ${groups?.length ?? 0} groups in the dict, ${this.paramGroups.length} in the optimizer`,
      );
    }
    const params = this.params();
    const problems: string[] = [];
    groups.forEach((g, gi) => {
      if (g.params.length !== this.paramGroups[gi].params.length)
        problems.push(`group ${gi}: ${g.params.length} params in the dict, ${this.paramGroups[gi].params.length} in the optimizer`);
    });
    for (const [k, s] of Object.entries(sd.state)) {
      const p = params[Number(k)];
      if (!p) {
        problems.push(`state ${k}: no such parameter`);
        continue;
      }
      for (const [n, t] of Object.entries(s.buffers)) {
        if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))
          problems.push(`state ${k}.${n}: shape ${fmtShape(t.shape)}, parameter ${fmtShape(p.shape)}`);
      }
    }
    if (problems.length)
      throw new EngineError(`${this.name}.loadStateDict: the dict does not fit this optimizer:\n  ${problems.join('\n  ')}`);
    groups.forEach((g, gi) => {
      const { params: _ids, ...hyper } = g;
      Object.assign(this.paramGroups[gi], hyper);
    });
    const fresh = new Map<Tensor, ParamState>();
    for (const [k, s] of Object.entries(sd.state)) {
      const buffers: Record<string, Tensor> = {};
      for (const [n, t] of Object.entries(s.buffers)) buffers[n] = keep(noGrad(() => clone(t)));
      fresh.set(params[Number(k)], { step: s.step, buffers });
    }
    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s);
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's buffers (not the parameters). */
  dispose(): void {
    this.disposeState();
  }
}
