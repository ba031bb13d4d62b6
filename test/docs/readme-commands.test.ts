/**
 * Every command line the README shows (```sh lines starting `npx yolos`, `npm run`, `npm start`),
 * read from README.md at run time, runs as written — in a scratch folder that mirrors the repository,
 * so runs/ and out/ land there. Long ones (training) are started as written, left to make progress,
 * stopped with SIGTERM to their process group (what Ctrl-C, systemd and `kill -- -PGID` do) and
 * checked for a checkpoint; the README's `--resume` line then continues that run the same way.
 * A line no rule below knows fails the test: a new README command needs a rule (run it, or say why not).
 */
import { it, expect } from 'vitest';
import { readFileSync, readdirSync, mkdtempSync, symlinkSync, copyFileSync, existsSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { shapesDataset } from '../../yolos/data/shapes.ts';

type Rule = { match: RegExp; skip: string } | { match: RegExp; run: 'once' | 'until-step'; needs?: string };
const RULES: Rule[] = [
  {
    match: /^npx yolos detect .*--model hustvl\//,
    skip: 'downloads from the Hugging Face Hub (no network here); test/hub/hub.test.ts runs `yolos detect --model <id>` against a local Hub fixture',
  },
  { match: /^npx yolos detect /, run: 'once' }, // with stand-ins for the downloaded files (below)
  { match: /^npx yolos --(version|help)$/, run: 'once' },
  { match: /^npx yolos train .*--data path\/to\/coco/, skip: 'needs a COCO 2017 folder (path/to/coco does not exist here)' },
  { match: /^npx yolos train /, run: 'until-step' },
  { match: /^npx yolos eval /, run: 'once' },
  { match: /^npm run train:shapes/, run: 'until-step' },
  { match: /^npm start\b/, skip: 'a 10-minute training then two evaluations; test/yolos/main.test.ts runs `npm start -- --quick`' },
  { match: /^npm run web(:build|:preview)?\b/, skip: 'the web pages: test/e2e builds them with Vite and serves them' },
  { match: /^npm run kernel\b.*\[/, skip: 'a template: the [--flags] in brackets are optional parts, not literal arguments' },
  { match: /^npm run( -s)? kernel\b.*--wgsl my-softmax\.wgsl/, run: 'once', needs: 'my-softmax.wgsl' },
  { match: /^npm run( -s)? kernel\b/, run: 'once' },
  {
    match: /^npm run bench\b/,
    skip: 'the kernel and assignment benchmarks: minutes on a software adapter, results written into bench/results/',
  },
];

/** The README's command lines, in order, without trailing comments. */
function readmeCommands(): string[] {
  const blocks = readFileSync('README.md', 'utf8')
    .split(/^```sh\n/m)
    .slice(1)
    .map((b) => b.split(/^```/m)[0]);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^(npx yolos|npm run|npm start)\b/.test(l));
}

/** A scratch folder that looks like the repository (symlinks) without its runs/ and out/. */
function scratchRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'yolos-readme-'));
  for (const name of readdirSync('.'))
    if (!['runs', 'out', 'dist', 'test-results', '.git'].includes(name)) symlinkSync(resolve(name), join(dir, name));
  return dir;
}

/** The step stored in a checkpoint's metadata (read from the safetensors header; no GPU needed). */
function checkpointStep(path: string): number {
  const fd = openSync(path, 'r');
  const len = Buffer.alloc(8);
  readSync(fd, len, 0, 8, 0);
  const header = Buffer.alloc(Number(len.readBigUInt64LE()));
  readSync(fd, header, 0, header.length, 8);
  closeSync(fd);
  return JSON.parse(JSON.parse(header.toString('utf8')).__metadata__['yolos.checkpoint']).step;
}

/** Runs `line` with bash in `cwd`; with `stopAt`, sends SIGTERM to its process group once stderr shows that step. */
function sh(
  line: string,
  cwd: string,
  stopAt?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn('bash', ['-c', line], {
      cwd,
      detached: true,
      env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    });
    let out = '',
      err = '',
      sent = false;
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
      const m = [...err.matchAll(/step (\d+)\//g)].pop();
      if (stopAt !== undefined && !sent && m && Number(m[1]) >= stopAt) {
        sent = true;
        process.kill(-child.pid!, 'SIGTERM');
      }
    });
    child.on('close', (code, signal) => done({ code, signal, out, err })); // after every process holding its stdio (the trainer too) is gone
  });
}

it('every README command runs as written (or is skipped with its reason)', async () => {
  const cwd = scratchRepo();
  // Stand-ins for the files the README downloads from the Hub (curl) and the user's photos.
  copyFileSync('models/shapes-nano16.safetensors', join(cwd, 'model.safetensors'));
  copyFileSync('models/config.json', join(cwd, 'config.json'));
  const ds = shapesDataset({ seed: 7, count: 2, size: 64 });
  const rgb = (i: number) =>
    Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, k) => Math.round(ds.get(i).image[(k % 3) * 4096 + Math.floor(k / 3)] * 255)));
  await sharp(rgb(0), { raw: { width: 64, height: 64, channels: 3 } })
    .jpeg()
    .toFile(join(cwd, 'cats.jpg'));
  await sharp(rgb(1), { raw: { width: 64, height: 64, channels: 3 } })
    .png()
    .toFile(join(cwd, 'street.png'));

  const commands = readmeCommands();
  expect(commands.some((c) => c.startsWith('npx yolos train --resume'))).toBe(true);
  const report: string[] = [];
  let lastCheckpoint: { path: string; step: number } | null = null;
  for (const line of commands) {
    const rule = RULES.find((r) => r.match.test(line));
    expect(rule, `README command with no rule in ${import.meta.filename}: ${line}`).toBeDefined();
    if ('skip' in rule!) {
      report.push(`skipped: ${line} — ${rule.skip}`);
      continue;
    }
    if (rule!.needs && !existsSync(join(cwd, rule!.needs))) {
      report.push(`skipped: ${line} — needs ${rule!.needs}, which an earlier (skipped) line writes`);
      continue;
    }
    const t0 = Date.now();
    if (rule!.run === 'once') {
      const r = await sh(line, cwd);
      expect(r.code, `${line}\n${r.err.slice(-2000)}`).toBe(0);
      if (line.includes(' eval ')) expect(r.out).toMatch(/Average Precision {2}\(AP\) @\[ IoU=0.50:0.95/);
      if (line.includes(' detect ')) expect(r.err).toMatch(/cats\.jpg: \d+ detection\(s\) → out\/detect\/cats\.png/);
    } else {
      const out = /--out (\S+)/.exec(line)?.[1] ?? 'runs/shapes-nano16';
      const path = join(cwd, out, 'checkpoint.safetensors');
      const resuming = /--resume/.test(line);
      const before = resuming && lastCheckpoint?.path === path ? lastCheckpoint.step : 0;
      const r = await sh(line, cwd, before + 12); // past a metrics.jsonl line (every 10 steps)
      // npx/npm die of the SIGTERM (they do not wait for their child); the trainer saves, reports and exits with 143
      expect(r.code === 143 || r.signal === 'SIGTERM', `${line}: exit ${r.code} ${r.signal}\n${r.err.slice(-2000)}`).toBe(true);
      expect(r.err).toMatch(/SIGTERM: stopping after this step and writing a checkpoint/);
      expect(r.out, r.err.slice(-2000)).toMatch(/(— stopped by SIGTERM; checkpoint|stopped at step \d+\/\d+; continue with)/);
      expect(existsSync(path), `${line}: ${path}`).toBe(true);
      const step = checkpointStep(path);
      expect(step, `${line}: checkpoint step`).toBeGreaterThanOrEqual(before + 12);
      if (resuming) {
        expect(before, `${line} continues the run the README started before it`).toBeGreaterThan(0);
        const logged = readFileSync(join(cwd, out, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).step as number);
        expect(logged.length).toBeGreaterThanOrEqual(2);
        expect(new Set(logged).size, 'metrics.jsonl repeats no step').toBe(logged.length);
      }
      lastCheckpoint = { path, step };
    }
    report.push(`ran: ${line} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  console.log(report.join('\n'));
}, 180_000);
