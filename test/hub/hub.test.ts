/** fromPretrained / createDetector against a local server in the Hub's layout, and the Node caches. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { PNG } from 'pngjs';
import { join } from 'node:path';
import { init, type Engine } from '../../engine/index.ts';
import {
  Yolos,
  createDetector,
  fetchPretrained,
  folderStore,
  huggingFaceSnapshot,
  parseConfig,
  type DownloadProgress,
} from '../../yolos/node.ts';
import { startHub, type HubServer } from './hub-server.ts';

const REPO = join(import.meta.dirname, '../..');
const weights = new Uint8Array(readFileSync(join(REPO, 'models/shapes-nano16.safetensors')));
const config = new Uint8Array(readFileSync(join(REPO, 'models/config.json')));
const files = { 'config.json': config, 'model.safetensors': weights };

let hub: HubServer;
let engine: Engine;
const tmp = () => mkdtempSync(join(tmpdir(), 'yolos-hub-'));

beforeAll(async () => {
  engine = await init();
  hub = await startHub({ 'test-org/nano16': { main: files, v1: files }, 'test-org/nano16-broken': { main: files } });
});
afterAll(async () => {
  await hub.close();
});

describe('fetchPretrained', () => {
  test('downloads through the redirect, reports progress, caches, then serves from the cache', async () => {
    const store = folderStore(tmp());
    const progress: DownloadProgress[] = [];
    const a = await fetchPretrained('test-org/nano16', { endpoint: hub.endpoint, cache: store, onProgress: (p) => progress.push(p) });
    expect(a.weights).toEqual(weights);
    expect(a.config).toEqual(config);
    const w = progress.filter((p) => p.file === 'model.safetensors');
    expect(w.length).toBeGreaterThan(2);
    expect(w.at(-1)).toMatchObject({ loaded: weights.byteLength, total: weights.byteLength });
    expect(w.every((p, i) => i === 0 || p.loaded >= w[i - 1]!.loaded)).toBe(true);
    const before = hub.log.length;
    const b = await fetchPretrained('test-org/nano16', { endpoint: hub.endpoint, cache: store, offline: true });
    expect(b.weights).toEqual(weights);
    expect(hub.log.length).toBe(before); // no request
    expect(b.sources.weights).toContain('test-org');
  });

  test('a revision is part of the URL; a missing model or revision is an error naming the URL', async () => {
    const v1 = await fetchPretrained('test-org/nano16', { endpoint: hub.endpoint, revision: 'v1', cache: false });
    expect(v1.weights).toEqual(weights);
    await expect(fetchPretrained('test-org/nope', { endpoint: hub.endpoint, cache: false })).rejects.toThrow(
      new RegExp(`GET ${hub.endpoint}/test-org/nope/resolve/main/config.json → 404`),
    );
    await expect(fetchPretrained('test-org/nano16', { endpoint: hub.endpoint, revision: 'v9', cache: false })).rejects.toThrow(
      /resolve\/v9\/config\.json → 404/,
    );
    await expect(fetchPretrained('not a model id!', { cache: false })).rejects.toThrow(/neither a Hub model id/);
  });

  test('an unreachable endpoint names the URL', async () => {
    await expect(fetchPretrained('test-org/nano16', { endpoint: 'http://127.0.0.1:1', cache: false })).rejects.toThrow(
      /cannot fetch http:\/\/127\.0\.0\.1:1\/test-org\/nano16\/resolve\/main\/config\.json/,
    );
  });

  test('a download that breaks off leaves no cache entry', async () => {
    const dir = tmp();
    await expect(fetchPretrained('test-org/nano16-broken', { endpoint: hub.endpoint, cache: folderStore(dir) })).rejects.toThrow(
      /model\.safetensors/,
    );
    const all = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(d, e.name)) : [e.name]));
    expect(all(dir).filter((f) => f.includes('model.safetensors'))).toEqual([]);
  });

  test('AbortSignal stops a download and caches nothing', async () => {
    const dir = tmp();
    const ctl = new AbortController();
    const p = fetchPretrained('test-org/nano16', {
      endpoint: hub.endpoint,
      cache: folderStore(dir),
      signal: ctl.signal,
      onProgress: (x) => {
        if (x.file === 'model.safetensors' && x.loaded > 0) ctl.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expect(fetchPretrained('test-org/nano16', { endpoint: hub.endpoint, cache: folderStore(dir), offline: true })).rejects.toThrow(
      /offline and model\.safetensors .* not cached/,
    );
  });

  test('reads the Hugging Face cache layout Python users have (refs → snapshots), offline', async () => {
    const home = tmp();
    const repo = join(home, 'hub', 'models--hustvl--yolos-nano16');
    const commit = 'a'.repeat(40);
    mkdirSync(join(repo, 'refs'), { recursive: true });
    mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), commit);
    writeFileSync(join(repo, 'snapshots', commit, 'config.json'), config);
    writeFileSync(join(repo, 'snapshots', commit, 'model.safetensors'), weights);
    expect(await huggingFaceSnapshot('hustvl/yolos-nano16', 'main', join(home, 'hub'))).toBe(join(repo, 'snapshots', commit));
    const saved = process.env.HF_HOME;
    process.env.HF_HOME = home;
    try {
      const f = await fetchPretrained('hustvl/yolos-nano16', { offline: true });
      expect(f.weights).toEqual(weights);
      expect(f.sources.weights).toBe(join(repo, 'snapshots', commit));
      await expect(fetchPretrained('hustvl/other', { offline: true, cache: folderStore(tmp()) })).rejects.toThrow(/offline/);
    } finally {
      if (saved === undefined) delete process.env.HF_HOME;
      else process.env.HF_HOME = saved;
    }
  });

  test('a local folder works as a model id', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'config.json'), config);
    writeFileSync(join(dir, 'model.safetensors'), weights);
    expect((await fetchPretrained(dir, { cache: false })).weights).toEqual(weights);
    const empty = tmp();
    await expect(fetchPretrained(empty)).rejects.toThrow(new RegExp(`${empty} has no config\\.json and no model\\.safetensors`));
  });
});

describe('Yolos.fromPretrained and createDetector', () => {
  test('load the same weights as fromSafetensors and detect shapes', async () => {
    const store = folderStore(tmp());
    const model = await Yolos.fromPretrained('test-org/nano16', { endpoint: hub.endpoint, cache: store });
    const direct = Yolos.fromSafetensors(weights, parseConfig(new TextDecoder().decode(config)));
    for (const [name, t] of model.namedParameters()) {
      const other = direct.namedParameters().find(([n]) => n === name)![1];
      expect(await t.data(), name).toEqual(await other.data());
    }
    direct.dispose();
    const detector = await createDetector(model);
    const raw = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 4).fill(255) };
    const one = await detector(raw, { threshold: 0.0, topk: 3 });
    expect(one.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < one.length; i++) expect(one[i - 1]!.score).toBeGreaterThanOrEqual(one[i]!.score);
    const both = await detector([raw, raw], { threshold: 0.0, topk: 2 });
    expect(both).toHaveLength(2);
    expect(both[0]).toEqual(both[1]);
    expect(both[0]![0]).toMatchObject({ label: expect.stringMatching(/circle|square|triangle/), labelId: expect.any(Number) });
    const d0 = both[0]![0]!;
    expect(d0.bbox).toEqual([d0.box.xmin, d0.box.ymin, d0.box.xmax, d0.box.ymax]);
    detector.dispose();
    model.dispose();
    expect(engine.memory().tensors).toBeGreaterThanOrEqual(0);
  });

  test('createDetector from a Hub id, and errors for bad thresholds and inputs', async () => {
    const detector = await createDetector('test-org/nano16', { endpoint: hub.endpoint, cache: false });
    await expect(detector({ width: 4, height: 4, data: new Uint8Array(10) })).rejects.toThrow(/expected|short|length/i);
    await expect(detector({ width: 4, height: 4, data: new Uint8Array(64) }, { threshold: 2 })).rejects.toThrow(/threshold/);
    detector.dispose();
    await expect(detector({ width: 4, height: 4, data: new Uint8Array(64) })).rejects.toThrow(/after dispose/);
  });
});

/** Runs the CLI without blocking this process (the fixture Hub is served from it). */
function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/yolos.mjs'), ...args], { cwd, env });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('yolos detect --model <hub id>', () => {
  test('downloads through fromPretrained into the cache, then detects offline from it', async () => {
    const dir = tmp();
    const png = new PNG({ width: 64, height: 64 });
    png.data.fill(255);
    writeFileSync(join(dir, 'white.png'), PNG.sync.write(png));
    const env = { ...process.env, HF_ENDPOINT: hub.endpoint, YOLOS_CACHE: join(dir, 'cache') };
    const run = (...extra: string[]) =>
      cli(['detect', 'white.png', '--model', 'test-org/nano16', '--threshold', '0', '--out', 'out', ...extra], dir, env);
    const first = await run();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/model\.safetensors: .*MiB/);
    expect(first.stdout.trim().split('\n').length).toBeGreaterThan(0);
    const requests = hub.log.length;
    const second = await run('--offline');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(hub.log.length).toBe(requests);
    const missing = await cli(['detect', 'white.png', '--model', 'test-org/none'], dir, env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/test-org\/none\/resolve\/main\/config\.json → 404/);
  });
});
