import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../plugins/helpers.js';
import { ensureBuilt, runCli, serveCli } from './helpers.js';

describe('settings stowage cannot honour', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('refusals');
  });
  afterAll(() => work.remove());

  it('serve and config check refuse a security setting stowage does not implement: exit 1, the key named, nothing listening', async () => {
    const file = path.join(work.dir, 'secured.yaml');
    await writeFile(file, 'version: 0.1\nhttp:\n  addr: 127.0.0.1:0\nvalidation:\n  manifests:\n    urls:\n      deny: ["^https?://"]\nstorage: inmemory\n');
    const serve = await runCli(['serve', '--config', file], { cwd: work.dir });
    expect(serve.code).toBe(1);
    expect(serve.stdout).not.toContain('listening');
    expect(serve.stderr).toContain(`${file}: validation.manifests.urls: stowage does not implement`);
    const check = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`${file}: validation.manifests.urls`);
    expect(check.stdout).not.toContain('configuration OK');
  });

  it('serve logs every other ignored setting at warn when it starts, not only config check', async () => {
    const file = path.join(work.dir, 'ignored.yaml');
    await writeFile(file, 'version: 0.1\nhttp:\n  addr: 127.0.0.1:0\nlog:\n  level: info\nstorage: inmemory\nmiddleware:\n  registry: []\nredis:\n  addr: localhost:6379\n');
    const serving = await serveCli(['--config', file], { cwd: work.dir });
    await serving.stop();
    const warnings = serving
      .output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; key?: string; msg: string })
      .filter((entry) => entry.level === 40);
    expect(warnings.map((entry) => entry.key).sort()).toEqual(['middleware', 'redis']);
    expect(warnings[0]?.msg).toContain('accepted but ignored');
  });
});
