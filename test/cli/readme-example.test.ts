/**
 * The README's first example, taken from README.md at test time and written out verbatim, is a complete
 * config: `stowage config check` accepts it as it stands, and `stowage serve` stores into UFile with it (the
 * UFile emulator standing in for UCloud, reached through distribution's REGISTRY_STORAGE_* overrides of
 * the bucket URL, which is all that differs between the operator's machine and this one).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../plugins/helpers.js';
import { startUFileEmulator, type UFileEmulator } from '../ufile/emulator.js';
import { ensureBuilt, ROOT, runCli, serveCli } from './helpers.js';

/** the first ```yaml block of README.md, exactly as written */
function readmeFirstYamlBlock(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const match = /```yaml\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md has no ```yaml block');
  return match[1]!;
}

interface UFileExample {
  storage: { ufile: { baseurl: string; publickey: string; privatekey: string } };
}

describe("the README's first example", () => {
  const example = readmeFirstYamlBlock();
  const parsed = parseYaml(example) as UFileExample;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let emulator: UFileEmulator;

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('readme');
    await writeFile(path.join(work.dir, 'stowage.config.yaml'), example);
  });
  afterAll(async () => {
    await emulator?.close();
    await work?.remove();
  });

  it('names the ufile driver with every option it requires, and passes config check as written', async () => {
    expect(example).toContain('ufile');
    const check = await runCli(['config', 'check'], { cwd: work.dir });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`configuration OK: ${path.join(work.dir, 'stowage.config.yaml')}`);
    expect(check.stdout).toContain('storage driver: ufile');
    expect(check.stdout).not.toContain(parsed.storage.ufile.privatekey);
  });

  it('serves a push into the bucket when the bucket URL answers', async () => {
    const bucket = new URL(parsed.storage.ufile.baseurl).hostname.split('.')[0]!;
    emulator = await startUFileEmulator({ buckets: [bucket], publicKey: parsed.storage.ufile.publickey, privateKey: parsed.storage.ufile.privatekey });
    const serving = await serveCli([], {
      cwd: work.dir,
      env: { REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_STORAGE_UFILE_BASEURL: emulator.url, REGISTRY_STORAGE_UFILE_BUCKET: bucket },
    });
    try {
      const blob = Buffer.from(`a layer pushed through the README's config ${Date.now()}`);
      const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      const pushed = await fetch(`${serving.url}/v2/readme/example/blobs/uploads/?digest=${digest}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: blob,
      });
      expect(pushed.status).toBe(201);
      const stored = [...emulator.bucket(bucket).values()].some((object) => object.data.equals(blob));
      expect(stored).toBe(true);
      const pulled = await fetch(`${serving.url}/v2/readme/example/blobs/${digest}`);
      expect(Buffer.from(await pulled.arrayBuffer()).equals(blob)).toBe(true);
    } finally {
      await serving.stop();
    }
  });
});
