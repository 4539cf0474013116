#!/usr/bin/env node
// Records what was built into dist/build-info.json: the package version and the git commit of the checkout
// (with "dirty" when tracked files differ from it), so that `stowage --version` of an installed package,
// which has no .git, still names the commit it was built from. Run by `npm run build` (and so by `npm ci`
// and `npm pack`). Outside a git checkout (a build from the npm tarball) the file already shipped is kept.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const target = new URL('dist/build-info.json', root);
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

let commit;
let dirty = false;
try {
  commit = git('rev-parse', 'HEAD');
  dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
} catch {
  if (existsSync(target)) process.exit(0);
}
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
mkdirSync(new URL('dist/', root), { recursive: true });
// written aside and renamed, so that a reader (tests run in parallel) never sees half a file
const aside = new URL(`dist/build-info.json.${process.pid}`, root);
writeFileSync(aside, `${JSON.stringify({ version, commit: commit ?? null, dirty }, null, 2)}\n`);
renameSync(aside, target);
