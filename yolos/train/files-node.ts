/**
 * Files the trainer and the CLI write: atomically (temp file beside the target, fsync, rename), so a
 * signal, a crash or a full disk leaves either the old file or the new one, never half of one.
 * Temp files are named `<target>.tmp-<pid>`; `removeStaleTemps` deletes those of dead processes.
 */
import { open, rename, unlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const TEMP = /\.tmp-(\d+)$/;

/** "no space left on device (ENOSPC)" for a Node error, else its message. */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'no such file or directory',
    EROFS: 'read-only file system',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  return err.code && reasons[err.code] ? `${reasons[err.code]} (${err.code})` : (err.message ?? String(e));
}

/**
 * Writes `bytes` (or text) to `path` atomically; an error names the file and the reason.
 * @example await writeAtomic('runs/x/config.json', '{}\n');
 */
export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw new Error(`cannot write '${path}': ${describeFsError(e)}`);
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // ours are never in flight when this runs
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes the `*.tmp-<pid>` files in `dir` whose process is gone (left by SIGKILL or a power cut); returns their names. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const m = TEMP.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  await Promise.all(stale.map((n) => unlink(join(dir, n)).catch(() => {})));
  return stale;
}
