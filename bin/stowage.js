#!/usr/bin/env node
// The stowage command. The code lives in dist/ (built by `npm run build`, which `npm ci` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    `stowage: ${fileURLToPath(main)} is missing: stowage has not been built.\n` +
      `Run "npm run build" (or "npm ci", which builds it) in ${fileURLToPath(new URL('..', import.meta.url))}.\n`,
  );
  process.exit(1);
}
const { run } = await import(main.href);
await run(process.argv);
