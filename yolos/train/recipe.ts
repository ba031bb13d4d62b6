/**
 * The training recipes, stated once (browser-safe): every caller — the trainer, the CLI, the Train
 * page, `npm run train:shapes`, the training bench — reads its numbers from here, and builds its
 * optimizer and criterion with `makeOptimizer` / `makeCriterion`.
 *
 * `scratchRecipe(config)` — from random init (`fanin`), the recipe of the committed nano-16 shapes
 * model: 12 000 steps of batch 16; AdamW lr 5e-4, betas (0.9, 0.999), eps 1e-8; linear warm-up over
 * 200 steps, then cosine to 0 at the last step, stepped every step.
 *
 * `finetuneRecipe(config, batch)` — from pre-trained weights, the paper's COCO fine-tuning recipe
 * [Y:README commands, main.py, util/scheduler.py]:
 *  - lr Ti 5e-5 at batch 16 (2 per GPU × 8), S/dWr/B 2.5e-5 at batch 8 (1 per GPU × 8), scaled
 *    linearly with the batch (both are 3.125e-6 per image); `--lr_backbone` is parsed there but
 *    unused, so every group gets this lr;
 *  - cosine stepped per epoch, no warm-up: epoch e runs at lr_min + ½(lr − lr_min)(1 + cos(π·t/E))
 *    with t = max(0, e − 1) (the scheduler steps after each epoch, so epochs 0 and 1 both run at
 *    the base lr), lr_min 1e-7, over E = 300 epochs for Ti and 150 for S/dWr/B;
 *  - multi-scale augmentation per model (data.ts `augmentFor`): Ti short side 256…608 step 16, long
 *    side ≤ 1013; S/B 480…800 step 16, ≤ 1333 (plus flips and the random-crop branch);
 *  - evaluation at the validation transform (`validationResize`).
 * "Ti" here means a model without mid-layer position embeddings (Ti and nano-16), "S/B" one with.
 *
 * Shared by both:
 *  - AdamW, weight decay 1e-4 in two groups (train/groups.ts): decayed — both heads (their biases
 *    too), the ViT weight matrices and the mid-layer position embeddings (4-D and not in the
 *    original's skip list); not decayed — ViT biases, LayerNorms, the [CLS]/[DET] tokens and the
 *    first-layer position embeddings. Frozen parameters (`--freeze-backbone`) are in no group.
 *  - global L2 gradient-norm clip at 0.1 before every update;
 *  - the set loss: ce 1, L1 box 5, GIoU 2, no-object weight 0.1 in the cross-entropy; the matcher's
 *    costs class 1, box 5, GIoU 2 (criterion.ts, matcher.ts);
 *  - plain f32, no dropout or drop-path.
 */
import { optim } from '../../engine/index.ts';

const { AdamW, warmupCosine, cosine } = optim;
type AdamW = optim.AdamW;
import { SetCriterion } from '../criterion.ts';
import { HungarianMatcher } from '../matcher.ts';
import { defaultResize } from '../detect.ts';
import type { YolosConfig } from '../config.ts';
import type { InitScheme } from '../init.ts';
import type { Yolos } from '../model.ts';
import { parameterGroups } from './groups.ts';

export interface Recipe {
  kind: 'scratch' | 'finetune';
  /** The schedule's length in steps; null: `epochs` × the steps of one epoch of the data. */
  steps: number | null;
  /** Epochs of the per-epoch schedule (fine-tuning); null for the per-step schedule. */
  epochs: number | null;
  batch: number;
  /** The peak learning rate. */
  lr: number;
  /** Linear warm-up steps (per-step schedule only). */
  warmup: number;
  /** The cosine's floor. */
  lrMin: number;
  /** 'step': warm-up then cosine over the steps; 'epoch': cosine stepped once per epoch. */
  schedule: 'step' | 'epoch';
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Max global gradient L2 norm. */
  clip: number;
  /** Weights of the set loss and of the matcher's costs. */
  loss: { ce: number; bbox: number; giou: number; eosCoef: number };
  matcher: { costClass: number; costBbox: number; costGiou: number };
  /** Initialisation of a fresh model; null when fine-tuning (the new tensors are the loader's). */
  init: InitScheme | null;
  /** The validation transform's resize (the original's: long side ≤ short·1333/800). */
  evalResize: { shortestEdge: number; longestEdge: number };
}

const SHARED = {
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 1e-4,
  clip: 0.1,
  loss: { ce: 1, bbox: 5, giou: 2, eosCoef: 0.1 },
  matcher: { costClass: 1, costBbox: 5, costGiou: 2 },
};

/**
 * The validation transform's resize: short side `size` when the run chose one (its largest training
 * scale), else the model config's (`defaultResize`: 64 for nano-16, 512 for Ti, 800 for S/B), as
 * `yolos eval` picks it, so a run's `--eval` and a later `yolos eval` score the same pixels; long side
 * ≤ short·1333/800 (the original's val transform: Ti 853).
 * @example validationResize(presets.nano16) // { shortestEdge: 64, longestEdge: 106 }
 */
export function validationResize(config: YolosConfig, size?: number): { shortestEdge: number; longestEdge: number } {
  const shortestEdge = size ?? defaultResize(config).shortestEdge;
  return { shortestEdge, longestEdge: Math.floor((shortestEdge * 1333) / 800) };
}

/** Ti-like (no mid-layer position embeddings: Ti, nano-16) or S/B-like, for the fine-tuning numbers. */
function isTiLike(config: YolosConfig): boolean {
  return !config.use_mid_position_embeddings;
}

/**
 * The from-scratch recipe (see the file comment).
 * @example scratchRecipe(presets.nano16).steps // 12000
 */
export function scratchRecipe(config: YolosConfig): Recipe & { steps: number; init: InitScheme } {
  return {
    kind: 'scratch',
    steps: 12000,
    epochs: null,
    batch: 16,
    lr: 5e-4,
    warmup: 200,
    lrMin: 0,
    schedule: 'step',
    ...SHARED,
    init: 'fanin',
    evalResize: validationResize(config),
  };
}

/**
 * The paper's fine-tuning recipe for `config` at `batch` images per step (default the paper's:
 * Ti 16, S/B 8), its lr scaled linearly from the paper's batch.
 * @example finetuneRecipe(presets.tiny, 2).lr // 6.25e-6 (5e-5 · 2/16)
 */
export function finetuneRecipe(config: YolosConfig, batch?: number): Recipe {
  const ti = isTiLike(config);
  const paper = ti ? { lr: 5e-5, batch: 16, epochs: 300 } : { lr: 2.5e-5, batch: 8, epochs: 150 };
  const b = batch ?? paper.batch;
  if (!(Number.isInteger(b) && b >= 1)) throw new Error(`finetuneRecipe: batch must be a positive integer, got ${b}`);
  return {
    kind: 'finetune',
    steps: null,
    epochs: paper.epochs,
    batch: b,
    lr: (paper.lr * b) / paper.batch,
    warmup: 0,
    lrMin: 1e-7,
    schedule: 'epoch',
    ...SHARED,
    init: null,
    evalResize: validationResize(config),
  };
}

/** The schedule's numbers, as a run resolved them (a recipe with the caller's overrides). */
export interface Schedule {
  schedule: Recipe['schedule'];
  lr: number;
  lrMin: number;
  warmup: number;
  /** The last step + 1. */
  total: number;
  /** Steps per epoch (the per-epoch schedule: ⌈total / stepsPerEpoch⌉ epochs). */
  stepsPerEpoch: number;
}

/**
 * The learning rate of 0-based `step`.
 * @example lrAt(0, { schedule: 'step', lr: 5e-4, lrMin: 0, warmup: 200, total: 12000, stepsPerEpoch: 1 }) // 0
 */
export function lrAt(step: number, s: Schedule): number {
  if (s.schedule === 'step') return warmupCosine(step, { warmup: Math.min(s.warmup, s.total), total: s.total, base: s.lr, min: s.lrMin });
  const epochs = Math.ceil(s.total / s.stepsPerEpoch);
  const epoch = Math.floor(step / s.stepsPerEpoch);
  return cosine(Math.max(0, epoch - 1), { total: epochs, base: s.lr, min: s.lrMin });
}

/**
 * Steps of one epoch over `images` training images (an endless stream, e.g. the shapes data, has
 * none: each step is its own epoch).
 */
export function stepsPerEpoch(images: number | undefined, batch: number): number {
  return images !== undefined && Number.isFinite(images) && images > 0 ? Math.ceil(images / batch) : 1;
}

/** AdamW over the model's trainable parameters in the recipe's two weight-decay groups. */
export function makeOptimizer(model: Yolos, r: Pick<Recipe, 'lr' | 'betas' | 'eps' | 'weightDecay'>): AdamW {
  return new AdamW(parameterGroups(model, r.weightDecay), { lr: r.lr, betas: r.betas, eps: r.eps });
}

/** The set loss (and its matcher) of the recipe, for `numClasses` object classes. */
export function makeCriterion(numClasses: number, r: Pick<Recipe, 'loss' | 'matcher'>): SetCriterion {
  return new SetCriterion({
    numClasses,
    eosCoef: r.loss.eosCoef,
    weights: { ce: r.loss.ce, bbox: r.loss.bbox, giou: r.loss.giou },
    matcher: new HungarianMatcher(r.matcher),
  });
}
