/**
 * Packs the package as `npm publish` would (`npm pack`: prepack builds dist/) and installs the tarball,
 * with production dependencies only, into throw-away consumer projects — what a new user gets.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

/** Runs a command, returning stdout; on failure the error carries the command's output. */
export function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${x.message}\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}

/** `npm pack` into a fresh folder; returns the tarball's path. */
export function pack(): string {
  const dir = mkdtempSync(join(tmpdir(), 'yolos-pack-'));
  sh('npm', ['pack', '--pack-destination', dir, '--silent'], REPO);
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack left no tarball in ${dir}`);
  return join(dir, tgz);
}

/** Lists the files a tarball holds (paths inside `package/`). */
export function tarballFiles(tgz: string): string[] {
  return sh('tar', ['-tzf', tgz], REPO)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}

/**
 * A consumer project in a new folder: `package.json` with `extra` fields, then
 * `npm install <tarball> --omit=dev` (plus `devDeps`, installed the ordinary way from the registry/cache).
 */
export function consumer(name: string, tgz: string, devDeps: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), `yolos-consumer-${name}-`));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  const npm = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  sh('npm', ['install', tgz, '--omit=dev', ...npm], dir);
  if (devDeps.length) sh('npm', ['install', '--save-dev', ...devDeps, ...npm], dir);
  return dir;
}
