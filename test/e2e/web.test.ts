/**
 * The web pages end to end, in headless Chromium on SwiftShader, from the production build
 * (test/e2e/setup.ts builds and serves it): training lowers the loss and draws boxes, the weights
 * download and load back, detection runs with them and with the PyTorch-made fixture, the page stays
 * responsive while its worker trains, the kernel playground (a CodeMirror editor) checks a kernel and
 * an edited one and marks a compile error at its line:column, and a browser without WebGPU gets the explanation.
 * Each test leaves a screenshot in test-results/e2e/.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { readFileSync, mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launch, open, screenshot, setRange, waitData, SHOTS } from './browser.ts';
import { renderShapes } from '../../yolos/data/shapes.ts';
import { encodePng } from '../../yolos/image-io.ts';
import { readSafetensors, writeSafetensors } from '../../yolos/safetensors.ts';
import { presets } from '../../yolos/config.ts';

const url = inject('webUrl');
const FIXTURE = 'test/fixtures/yolos-ref';
const STEPS = 10;

let browser: Browser;
let trained: { page: Page; errors: string[] } | null = null;
let weightsPath = '';

beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** A shapes validation-stream image as PNG bytes (what the user would drop or pick). */
function shapesPng(index: number, size = 64): Buffer {
  const scene = renderShapes(0, 2 ** 40 + index, { size });
  const n = size * size,
    img = scene.image!;
  const data = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    data[4 * p] = Math.round(img[p] * 255);
    data[4 * p + 1] = Math.round(img[n + p] * 255);
    data[4 * p + 2] = Math.round(img[2 * n + p] * 255);
    data[4 * p + 3] = 255;
  }
  return Buffer.from(encodePng({ width: size, height: size, data, channels: 4 }));
}

describe('web pages in Chromium (WebGPU on SwiftShader)', () => {
  it('Train: a few steps lower the loss, draw predicted boxes; the weights download and load back', async () => {
    const { page, errors } = await open(browser, `${url}index.html#train`);
    trained = { page, errors };
    // on a software adapter the default batch is the one the hint names
    expect(await page.inputValue('#t-batch')).toBe('4');
    expect(await page.textContent('#t-batch-hint')).toMatch(/software adapter, so the default is 4/);
    await expect.poll(() => page.textContent('#t-state'), { timeout: 60_000 }).toBe('idle'); // the worker's engine started
    // the recipe at batch 4 (SwiftShader), no warm-up so that 10 steps move the weights; redraw every 5 steps
    await page.selectOption('#t-batch', '4');
    await page.fill('#t-warmup', '0');
    await page.fill('#t-lr', '0.001');
    await page.fill('#t-every', '5');
    await setRange(page, '#t-thresh', 0); // show every query's box: after 10 steps no score is high yet
    await page.click('#t-start');
    await waitData(page, '#tab-train', 'step', STEPS);
    await page.click('#t-start'); // pause
    await page.waitForFunction(() => !(window as unknown as { yolos: { train: { running: boolean } } }).yolos.train.running);
    const history = await page.evaluate(() =>
      (window as unknown as { yolos: { train: { history: { loss: number }[] } } }).yolos.train.history.map((h) => h.loss),
    );
    expect(history.length).toBeGreaterThanOrEqual(STEPS);
    expect(history.every(Number.isFinite)).toBe(true);
    // The loss fell: each step sees new images (batch 4), so single losses are noisy (±0.5 around 7 in
    // this run); the means of the first and last three steps differ by ~1.7 (8.2 → 6.5), so 10% is a margin.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(history.slice(0, 3)),
      last = mean(history.slice(-3));
    expect(last, `loss ${history.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.9 * first);
    // boxes were drawn on the validation images: at threshold 0 every detection token gives one
    const boxes = await waitData(page, '#t-val', 'boxes', 1);
    const images = await page.locator('#t-val canvas').count();
    expect(images).toBeGreaterThan(0);
    expect(boxes).toBe(images * presets.nano16.num_detection_tokens);
    expect(Number(await page.getAttribute('#t-val', 'data-redraws'))).toBeGreaterThanOrEqual(2); // step 1 and step 5/10
    const chartInk = await page.$eval('#t-chart', (c) => {
      const cv = c as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let ink = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i + 2] > 150 && d[i] < 80) ink++; // the dark-blue average line
      return ink;
    });
    expect(chartInk).toBeGreaterThan(50);

    // save → a .safetensors download with the config and the step in its metadata
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#t-save')]);
    mkdirSync(SHOTS, { recursive: true });
    weightsPath = `${SHOTS}/${download.suggestedFilename()}`;
    await download.saveAs(weightsPath);
    const bytes = new Uint8Array(readFileSync(weightsPath));
    const file = readSafetensors(bytes);
    expect(file.get('vit.embeddings.detection_tokens')?.shape).toEqual([
      1,
      presets.nano16.num_detection_tokens,
      presets.nano16.hidden_size,
    ]);
    const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))).__metadata__;
    expect(JSON.parse(meta['yolos.config']).hidden_size).toBe(presets.nano16.hidden_size);
    const step = Number(await page.getAttribute('#tab-train', 'data-step'));
    expect(Number(meta['yolos.steps'])).toBe(step);
    await screenshot(page, 'train');

    // load them back: training would continue from that step
    await page.setInputFiles('#t-load', weightsPath);
    await expect
      .poll(() => page.textContent('#t-state'), { timeout: 30_000 })
      .toContain(`loaded ${download.suggestedFilename()} at step ${step}`);
    expect(Number(await page.getAttribute('#tab-train', 'data-step'))).toBe(step);

    // a training checkpoint's layout (yolos/train/checkpoint.ts: model/<key>, optimizer/…, the config,
    // step and loss history in the metadata) loads too, and the chart continues its history
    const tensors = new Map([...file].map(([k, t]) => [`model/${k}`, { shape: t.shape, data: t.data as Float32Array }]));
    tensors.set('optimizer/0/m', { shape: [2], data: new Float32Array(2) });
    const ckHistory = [
      { step: 497, loss: 2.5, lr: 4e-4 },
      { step: 498, loss: 2.4, lr: 4e-4 },
      { step: 499, loss: 2.3, lr: 4e-4 },
    ];
    const ckpt = writeSafetensors(tensors, {
      'yolos.checkpoint': JSON.stringify({
        step: 500,
        config: JSON.parse(meta['yolos.config']),
        options: { batch: 16 },
        seconds: 60,
        imagesSeen: 8000,
        history: ckHistory,
      }),
    });
    await page.setInputFiles('#t-load', {
      name: 'checkpoint.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(ckpt),
    });
    await expect
      .poll(() => page.textContent('#t-state'), { timeout: 30_000 })
      .toContain('loaded checkpoint.safetensors at step 500 with its loss history');
    expect(await page.evaluate(() => (window as unknown as { yolos: { train: { history: unknown[] } } }).yolos.train.history.length)).toBe(
      3,
    );
    expect(errors).toEqual([]);
  });

  it('Detect: the trained model and its saved weights give the same boxes; the fixture model with its config.json', async () => {
    expect(trained, 'the Train test runs first and leaves its page').not.toBeNull();
    const { page, errors } = trained!;
    await page.click('nav a[data-tab="detect"]');
    await page.waitForSelector('#tab-detect:not([hidden])');
    await setRange(page, '#d-thresh', 0);

    // the model being trained, on a dropped PNG
    await page.click('#d-use-trained');
    const runs0 = await waitData(page, '#tab-detect', 'runs', 1);
    const dt = await page.evaluateHandle((b64) => {
      const bin = atob(b64);
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      const t = new DataTransfer();
      t.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return t;
    }, shapesPng(3).toString('base64'));
    await page.dispatchEvent('#d-drop', 'drop', { dataTransfer: dt });
    await waitData(page, '#tab-detect', 'runs', runs0 + 1);
    type Det = { score: number; label: number; box: number[] };
    const detsOf = () =>
      page.evaluate(() =>
        (window as unknown as { yolos: { detect: { all: Det[] } } }).yolos.detect.all.map((d) => ({
          score: d.score,
          label: d.label,
          box: d.box,
        })),
      );
    const fromTraining = await detsOf();
    expect(fromTraining.length).toBe(presets.nano16.num_detection_tokens);
    expect(Number(await page.getAttribute('#tab-detect', 'data-boxes'))).toBe(presets.nano16.num_detection_tokens);

    // the downloaded weights file, on the same image: the same detections (same f32 weights, same kernels)
    await page.setInputFiles('#d-weights', weightsPath);
    await waitData(page, '#tab-detect', 'runs', runs0 + 2);
    expect(await page.textContent('#d-model')).toContain("config from the file's metadata");
    const fromFile = await detsOf();
    expect(fromFile.length).toBe(fromTraining.length);
    fromFile.forEach((d, i) => {
      expect(d.label).toBe(fromTraining[i].label);
      expect(d.score).toBeCloseTo(fromTraining[i].score, 6);
      d.box.forEach((v, k) => expect(v).toBeCloseTo(fromTraining[i].box[k], 4));
    });

    // the PyTorch-made fixture (4 labels a–d, 5 detection tokens) picked with its config.json; a picked 96×80 PNG
    await page.setInputFiles('#d-weights', [`${FIXTURE}/model.safetensors`, `${FIXTURE}/config.json`]);
    await waitData(page, '#tab-detect', 'runs', runs0 + 3);
    expect(await page.textContent('#d-model')).toContain('config from config.json');
    await page.setInputFiles('#d-image', { name: 'shapes.png', mimeType: 'image/png', buffer: shapesPng(7, 96) });
    await waitData(page, '#tab-detect', 'runs', runs0 + 4);
    expect(Number(await page.getAttribute('#tab-detect', 'data-boxes'))).toBe(5);
    const labels = await page.$$eval('#d-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(labels.length).toBe(5);
    for (const l of labels) expect(['a', 'b', 'c', 'd']).toContain(l);
    // the slider filters without running the model again
    await setRange(page, '#d-thresh', 1);
    expect(Number(await page.getAttribute('#tab-detect', 'data-boxes'))).toBe(0);
    await setRange(page, '#d-thresh', 0);
    await screenshot(page, 'detect');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('Train: the page stays responsive while it trains (no main-thread task of 100 ms or more), at batch 32', async () => {
    const { page, errors } = await open(browser, `${url}index.html#train`);
    await expect.poll(() => page.textContent('#t-state'), { timeout: 60_000 }).toBe('idle'); // the worker's engine started
    await page.selectOption('#t-batch', '32'); // the largest batch: the most work per step
    await page.fill('#t-every', '5');
    expect(await page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes('longtask'))).toBe(true);
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
    });
    // the observer sees a 150 ms task of the page's own (so an empty list below is a measurement)
    await page.evaluate(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            const t = performance.now();
            while (performance.now() - t < 150);
            resolve(null);
          }),
        ),
    );
    await page.waitForFunction(() => (window as unknown as { longTasks: number[] }).longTasks.length > 0, null, { timeout: 5_000 });
    await page.evaluate(() => {
      (window as unknown as { longTasks: number[] }).longTasks = [];
    });
    await page.click('#t-start');
    await waitData(page, '#tab-train', 'step', STEPS);
    await page.click('#t-start'); // pause
    await page.waitForFunction(() => !(window as unknown as { yolos: { train: { running: boolean } } }).yolos.train.running);
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    expect(
      Math.max(0, ...longTasks),
      `main-thread tasks over 50 ms during ${STEPS} steps: ${longTasks.map((d) => d.toFixed(0)).join(', ') || 'none'}`,
    ).toBeLessThan(100);
    expect(Number(await page.getAttribute('#t-val', 'data-redraws'))).toBeGreaterThanOrEqual(2); // the page drew as it trained
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('Kernel playground: the built-in gelu passes, an edited one is caught, bad WGSL shows the compiler', async () => {
    const { page, errors } = await open(browser, `${url}playground.html#gelu`);
    // the WGSL is in a CodeMirror editor (window.playground.editor), with line numbers and highlighting
    type Mark = { line: number; column: number; severity: string; message: string };
    type Editor = { getText(): string; setText(t: string): void; marks(): Mark[] };
    const editorText = () => page.evaluate(() => (window as unknown as { playground: { editor: Editor } }).playground.editor.getText());
    const setEditorText = (t: string) =>
      page.evaluate((text) => (window as unknown as { playground: { editor: Editor } }).playground.editor.setText(text), t);
    await expect.poll(editorText, { timeout: 30_000 }).toContain('fn main');
    expect(await page.locator('#p-wgsl .cm-editor .cm-lineNumbers .cm-gutterElement').count()).toBeGreaterThan(5);
    // highlighting lands when CodeMirror's parser has run over the viewport: poll rather than read once
    await expect
      .poll(() => page.$$eval('#p-wgsl .cm-content span', (spans) => new Set(spans.map((s) => getComputedStyle(s).color)).size), {
        timeout: 15_000,
      })
      .toBeGreaterThan(2);
    expect(await page.textContent('#p-adapter')).toMatch(/swiftshader/i);
    expect(await page.locator('#p-features li').count()).toBeGreaterThan(0);
    await page.click('#p-run');
    await page.waitForSelector('#p-results tr[data-kernel="built-in"]', { timeout: 60_000 });
    expect(await page.getAttribute('#p-results tr[data-kernel="built-in"]', 'data-pass')).toBe('true');
    expect(await page.textContent('#p-results tr[data-kernel="built-in"]')).toMatch(/PASS.*(ms|µs)/s);

    // typing into the editor is an edit
    const code = await editorText();
    await page.click('#p-wgsl .cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n// typed here');
    expect(await editorText()).toBe(`${code}\n// typed here`);
    expect(await page.textContent('#p-edited')).toMatch(/^edited/);

    // an edit the reference must catch: every output off by 0.01 (the tolerance is 1e-6 + 1e-5·|ref|)
    expect(code).toContain('ys[i] = f(xs[i]);');
    await setEditorText(code.replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + 0.01;'));
    await page.click('#p-run');
    await page.waitForSelector('#p-results tr[data-kernel="edited"]', { timeout: 60_000 });
    expect(await page.getAttribute('#p-results tr[data-kernel="edited"]', 'data-pass')).toBe('false');
    expect(await page.textContent('#p-results tr[data-kernel="edited"]')).toContain('1000 of 1000');
    expect(await page.getAttribute('#p-results tr[data-kernel="built-in"]', 'data-pass')).toBe('true');

    // WGSL that does not compile: the compiler's message, and a marker at its line:column in the editor
    const bad = code.replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + undefined_name;');
    await setEditorText(bad);
    await page.click('#p-run');
    await page.waitForSelector('#p-error:not([hidden])', { timeout: 60_000 });
    expect(await page.textContent('#p-error')).toMatch(/undefined_name/);
    const badLine = bad.split('\n').findIndex((l) => l.includes('undefined_name'));
    const marks = await page.evaluate(() => (window as unknown as { playground: { editor: Editor } }).playground.editor.marks());
    expect(
      marks.some(
        (m) => m.severity === 'error' && m.line === badLine + 1 && m.column === bad.split('\n')[badLine].indexOf('undefined_name') + 1,
      ),
      JSON.stringify(marks),
    ).toBe(true);
    await page.waitForSelector('#p-wgsl .cm-lintRange-error', { timeout: 5_000 });
    expect(await page.locator('#p-wgsl .cm-lint-marker-error').count()).toBeGreaterThan(0);
    await screenshot(page, 'playground-error');
    await setEditorText(code.replace('ys[i] = f(xs[i]);', 'ys[i] = f(xs[i]) + 0.01;'));
    expect(await page.locator('#p-wgsl .cm-lintRange-error').count()).toBe(0); // a new text clears the marks
    await page.click('#p-run');
    await page.waitForSelector('#p-results tr[data-kernel="edited"]', { timeout: 60_000 });
    await screenshot(page, 'playground');
    // the page logs nothing as an error except WebGPU's own report of the shader that did not compile
    expect(errors.filter((e) => !/undefined_name|WGSL|shader|ShaderModule|Invalid/i.test(e))).toEqual([]);
    await page.context().close();
  });

  it('without WebGPU the page says so and what to enable', async () => {
    const { page } = await open(browser, `${url}index.html`, { noWebGPU: true });
    await page.waitForSelector('#no-webgpu:not([hidden])', { timeout: 30_000 });
    const text = await page.textContent('#no-webgpu');
    expect(text).toContain('WebGPU is not available');
    expect(text).toContain('navigator.gpu');
    expect(text).toContain('chrome://flags/#enable-unsafe-webgpu');
    expect(await page.locator('#app').isHidden()).toBe(true);
    await screenshot(page, 'no-webgpu');
    await page.context().close();
  });
});
