/**
 * Training checkpoints: one safetensors file holding the model (`model/<HF key>`), the optimizer's
 * buffers (`optimizer/<param index>/<buffer>`) and, in the metadata, the step, the options, the
 * optimizer's hyper-parameters and per-parameter step counts. Written atomically (temp file, fsync,
 * rename), so an interrupted write never leaves a half checkpoint behind.
 */
import { open, rename, readFile, unlink } from 'node:fs/promises';
import { tensor, keep, type Tensor } from '../../engine/index.ts';
import type { AdamW, OptimizerStateDict, AdamWHyper } from '../../engine/optim/index.ts';
import { readSafetensors, writeSafetensors } from '../safetensors.ts';
import { parseConfig, type YolosConfig } from '../config.ts';
import { Yolos } from '../model.ts';

export interface CheckpointMeta {
  step: number;
  config: YolosConfig;
  /** The training options, for --resume. */
  options: Record<string, unknown>;
  /** Seconds of training so far. */
  seconds: number;
  imagesSeen: number;
  history?: unknown[];
}

/** Writes `bytes` to `path` atomically. */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export async function saveCheckpoint(path: string, model: Yolos, optimizer: AdamW, meta: CheckpointMeta): Promise<void> {
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const read = async (t: Tensor) => ({ shape: [...t.shape], data: (await t.data()) as Float32Array });
  for (const [name, p] of model.namedParameters()) tensors.set(`model/${name}`, await read(p));
  const sd = optimizer.stateDict();
  const steps: Record<number, number> = {};
  for (const [k, s] of Object.entries(sd.state)) {
    steps[Number(k)] = s.step;
    for (const [n, t] of Object.entries(s.buffers)) tensors.set(`optimizer/${k}/${n}`, await read(t));
  }
  const hyper = sd.paramGroups.map(({ params, ...h }) => ({ ...h, params }));
  const metadata = { 'yolos.checkpoint': JSON.stringify({ ...meta, optimizer: { paramGroups: hyper, steps } }) };
  await writeAtomic(path, writeSafetensors(tensors, metadata));
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta;
  model: Yolos;
  /** Restores the optimizer's state (call after building it with the same groups). */
  restoreOptimizer(opt: AdamW): void;
}

export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new Error(`checkpoint '${path}' cannot be read`);
  }
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const raw = header.__metadata__?.['yolos.checkpoint'];
  if (!raw) throw new Error(`checkpoint '${path}' has no yolos.checkpoint metadata (is it a plain weights file?)`);
  const meta = JSON.parse(raw) as CheckpointMeta & { optimizer: { paramGroups: (AdamWHyper & { params: number[] })[]; steps: Record<number, number> } };
  meta.config = parseConfig(meta.config);
  const file = readSafetensors(bytes);
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of file) if (k.startsWith('model/')) weights.set(k.slice(6), { shape: t.shape, data: t.data as Float32Array });
  const model = Yolos.fromSafetensors(writeSafetensors(weights), meta.config);
  return {
    meta,
    model,
    restoreOptimizer(opt: AdamW) {
      const state: OptimizerStateDict<AdamWHyper>['state'] = {};
      const made: Tensor[] = [];
      for (const [k, step] of Object.entries(meta.optimizer.steps)) {
        const buffers: Record<string, Tensor> = {};
        for (const [name, t] of file) {
          const prefix = `optimizer/${k}/`;
          if (name.startsWith(prefix)) { buffers[name.slice(prefix.length)] = keep(tensor(t.data as Float32Array, t.shape)); made.push(buffers[name.slice(prefix.length)]); }
        }
        state[Number(k)] = { step, buffers };
      }
      opt.loadStateDict({ state, paramGroups: meta.optimizer.paramGroups });
      for (const t of made) t.dispose();
    },
  };
}
