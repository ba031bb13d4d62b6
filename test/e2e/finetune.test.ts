/**
 * Fine-tuning in the Train tab, end to end in headless Chromium on SwiftShader: start from a committed
 * checkpoint (the ViT backbone in models/vit-shapes/ when it is there, else the YOLOS shapes model
 * with models/config.json), pick a COCO folder made here (shapes PNGs in train2017/ and val2017/ with
 * annotations/instances_*.json) through the directory picker, train a few steps, and check the
 * transfer report, the fine-tuning recipe in the form, a finite loss and the boxes drawn on the
 * folder's validation images. Then the bad-input cases: malformed annotations show the validator's
 * message, a missing or undecodable image is named, a broken archive is named, a .zip of the
 * folder is read, and a checkpoint pick without weights is named.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { launch, open, screenshot, setRange, waitData } from './browser.ts';
import { shapesDataset } from '../../yolos/data/shapes.ts';
import { writeShapesCoco } from '../../yolos/data/shapes-node.ts';
import { SHAPES_VAL } from '../../yolos/train/data.ts';
import { finetuneRecipe } from '../../yolos/train/recipe.ts';
import { presets } from '../../yolos/config.ts';

const url = inject('webUrl');
const STEPS = 4;
const BATCH = 2;
const TRAIN_IMAGES = 6,
  VAL_IMAGES = 2;

/** The checkpoint to start from: the committed ViT backbone if another helper has made it, else the YOLOS shapes model. */
function checkpoint(): string[] {
  const vit = 'models/vit-shapes';
  if (existsSync(vit)) {
    const files = readdirSync(vit)
      .filter((f) => /\.safetensors$|^config\.json$/.test(f))
      .map((f) => join(vit, f));
    if (files.some((f) => f.endsWith('.safetensors'))) return files;
  }
  return ['models/shapes-nano16.safetensors', 'models/config.json'];
}

let browser: Browser;
let dir = '';
/** Every file under `root`, with its path relative to `parent` (what a directory picker reports). */
function tree(root: string, parent: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out[relative(parent, p)] = new Uint8Array(readFileSync(p));
    }
  }
  return out;
}
const stateOf = (page: Page, id: string) => page.textContent(`#${id}`);

beforeAll(async () => {
  browser = await launch();
  dir = mkdtempSync(join(tmpdir(), 'yolos-coco-'));
  await writeShapesCoco(shapesDataset({ seed: 5, count: TRAIN_IMAGES }), join(dir, 'coco'), 'train');
  await writeShapesCoco(shapesDataset({ ...SHAPES_VAL, count: VAL_IMAGES }), join(dir, 'coco'), 'val');
});
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Train tab: fine-tuning on a COCO folder (Chromium, WebGPU on SwiftShader)', () => {
  it('starts from a checkpoint, reads a picked COCO folder, trains a few steps and draws boxes on its validation images', async () => {
    const { page, errors } = await open(browser, `${url}index.html#train`);
    await expect.poll(() => stateOf(page, 't-state'), { timeout: 60_000 }).toBe('idle');
    const start = checkpoint();
    const weights = start
      .find((f) => f.endsWith('.safetensors'))!
      .split('/')
      .pop()!;

    // the folder, through the directory picker: train on train2017, validate on val2017
    await page.setInputFiles('#t-data-dir', join(dir, 'coco'));
    await expect
      .poll(() => stateOf(page, 't-data-state'), { timeout: 60_000 })
      .toContain(`${TRAIN_IMAGES} training images, ${VAL_IMAGES} validation images, 3 categories (circle, square, triangle)`);
    expect((await page.locator('#t-data-notes li').allTextContents()).join('\n')).toContain(
      'validating on coco/annotations/instances_val2017.json',
    );
    expect(await page.locator('#t-val canvas').count()).toBe(VAL_IMAGES);

    // start from the checkpoint: the report lists what was kept, and the form holds the fine-tuning recipe
    await page.selectOption('#t-batch', String(BATCH));
    await page.setInputFiles('#t-from', start);
    await expect.poll(() => stateOf(page, 't-from-state'), { timeout: 60_000 }).toBe(`fine-tuning from ${weights}`);
    const report = await page.locator('#t-report li').allTextContents();
    expect(report[0]).toMatch(/^target: /);
    expect(report.length).toBeGreaterThan(1);
    expect(report.join('\n')).toContain(weights);
    const recipe = finetuneRecipe(presets.nano16, BATCH); // nano-16 is Ti-like: 5e-5 × 2/16
    expect(Number(await page.inputValue('#t-lr'))).toBeCloseTo(recipe.lr, 12);
    expect(await page.inputValue('#t-warmup')).toBe('0');
    expect(Number(await page.inputValue('#t-total'))).toBe(recipe.epochs! * Math.ceil(TRAIN_IMAGES / BATCH));
    expect(await page.textContent('#t-recipe')).toContain('cosine stepped per epoch');
    await expect.poll(() => stateOf(page, 't-state'), { timeout: 30_000 }).toBe('ready to fine-tune: Start'); // after the checkpoint's own predictions

    await page.fill('#t-every', '2');
    await setRange(page, '#t-thresh', 0); // every query's box
    await page.click('#t-start');
    await waitData(page, '#tab-train', 'step', STEPS);
    await page.click('#t-start'); // pause
    await page.waitForFunction(() => !(window as unknown as { yolos: { train: { running: boolean } } }).yolos.train.running);
    const history = await page.evaluate(
      () => (window as unknown as { yolos: { train: { history: { loss: number; lr: number }[] } } }).yolos.train.history,
    );
    expect(history.length).toBeGreaterThanOrEqual(STEPS);
    expect(
      history.every((h) => Number.isFinite(h.loss) && h.loss > 0),
      `losses ${history.map((h) => h.loss).join(' ')}`,
    ).toBe(true);
    expect(history[0].lr).toBeCloseTo(recipe.lr, 12); // epoch 0 runs at the base lr
    // boxes on the folder's validation images: at threshold 0 each detection token gives one
    await waitData(page, '#t-val', 'redraws', 2);
    const tokens = await page.evaluate(
      () =>
        (window as unknown as { yolos: { train: { finetune: { num_detection_tokens: number } } } }).yolos.train.finetune
          .num_detection_tokens,
    );
    expect(Number(await page.getAttribute('#t-val', 'data-boxes'))).toBe(VAL_IMAGES * tokens);
    await screenshot(page, 'train-finetune');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('bad data: the validator names the annotation and field, a missing or undecodable image is named, a broken .zip is named, a good .zip is read', async () => {
    const { page, errors } = await open(browser, `${url}index.html#train`);
    await expect.poll(() => stateOf(page, 't-state'), { timeout: 60_000 }).toBe('idle');
    const gt = JSON.parse(readFileSync(join(dir, 'coco/annotations/instances_train2017.json'), 'utf8'));
    const image = (name: string) => ({ name, mimeType: 'image/png', buffer: readFileSync(join(dir, 'coco/train2017', name)) });
    const names: string[] = gt.images.map((im: { file_name: string }) => im.file_name);
    const json = (o: unknown, name = 'instances_train.json') => ({
      name,
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(o)),
    });
    const dataError = async (files: Parameters<Page['setInputFiles']>[1]) => {
      await page.setInputFiles('#t-data-files', files);
      await page.waitForSelector('#t-data-state[data-error=true]', { timeout: 30_000 });
      const text = (await stateOf(page, 't-data-state'))!;
      await page.$eval('#t-data-state', (el) => {
        (el as HTMLElement).dataset.error = 'false';
      });
      return text;
    };

    // malformed: a box of 3 numbers
    const bad = structuredClone(gt);
    bad.annotations[1].bbox = [1, 2, 3];
    const malformed = await dataError([json(bad), ...names.map(image)]);
    expect(malformed).toContain(`cannot use ${names.length + 1} files: instances_train.json: 1 problem in the COCO annotations:`);
    expect(malformed).toContain(
      `annotation id ${bad.annotations[1].id} (annotations[1]): bbox is [1,2,3], expected [x, y, w, h] of 4 finite numbers`,
    );
    expect(await page.locator('#t-data-notes li').allTextContents()).toEqual(['still training on the synthetic shapes']);
    expect(await page.locator('#t-val canvas').count()).toBe(6); // the shapes' validation images stay

    // a missing image
    const missing = await dataError([json(gt), ...names.slice(1).map(image)]);
    expect(missing).toContain(`instances_train.json: 1 of the ${names.length} images it names are not among the chosen files:`);
    expect(missing).toContain(`image id ${gt.images[0].id}: '${names[0]}' is missing`);

    // an image that does not decode (the last one: held out for validation, so it is read before training)
    const last = names[names.length - 1];
    const undecodable = await dataError([
      json(gt),
      ...names.slice(0, -1).map(image),
      { name: last, mimeType: 'image/png', buffer: Buffer.from('not a png') },
    ]);
    expect(undecodable).toContain(`${last}: cannot decode`);

    // not a zip archive
    const broken = await dataError([{ name: 'coco.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\u0003\u0004 not really') }]);
    expect(broken).toMatch(/coco\.zip: not a readable zip archive/);

    // the folder as a .zip: no val split in it → the held-out slice, said in the notes
    const files = tree(join(dir, 'coco'), dir);
    delete files['coco/annotations/instances_val2017.json'];
    const zip = zipSync(files);
    writeFileSync(join(dir, 'coco.zip'), zip);
    await page.setInputFiles('#t-data-files', join(dir, 'coco.zip'));
    await expect
      .poll(() => stateOf(page, 't-data-state'), { timeout: 60_000 })
      .toContain(`${TRAIN_IMAGES - 1} training images, 1 validation image,`);
    expect((await page.locator('#t-data-notes li').allTextContents()).join('\n')).toContain(
      `no instances_val*.json: validating on the last 1 of the ${TRAIN_IMAGES} images of coco/annotations/instances_train2017.json`,
    );
    expect(await page.locator('#t-val canvas').count()).toBe(1);
    // "Start from…" without weights: the file is named, the model is unchanged
    await page.setInputFiles('#t-from', 'models/config.json');
    await page.waitForSelector('#t-from-state[data-error=true]', { timeout: 30_000 });
    expect(await stateOf(page, 't-from-state')).toBe(
      'cannot start from config.json: no .safetensors file among config.json; pick the weights with their config.json',
    );
    await expect.poll(() => stateOf(page, 't-state'), { timeout: 30_000 }).toBe('the model is unchanged (random init)');
    await screenshot(page, 'train-bad-data');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
