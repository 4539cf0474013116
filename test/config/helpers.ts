import { cp, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import type { ConfigIssue } from '../../src/config/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));

const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** a fresh working directory holding the given files (name -> text, or a fixture name to copy) */
export async function workdir(files: Record<string, string | { fixture: string }> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-config-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const target = path.join(dir, name);
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof content === 'string') await writeFile(target, content);
    else await cp(path.join(FIXTURES, content.fixture), target);
  }
  return dir;
}

/** the ConfigError a promise rejects with */
export async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** asserts an issue with this file and path whose message contains every fragment */
export function expectIssue(error: ConfigError, file: string, issuePath: string, ...fragments: string[]): ConfigIssue {
  const candidates = error.issues.filter((i) => i.file === file && i.path === issuePath);
  expect(candidates, `no issue at ${file}: ${issuePath} among\n${error.message}`).not.toHaveLength(0);
  const hit = candidates.find((i) => fragments.every((f) => i.message.includes(f)));
  expect(hit, `no issue at ${file}: ${issuePath} saying ${fragments.join(' … ')} in\n${error.message}`).toBeDefined();
  expect(error.message).toContain(issuePath === '' ? `${file}: ` : `${file}: ${issuePath}: `);
  return hit!;
}
