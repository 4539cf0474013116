/**
 * `stowage serve` with a plain configuration does not load the packages only other configurations or
 * commands use: each costs resident memory in every serving process (docs/bench.md, Memory). Checked in a
 * node process of its own that runs the built command and then lists the CommonJS modules it loaded.
 * Needs the build (`npm run build`), like the other process tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/stowage.js';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
let workdir: string;

beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-serve-modules-'));
});
afterAll(async () => {
  await rm(workdir, { recursive: true, force: true });
});

/** The packages (folder names under node_modules) a process running `serve` with `config` has loaded once it listens. */
async function packagesLoadedByServe(config: string): Promise<Set<string>> {
  const file = path.join(workdir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, config);
  const listing = `${file}.loaded.json`;
  const script = `
    import { writeFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const { run } = await import(${JSON.stringify(pathToFileURL(MAIN).href)});
    await run(['node', 'stowage', 'serve', '--config', ${JSON.stringify(file)}]);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    writeFileSync(${JSON.stringify(listing)}, JSON.stringify(loaded));
    process.exit(0);
  `;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } });
  const names = (JSON.parse(await readFile(listing, 'utf8')) as string[]).flatMap((loaded) => {
    const match = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/][^]*$/.exec(loaded.slice(loaded.lastIndexOf('node_modules') - 1));
    return match ? [match[1]!.replace('\\', '/')] : [];
  });
  return new Set(names);
}

describe('what a serving process loads', () => {
  it.runIf(existsSync(MAIN))('leaves out the packages of upstreams, notifications, text logs, redis, mail, PostgreSQL, metrics and progress bars', async () => {
    const storage = path.join(workdir, 'storage');
    const loaded = await packagesLoadedByServe(`version: 0.1\nlog: { level: error }\nhttp: { addr: 127.0.0.1:0 }\nstorage:\n  filesystem: { rootdirectory: ${JSON.stringify(storage)} }\n`);
    // the listing sees the CommonJS packages serve does need
    expect(loaded).toContain('pino');
    for (const unused of ['undici', 'pino-pretty', 'cli-progress', 'ioredis', 'nodemailer', 'pg', 'prom-client']) expect(loaded).not.toContain(unused);
  });

  it.runIf(existsSync(MAIN))('loads pino-pretty when the logs are text', async () => {
    const storage = path.join(workdir, 'storage-text');
    const loaded = await packagesLoadedByServe(`version: 0.1\nlog: { level: error, formatter: text }\nhttp: { addr: 127.0.0.1:0 }\nstorage:\n  filesystem: { rootdirectory: ${JSON.stringify(storage)} }\n`);
    expect(loaded).toContain('pino-pretty');
  });
});
