/**
 * The messages between the Train tab (the page) and its Web Worker (web/src/train-worker.ts), which
 * owns the engine, the model, the optimizer and the data. Weight bytes travel as transferred
 * ArrayBuffers; everything else is small and cloned.
 */
import type { Detection, YolosConfig } from '../../yolos/index.ts';
import type { DatasetFile } from '../../yolos/data/coco-files.ts';

export const SIZE = 64; // nano-16's image side
export const VAL_IMAGES = 6;

/** The form's values, sent with Start and on every change (a running loop reads them each step). */
export interface TrainSettings {
  seed: number;
  batch: number;
  lr: number;
  warmup: number;
  total: number;
  every: number;
}

/** One step; `ms` is null for steps read from a checkpoint's history (trained elsewhere). */
export interface StepLog {
  step: number;
  loss: number;
  lr: number;
  batch: number;
  ms: number | null;
  parts?: [number, number, number];
  classError?: number;
}

/** Where the worker's training stands (sent with every step and every state change). */
export interface TrainProgress {
  step: number;
  imagesSeen: number;
  seconds: number;
  running: boolean;
  hasModel: boolean;
}

/** A validation image as the page paints it: RGBA pixels and the true boxes, in its pixels (x0, y0, x1, y1). */
export interface ValImage {
  name: string;
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
  truth: [number, number, number, number][];
}

/** What to train on: the synthetic shapes stream, or a COCO folder's files (an archive among them is unpacked). */
export type DataSource = { kind: 'shapes' } | { kind: 'files'; name: string; files: DatasetFile[] };

export type ToWorker =
  | { type: 'settings'; settings: TrainSettings }
  | { type: 'start' }
  | { type: 'pause' }
  | { type: 'reset' }
  /** Continue from a weights file or a checkpoint (its bytes, transferred). */
  | { type: 'load'; name: string; bytes: ArrayBuffer }
  /** The weights as safetensors: answered by `weights` (or `failed`) with the same id. */
  | { type: 'snapshot'; id: number }
  /** Fine-tune from a checkpoint: a `.safetensors` and, optionally, its config.json (Files are cloned, not copied). */
  | { type: 'start-from'; files: File[] }
  /** Train from random init again. */
  | { type: 'from-scratch' }
  | { type: 'data'; source: DataSource };

export type FromWorker =
  /** The engine started in the worker, on this adapter. */
  | { type: 'ready'; adapter: string }
  /** The worker cannot train (no WebGPU in workers, no device): the page says why. */
  | { type: 'fatal'; message: string }
  /** A state line for the page (`error`: shown in red); `history` replaces the page's when present. */
  | { type: 'state'; text: string; error?: boolean; progress: TrainProgress; history?: StepLog[] }
  | { type: 'step'; log: StepLog; progress: TrainProgress }
  /** Every query's detection (threshold 0) on each validation image, at `step`. */
  | { type: 'validation'; step: number; dets: Detection[][] }
  | { type: 'weights'; id: number; bytes: ArrayBuffer; step: number }
  | { type: 'failed'; id: number; message: string }
  /**
   * The data now trained on (or why it cannot be): `notes` (splits chosen, warnings), the validation
   * images, and the training images per epoch (null: an endless stream).
   */
  | { type: 'data'; name: string; text: string; error?: boolean; notes: string[]; val: ValImage[]; images: number | null }
  /**
   * Where the model starts: `from` the checkpoint (null: random init), with the transfer report; the
   * fine-tuning recipe's config when fine-tuning (the page writes its numbers into the form).
   */
  /** A warning while training (e.g. a training image that could not be decoded, skipped). */
  | { type: 'note'; text: string }
  | { type: 'start'; from: string | null; lines: string[]; error?: boolean; finetune: YolosConfig | null };
