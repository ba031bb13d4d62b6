/**
 * `makeSources` for Node: `data` is 'shapes' or a COCO-layout folder on disk (./data.ts builds the
 * sources; ../data/coco-node.ts opens the folder).
 *
 * Splits: training reads `trainSplit` (default 'train'); a missing training annotation file is an Error
 * naming the files tried — never a silent switch to 'val' (`trainSplit: 'val'`, the CLI's
 * `--train-split val`, allows that on purpose). Validation reads 'val'; a folder without it is evaluated
 * on the training split, with a warning saying so.
 */
import { openCocoFolder, NoAnnotationFileError } from '../data/coco-node.ts';
import type { CocoDataset } from '../data/coco.ts';
import { cocoSources, shapesSources, type SourceOptions, type TrainSource, type ValSource } from './data.ts';

export interface MakeSourcesOptions extends SourceOptions {
  /** 'shapes' or a COCO folder. */
  data: string;
  /** The split to train on (a COCO folder's `instances_<split>[2017].json`). Default 'train'. */
  trainSplit?: string;
  /** Where warnings go (skipped images, annotation notes, val falling back to train). Default console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * @example const { train, val } = await makeSources({ data: '/data/coco', seed: 0, model: 'tiny', augment: true });
 */
export async function makeSources(opts: MakeSourcesOptions): Promise<{ train: TrainSource; val: ValSource }> {
  const trainSplit = opts.trainSplit ?? 'train';
  if (opts.data === 'shapes') {
    if (trainSplit !== 'train')
      throw new Error(`train split '${trainSplit}': the shapes data has its own streams; a split applies to COCO folders only`);
    return shapesSources(opts);
  }
  const onWarning = opts.onWarning ?? console.warn;
  let trainSet: CocoDataset;
  try {
    trainSet = await openCocoFolder(opts.data, { split: trainSplit, onWarning });
  } catch (e) {
    if (!(e instanceof NoAnnotationFileError)) throw e;
    const hint = trainSplit === 'val' ? '' : '; to train on the validation split instead, pass --train-split val';
    throw new Error(`${opts.data}: no '${trainSplit}' annotations to train on (tried ${e.tried.join(', ')})${hint}`);
  }
  let valSet: CocoDataset;
  if (trainSplit === 'val') {
    valSet = trainSet;
    onWarning(`training on the validation split (${trainSet.annotationFile}): evaluation scores are on images the model has seen`);
  } else {
    try {
      valSet = await openCocoFolder(opts.data, { split: 'val', onWarning });
    } catch (e) {
      if (!(e instanceof NoAnnotationFileError)) throw e;
      valSet = trainSet;
      onWarning(
        `no validation annotations (tried ${e.tried.join(', ')}): evaluating on the training split ${trainSet.annotationFile}, so scores measure fit, not generalisation`,
      );
    }
  }
  return cocoSources(trainSet, valSet, { ...opts, name: opts.data, onWarning });
}
