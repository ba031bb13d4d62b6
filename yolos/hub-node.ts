/**
 * Node's side of Hub loading (hub.ts): local model folders, the Hugging Face cache that Python users have
 * ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub: `models--<org>--<name>/refs/<revision>`
 * → `snapshots/<commit>/`), and a folder cache for downloads ($YOLOS_CACHE, else $XDG_CACHE_HOME/yolos-webgpu,
 * else ~/.cache/yolos-webgpu), written atomically (a temporary file renamed into place).
 */
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { MODEL_FILES, setHubPlatform, type ModelStore } from './hub.ts';

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function readIf(p: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(p));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`fromPretrained: cannot read ${p}: ${(e as Error).message}`);
  }
}

/** config.json + model.safetensors of a folder; an error naming the folder when one is missing. */
async function readModelFolder(dir: string): Promise<{ config: Uint8Array; weights: Uint8Array }> {
  const config = await readIf(join(dir, MODEL_FILES.config));
  const weights = await readIf(join(dir, MODEL_FILES.weights));
  const missing = [!config && MODEL_FILES.config, !weights && MODEL_FILES.weights].filter(Boolean);
  if (missing.length) throw new Error(`fromPretrained: the folder ${dir} has no ${missing.join(' and no ')}`);
  return { config: config!, weights: weights! };
}

export function huggingFaceCacheDir(env = process.env): string {
  return env.HF_HUB_CACHE ?? join(env.HF_HOME ?? join(homedir(), '.cache', 'huggingface'), 'hub');
}

export function yolosCacheDir(env = process.env): string {
  return env.YOLOS_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'yolos-webgpu');
}

/** The snapshot folder of `id` at `revision` in the Hugging Face cache, when it holds both files. */
export async function huggingFaceSnapshot(id: string, revision: string, cacheDir = huggingFaceCacheDir()): Promise<string | null> {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(id)) return null;
  const repo = join(cacheDir, `models--${id.replace('/', '--')}`);
  let commit = revision;
  if (!/^[0-9a-f]{40}$/.test(revision)) {
    const ref = await readIf(join(repo, 'refs', revision));
    if (!ref) return null;
    commit = new TextDecoder().decode(ref).trim();
  }
  const snap = join(repo, 'snapshots', commit);
  // existence only: the caller reads the files (a weights file read here too would be read twice)
  for (const f of Object.values(MODEL_FILES)) if (!(await isFile(join(snap, f)))) return null;
  return snap;
}

/** Downloads kept as files under `root`, one per URL (host/path), each written whole or not at all. */
export function folderStore(root = yolosCacheDir()): ModelStore {
  const pathOf = (key: string) => {
    const u = new URL(key);
    const parts = [u.host, ...u.pathname.split('/').filter(Boolean).map(decodeURIComponent)];
    if (parts.some((p) => p === '.' || p === '..' || p.includes('/') || p.includes('\\') || p.includes('\0'))) {
      throw new Error(`fromPretrained: cannot cache ${key} (unsafe path segment)`);
    }
    return join(root, ...parts);
  };
  return {
    get: (key) => readIf(pathOf(key)),
    async put(key, bytes) {
      const file = pathOf(key);
      const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(tmp, bytes);
        await rename(tmp, file);
      } catch (e) {
        await unlink(tmp).catch(() => {});
        throw new Error(`fromPretrained: cannot write the cache file ${file}: ${(e as Error).message}`);
      }
    },
    describe: (key) => pathOf(key),
  };
}

setHubPlatform({
  async local(idOrPath, revision, useCaches) {
    if (!/^https?:\/\//i.test(idOrPath) && (await isDir(idOrPath))) return { ...(await readModelFolder(idOrPath)), where: idOrPath };
    if (!useCaches) return null;
    const snap = await huggingFaceSnapshot(idOrPath, revision);
    return snap ? { ...(await readModelFolder(snap)), where: snap } : null;
  },
  defaultStore: () => folderStore(),
  env: (name) => process.env[name],
});
