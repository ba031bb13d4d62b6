#!/usr/bin/env node
// `npx yolos …`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../yolos/cli.ts');
