/** `yolos --version`: the version in the package.json of yolos-webgpu, found from this file upward (sources or dist/). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'yolos-webgpu' && pkg.version) return pkg.version;
    } catch {
      // no package.json here (or not JSON): keep walking up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`yolos --version: no package.json named yolos-webgpu above ${fileURLToPath(from)}`);
    dir = up;
  }
}
