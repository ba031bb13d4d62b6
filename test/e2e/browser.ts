/** Headless Debian Chromium with WebGPU on SwiftShader, for the e2e tests (playwright-core never downloads a browser). */
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { CHROMIUM_WEBGPU_ARGS } from '../chromium-args.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = 'test-results/e2e';

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_WEBGPU_ARGS, headless: true });
}

export interface OpenPage {
  page: Page;
  errors: string[];
}

/**
 * Opens `url` in a new context and waits until the page has started the engine (body[data-ready]),
 * failing fast with the page's own message when it found no WebGPU.
 */
export async function open(browser: Browser, url: string, opts: { noWebGPU?: boolean } = {}): Promise<OpenPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  if (opts.noWebGPU)
    await context.addInitScript(() => {
      delete (Navigator.prototype as { gpu?: unknown }).gpu;
    });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  if (!opts.noWebGPU) {
    await page.waitForSelector('body[data-ready=true], #no-webgpu:not([hidden])', { timeout: 60_000 });
    const missing = await page.locator('#no-webgpu:not([hidden])').count();
    if (missing) throw new Error(`the page found no WebGPU: ${await page.textContent('#no-webgpu')}`);
  }
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Sets a range input's value and fires its input event (what a user's drag does). */
export async function setRange(page: Page, selector: string, value: number): Promise<void> {
  await page.$eval(
    selector,
    (el, v) => {
      const input = el as HTMLInputElement;
      input.value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

/** Waits until `selector`'s data-`key` (a number) reaches `min`; returns it. */
export async function waitData(page: Page, selector: string, key: string, min: number, timeout = 120_000): Promise<number> {
  await page.waitForFunction(
    ([s, k, m]) => Number((document.querySelector(s as string) as HTMLElement | null)?.dataset[k as string] ?? -1) >= (m as number),
    [selector, key, min],
    { timeout, polling: 200 },
  );
  return page.$eval(selector, (el, k) => Number((el as HTMLElement).dataset[k]), key);
}
