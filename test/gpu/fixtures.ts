/** Reads a test fixture in either runtime: fs in Node, fetch (served by Vite) in the browser. */
export const isBrowser = typeof window !== 'undefined' && typeof document !== 'undefined';

export async function loadFixture(relativeToTestGpu: string): Promise<Uint8Array> {
  const url = new URL(relativeToTestGpu, import.meta.url);
  if (isBrowser) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`fixture ${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  const fsName = 'node:fs/promises';
  const urlName = 'node:url';
  const fs = await import(/* @vite-ignore */ fsName);
  const { fileURLToPath } = await import(/* @vite-ignore */ urlName);
  return new Uint8Array(await fs.readFile(fileURLToPath(url)));
}
