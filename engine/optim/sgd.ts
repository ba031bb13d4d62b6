/**
 * SGD with momentum, PyTorch's torch.optim.SGD semantics (weight decay added to the gradient,
 * momentum buffer initialised to the first gradient, dampening, Nesterov), one fused kernel per
 * parameter (kernels/wgsl/sgd.wgsl.ts).
 * @example const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 */
import { Tensor } from '../tensor.ts';
import { keep } from '../scope.ts';
import { EngineError } from '../errors.ts';
import { rt } from '../runtime.ts';
import { Params } from '../params.ts';
import { grid1d } from '../kernels/wgsl/common.ts';
import { sgdKernel } from '../kernels/wgsl/sgd.wgsl.ts';
import { buf } from '../ops/run.ts';
import { Optimizer, type ParamGroupSpec } from './optimizer.ts';

export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDHyper> {
  /** @param opts defaults: lr 1e-3, momentum 0, dampening 0, weightDecay 0, nesterov false (PyTorch's) */
  constructor(
    params: Tensor[] | ParamGroupSpec<SGDHyper>[],
    { lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false }: Partial<SGDHyper> = {},
  ) {
    super('SGD', params, { lr, momentum, dampening, weightDecay, nesterov });
  }

  protected validate(g: SGDHyper, i: number): void {
    const bad = (what: string) => {
      throw new EngineError(`SGD: group ${i}: invalid ${what}`);
    };
    if (!(g.lr >= 0)) bad(`lr ${g.lr} (must be ≥ 0)`);
    if (!(g.momentum >= 0)) bad(`momentum ${g.momentum} (must be ≥ 0)`);
    if (!(g.weightDecay >= 0)) bad(`weightDecay ${g.weightDecay} (must be ≥ 0)`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) bad('nesterov (needs momentum > 0 and dampening 0)');
  }

  step(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        const grad = this.gradOf(p);
        if (!grad) continue;
        const withMomentum = g.momentum !== 0;
        const s = this.stateOf(p, []);
        // As in PyTorch, the buffer starts as a copy of the first (decayed) gradient: the kernel writes it.
        let first = 0;
        if (withMomentum && !s.buffers.momentum) {
          s.buffers.momentum = keep(Tensor.empty(p.shape, 'f32', 'SGD momentum'));
          first = 1;
        }
        s.step++;
        if (p.size === 0) continue;
        const params = new Params()
          .u32(p.size, first, g.nesterov ? 1 : 0)
          .f32(g.lr, g.weightDecay, g.momentum, 1 - g.dampening)
          .bytes();
        const buffers = [buf('SGD', grad), buf('SGD', p)];
        if (withMomentum) buffers.push(buf('SGD', s.buffers.momentum));
        rt().dispatch(sgdKernel(withMomentum), params, buffers, grid1d(p.size));
        p.version++;
      }
    }
  }
}
