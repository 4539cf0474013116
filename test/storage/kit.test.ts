import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface AssertionResult {
  ancestorTitles: string[];
  title: string;
  status: string;
}

const projectRoot = new URL('../..', import.meta.url).pathname;
const workDir = mkdtempSync(join(tmpdir(), 'stowage-kit-self-test-'));
/** failing test ids, per broken driver */
const failures = new Map<string, string[]>();

beforeAll(() => {
  const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '..', 'vitest.mjs');
  const report = join(workDir, 'report.json');
  // The compiled-filesystem fixture runs dist/testing against plugins/filesystem/dist: build them (incremental).
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', 'plugins/filesystem'], { cwd: projectRoot, encoding: 'utf8', timeout: 170_000 });
  expect(build.status, build.stdout + build.stderr).toBe(0);
  spawnSync(
    process.execPath,
    [vitest, 'run', '--config', 'test/storage/fixtures/vitest.kit.config.ts', '--reporter=json', `--outputFile=${report}`],
    { cwd: projectRoot, encoding: 'utf8', timeout: 170_000, env: { ...process.env, STOWAGE_KIT_PROFILE: 'quick' } },
  );
  const results = JSON.parse(readFileSync(report, 'utf8')) as { testResults: Array<{ assertionResults: AssertionResult[] }> };
  for (const test of results.testResults.flatMap((file) => file.assertionResults)) {
    const driver = test.ancestorTitles[0]!.split(' ')[0]!;
    const id = /\[(\w+)\]$/.exec(test.title)?.[1] ?? test.title;
    if (!failures.has(driver)) failures.set(driver, []);
    if (test.status === 'failed') failures.get(driver)!.push(id);
  }
}, 180_000);

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('the conformance kit', () => {
  it('passes a correct driver in every test', () => {
    expect(failures.get('none')).toEqual([]);
  });

  it('runs compiled, as `stowage/testing` from dist, against a compiled plugin', () => {
    expect(failures.get('compiled-filesystem')).toEqual([]);
  });

  it('catches a delete that removes every path sharing the prefix (/a taking /ab with it)', () => {
    expect(failures.get('prefix-delete')).toContain('DeleteOnlyDeletesSubpaths');
  });

  it('catches a reader that ignores its offset', () => {
    expect(failures.get('offset-ignored')).toEqual(expect.arrayContaining(['ReaderWithOffset', 'ByteRanges', 'ConcurrentStreamReads']));
  });

  it('catches a writer that does not resume in append mode', () => {
    expect(failures.get('append-restarts')).toEqual(
      expect.arrayContaining(['ContinueStreamAppendLarge', 'ContinueStreamAppendSmall', 'UncommittedInvisible']),
    );
  });

  it('catches a listing that returns more than the direct children', () => {
    expect(failures.get('list-recursive')).toEqual(expect.arrayContaining(['List', 'ListSubdirectories']));
  });

  it('catches a writer that keeps the caller’s buffer after write() resolved', () => {
    expect(failures.get('keeps-chunk-reference')).toContain('WriteReadLargeStreams');
  });

  it('follows a redirect URL with GET and HEAD and accepts one that serves the object', () => {
    expect(failures.get('redirect-correct')).toEqual([]);
  });

  it('catches a redirect URL that serves fewer bytes than the object has', () => {
    expect(failures.get('redirect-short-body')).toEqual(['RedirectURL']);
  });

  it('catches a delete that leaves data behind, through the empty-root check after each test', () => {
    expect(failures.get('delete-leaves-data')).toEqual(expect.arrayContaining(['WriteRead1', 'Truncate', 'Delete']));
  });
});
