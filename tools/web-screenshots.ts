/**
 * Makes the README's screenshots of the web pages (docs/train.png, docs/detect.png, docs/playground.png):
 * builds the pages, serves them on 127.0.0.1 and drives Debian's Chromium (WebGPU on SwiftShader).
 *
 *   npx tsx tools/web-screenshots.ts [--train-seconds 240] [--batch 8] [--train-from CHECKPOINT] [--weights FILE] [--threshold 0.5]
 *                                    [--only train,detect,playground] [--out docs]
 *
 * Train: with the page's recipe for --train-seconds, from scratch or continuing --train-from (a weights
 * file or a training checkpoint, whose loss history the chart then shows). Detect: --weights (a weights file or a
 * training checkpoint, e.g. runs/…/checkpoint.safetensors; default: the model just trained) on a
 * shapes image. Playground: gelu, the built-in kernel and an edited one (caught by the reference).
 */
import { parseArgs } from 'node:util';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildSite } from '../test/e2e/build.ts';
import { serveStatic } from '../test/e2e/server.ts';
import { CHROMIUM_WEBGPU_ARGS } from '../test/chromium-args.ts';

const { values: a } = parseArgs({
  options: {
    'train-seconds': { type: 'string', default: '240' },
    batch: { type: 'string', default: '8' },
    weights: { type: 'string' },
    'train-from': { type: 'string' },
    threshold: { type: 'string', default: '0.5' },
    only: { type: 'string', default: 'train,detect,playground' },
    out: { type: 'string', default: 'docs' },
  },
});

const dir = await mkdtemp(join(tmpdir(), 'yolos-web-shots-'));
await buildSite(dir);
const server = await serveStatic(dir);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_WEBGPU_ARGS, headless: true });
await mkdir(a.out!, { recursive: true });
const only = new Set(a.only!.split(','));
const setRange = (page: Page, selector: string, v: string) =>
  page.$eval(
    selector,
    (el, value) => {
      (el as HTMLInputElement).value = value;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    v,
  );
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(`${server.url}index.html#train`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  if (only.has('train') || (only.has('detect') && !a.weights)) {
    await page.selectOption('#t-batch', a.batch!);
    await setRange(page, '#t-thresh', a.threshold!);
    if (a['train-from']) {
      await page.setInputFiles('#t-load', a['train-from']);
      await page.waitForFunction(() => /loaded|cannot/.test(document.querySelector('#t-state')!.textContent ?? ''), null, {
        timeout: 60_000,
      });
      console.log(await page.textContent('#t-state'));
    }
    await page.click('#t-start');
    const t0 = Date.now();
    while (Date.now() - t0 < Number(a['train-seconds']) * 1000) {
      await page.waitForTimeout(10_000);
      console.log(
        `train: step ${await page.getAttribute('#tab-train', 'data-step')}, loss ${await page.textContent('#s-avg')} (avg), ${await page.textContent('#s-ips')} images/s`,
      );
    }
    await page.click('#t-start');
    await page.waitForFunction(() => !(window as unknown as { yolos: { train: { running: boolean } } }).yolos.train.running);
    if (only.has('train')) await page.screenshot({ path: join(a.out!, 'train.png'), fullPage: true });
  }

  if (only.has('detect')) {
    await page.click('nav a[data-tab="detect"]');
    await setRange(page, '#d-thresh', a.threshold!);
    if (a.weights) await page.setInputFiles('#d-weights', a.weights);
    else await page.click('#d-use-trained');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#tab-detect')!.dataset.runs ?? 0) >= 1, null, {
      timeout: 60_000,
    });
    await page.screenshot({ path: join(a.out!, 'detect.png'), fullPage: true });
  }

  if (only.has('playground')) {
    await page.goto(`${server.url}playground.html#gelu`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    // the page exposes its CodeMirror editor for scripts: window.playground.editor.getText() / setText()
    type WithEditor = { playground: { editor: { getText(): string; setText(code: string): void } } };
    await page.waitForFunction(() => (window as unknown as WithEditor).playground.editor.getText().includes('fn main'));
    await page.evaluate(() => {
      const e = (window as unknown as WithEditor).playground.editor;
      e.setText(e.getText().replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + 0.01;'));
    });
    await page.click('#p-run');
    await page.waitForSelector('#p-results tr[data-kernel="edited"]', { timeout: 60_000 });
    await page.screenshot({ path: join(a.out!, 'playground.png'), fullPage: true });
  }
  console.log(`wrote ${[...only].map((n) => `${a.out}/${n}.png`).join(', ')}`);
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
