/**
 * Loading a model the Hugging Face Hub way, in Node and in browsers: `<endpoint>/<id>/resolve/<revision>/<file>`
 * for `config.json` and `model.safetensors` (fetch follows the Hub's redirects to its CDN), or a folder URL
 * holding both files. Downloads report progress, honour an AbortSignal, and are cached only once complete,
 * so an interrupted or failed download never leaves a corrupt entry.
 *
 * Caches: browsers use the Cache API (`caches`, origin-scoped); Node registers a folder cache and reads the
 * Hugging Face cache Python users already have (`hub-node.ts`). `cache: false` bypasses both; `offline: true`
 * (or HF_HUB_OFFLINE=1 in Node) uses only what is cached and says where it looked.
 *
 * @example const files = await fetchPretrained('hustvl/yolos-tiny', { onProgress: (p) => console.log(p) });
 */

/** The files of a model, as bytes, and where they came from. */
export interface PretrainedFiles {
  config: Uint8Array;
  weights: Uint8Array;
  /** Where each file was read from: a URL, `cache:<key>` or a path. */
  sources: { config: string; weights: string };
}

export interface DownloadProgress {
  file: string;
  url: string;
  loaded: number;
  /** From Content-Length; undefined when the server did not send it. */
  total: number | undefined;
}

export interface PretrainedOptions {
  /** Branch, tag or commit (default 'main'). */
  revision?: string;
  /** The Hub's address (default https://huggingface.co; Node: $HF_ENDPOINT). */
  endpoint?: string;
  /** true (default): the platform's cache; false: always download; or your own store. */
  cache?: boolean | ModelStore;
  /** Only the cache (and, in Node, local folders and the Hugging Face cache); no network. */
  offline?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** A place downloaded files are kept, keyed by their resolved URL. `put` must store all bytes or nothing. */
export interface ModelStore {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Where `key` lives, for messages. */
  describe(key: string): string;
}

/** What a platform adds: local model folders/caches (Node) and its default store. */
export interface HubPlatform {
  /** Files of a local model for `idOrPath` (a folder, or the Hugging Face cache), or null. */
  local?(
    idOrPath: string,
    revision: string,
    useCaches: boolean,
  ): Promise<{ config: Uint8Array; weights: Uint8Array; where: string } | null>;
  defaultStore?(): ModelStore | null;
  env?(name: string): string | undefined;
}

let platform: HubPlatform = {};

/** Installs Node's folder cache and local lookups (hub-node.ts does, from the Node entry). */
export function setHubPlatform(p: HubPlatform): void {
  platform = p;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
export const MODEL_FILES = { config: 'config.json', weights: 'model.safetensors' } as const;

/** The browser's Cache API store (origin-scoped, survives reloads); null where there is none. */
export function cacheApiStore(name = 'yolos-webgpu-models'): ModelStore | null {
  const caches = (globalThis as { caches?: CacheStorage }).caches;
  if (!caches) return null;
  return {
    async get(key) {
      const hit = await (await caches.open(name)).match(key);
      return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
    },
    async put(key, bytes) {
      // one put of a complete body: the entry appears whole or not at all
      await (await caches.open(name)).put(
        key,
        new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.byteLength) } }),
      );
    },
    describe: (key) => `Cache API '${name}' entry ${key}`,
  };
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The URL of `file` for a Hub id or a folder URL. */
export function resolveUrl(idOrUrl: string, file: string, revision = 'main', endpoint = DEFAULT_ENDPOINT): string {
  if (isUrl(idOrUrl)) return new URL(file, idOrUrl.endsWith('/') ? idOrUrl : `${idOrUrl}/`).href;
  if (!HUB_ID.test(idOrUrl) || idOrUrl.includes('..')) {
    throw new Error(`fromPretrained: '${idOrUrl}' is neither a Hub model id ('org/name') nor an http(s) URL`);
  }
  return `${endpoint.replace(/\/+$/, '')}/${idOrUrl}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** Downloads `url` to bytes, reporting progress; errors name the URL. */
export async function download(url: string, file: string, opts: PretrainedOptions = {}): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch;
  if (!f) throw new Error(`fromPretrained: no fetch() in this environment to download ${url}`);
  let res: Response;
  try {
    res = await f(url, { redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw abortError(url);
    throw new Error(
      `fromPretrained: cannot fetch ${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`,
    );
  }
  if (!res.ok) {
    const hint =
      res.status === 404
        ? ' (no such model, revision or file)'
        : res.status === 401 || res.status === 403
          ? ' (gated or private: not supported without a token)'
          : '';
    throw new Error(`fromPretrained: GET ${url} → ${res.status} ${res.statusText}${hint}`);
  }
  const len = res.headers.get('content-length');
  const total = len !== null && /^\d+$/.test(len) ? Number(len) : undefined;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    opts.onProgress?.({ file, url, loaded: bytes.byteLength, total });
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  opts.onProgress?.({ file, url, loaded, total });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.byteLength;
      opts.onProgress?.({ file, url, loaded, total });
    }
  } catch (e) {
    if (opts.signal?.aborted || (e as Error).name === 'AbortError') throw abortError(url);
    throw new Error(`fromPretrained: download of ${url} broke off after ${loaded} bytes: ${(e as Error).message}`);
  }
  if (total !== undefined && loaded !== total) {
    throw new Error(`fromPretrained: download of ${url} ended after ${loaded} of ${total} bytes`);
  }
  const out = new Uint8Array(loaded);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

function abortError(url: string): Error {
  const e = new Error(`fromPretrained: download of ${url} was aborted`);
  e.name = 'AbortError';
  return e;
}

/**
 * config.json and model.safetensors of `idOrUrl` (a Hub id, a folder URL, or in Node a local folder),
 * from the cache when there, else downloaded and then cached.
 */
export async function fetchPretrained(idOrUrl: string, opts: PretrainedOptions = {}): Promise<PretrainedFiles> {
  const revision = opts.revision ?? 'main';
  const offline = opts.offline ?? platform.env?.('HF_HUB_OFFLINE') === '1';
  if (opts.signal?.aborted) throw abortError(idOrUrl);
  const local = await platform.local?.(idOrUrl, revision, opts.cache !== false);
  if (local) return { config: local.config, weights: local.weights, sources: { config: local.where, weights: local.where } };
  const endpoint = opts.endpoint ?? platform.env?.('HF_ENDPOINT') ?? DEFAULT_ENDPOINT;
  const store = opts.cache === false ? null : typeof opts.cache === 'object' ? opts.cache : (platform.defaultStore?.() ?? cacheApiStore());
  const one = async (file: string): Promise<[Uint8Array, string]> => {
    const url = resolveUrl(idOrUrl, file, revision, endpoint);
    const hit = store ? await store.get(url) : null;
    if (hit) return [hit, store!.describe(url)];
    if (offline)
      throw new Error(
        `fromPretrained: offline and ${file} of '${idOrUrl}' (revision ${revision}) is not cached${store ? ` (looked for ${store.describe(url)})` : ''}`,
      );
    const bytes = await download(url, file, opts);
    if (store) await store.put(url, bytes);
    return [bytes, url];
  };
  const [config, configFrom] = await one(MODEL_FILES.config);
  const [weights, weightsFrom] = await one(MODEL_FILES.weights);
  return { config, weights, sources: { config: configFrom, weights: weightsFrom } };
}
