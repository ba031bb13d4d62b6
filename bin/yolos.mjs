#!/usr/bin/env node
// `npx yolos …`. From the installed package: the compiled CLI in dist/ (plain Node, no TypeScript loader).
// In a checkout, where the TypeScript sources sit beside this file and tsx is installed, the sources run
// directly, so an edit needs no rebuild.
import { existsSync } from 'node:fs';

// `yolos detect … | head`: a closed pipe ends the program quietly, as Unix tools do
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    else throw e;
  });
}

const sources = new URL('../yolos/cli.ts', import.meta.url);
let cli;
if (existsSync(sources)) {
  let register = null;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    // a checkout without devDependencies: fall back to the build
  }
  if (register) {
    register();
    cli = await import(sources.href);
  }
}
cli ??= await import('../dist/yolos/cli.js');
process.exitCode = await cli.main(process.argv.slice(2));
