import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { CHROMIUM_WEBGPU_ARGS } from './test/chromium-args.ts';

/** Chromium flags that give WebGPU on SwiftShader, headless (SETUP.md); shared with the e2e tests. */
export { CHROMIUM_WEBGPU_ARGS };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          setupFiles: ['test/setup/node-adapter.ts'],
          exclude: ['test/e2e/**', 'test/package/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // dawn.node is one device per process: keep GPU test files in one worker, one at a time.
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          // The kernel tests (same files as node); pure-CPU suites run in node only.
          include: ['test/gpu/**/*.test.ts', 'test/images/**/*.browser.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: '/usr/bin/chromium', args: CHROMIUM_WEBGPU_ARGS } }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
          },
        },
      },
      {
        test: {
          name: 'e2e',
          // The web pages, built with Vite and served on 127.0.0.1, driven in headless Chromium (WebGPU on SwiftShader).
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          // after the other projects (their own Chromium and dawn.node would compete for the CPUs)
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'package',
          // `npm pack` installed into fresh consumer projects (Node script, strict TypeScript, Vite app, CLI).
          include: ['test/package/**/*.test.ts'],
          environment: 'node',
          testTimeout: 400_000,
          hookTimeout: 300_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
