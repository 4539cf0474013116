/**
 * The `stowage` command is bin/stowage, a shell wrapper that sets options only the environment can give
 * (MALLOC_ARENA_MAX, V8's --max-semi-space-size, libuv's UV_THREADPOOL_SIZE) and execs node on bin/stowage.js. Started through it,
 * stowage must behave exactly as `node bin/stowage.js` does: the same arguments, output and exit code, one
 * process whose pid is node's (so SIGTERM from systemd or docker reaches node), and an operator's own
 * settings left as they are.
 */
import { readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../plugins/helpers.js';
import { ensureBuilt, ROOT, runCli, serveCli, STOWAGE_BIN } from './helpers.js';

const WRAPPER = path.join(ROOT, 'bin', 'stowage');

/** a process's environment as the kernel holds it */
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

function commandLineOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

describe('the stowage command (bin/stowage)', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  /** a folder whose name a shell would split and expand, holding a valid config */
  let awkward: string;

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('bin-wrapper');
    awkward = path.join(work.dir, `it's a "dir" with $HOME and *`);
    await mkdir(awkward);
    await writeFile(path.join(awkward, 'c  2.yaml'), 'http:\n  addr: 127.0.0.1:0\nstorage: inmemory\n');
  });
  afterAll(() => work?.remove());

  it('passes arguments, output and exit codes through unchanged', async () => {
    const cases: string[][] = [
      ['--version'],
      ['config', 'check', '--config', path.join(awkward, 'c  2.yaml')],
      ['config', 'check', '--config', path.join(awkward, 'missing.yaml')],
      ['no-such-command', '*', ''],
    ];
    const codes = new Set<number | null>();
    for (const args of cases) {
      const direct = await runCli(args, { cwd: awkward, bin: STOWAGE_BIN });
      const wrapped = await runCli(args, { cwd: awkward, bin: WRAPPER });
      expect({ args, ...wrapped }).toEqual({ args, ...direct });
      codes.add(direct.code);
    }
    // the cases hold both a success and a failure, so equal codes mean something
    expect(codes.has(0)).toBe(true);
    expect([...codes].some((code) => code !== 0)).toBe(true);
  });

  it('works through symbolic links as npm makes them, relative and absolute', async () => {
    const bin = path.join(work.dir, 'node_modules', '.bin');
    await mkdir(bin, { recursive: true });
    await symlink(path.relative(bin, WRAPPER), path.join(bin, 'stowage'));
    const global = path.join(work.dir, 'global-bin');
    await mkdir(global);
    await symlink(path.join(bin, 'stowage'), path.join(global, 'stowage'));
    const direct = await runCli(['--version'], { cwd: work.dir, bin: STOWAGE_BIN });
    expect(direct.code).toBe(0);
    for (const link of [path.join(bin, 'stowage'), path.join(global, 'stowage')]) {
      expect(await runCli(['--version'], { cwd: work.dir, bin: link })).toEqual(direct);
    }
  });

  it('becomes node itself, with the memory options set, and SIGTERM to its pid stops stowage cleanly', async () => {
    const env = { MALLOC_ARENA_MAX: undefined, NODE_OPTIONS: undefined, UV_THREADPOOL_SIZE: undefined };
    const serving = await serveCli(['--config', path.join(awkward, 'c  2.yaml')], { cwd: awkward, env, bin: WRAPPER });
    try {
      const pid = serving.child.pid!;
      // no shell left in between: the started pid runs node on bin/stowage.js with the arguments as given
      expect(commandLineOf(pid).slice(-4)).toEqual([STOWAGE_BIN, 'serve', '--config', path.join(awkward, 'c  2.yaml')]);
      expect(path.basename(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())).toBe('node');
      const environ = environOf(pid);
      expect(environ.get('MALLOC_ARENA_MAX')).toBe('2');
      expect(environ.get('NODE_OPTIONS')).toBe('--max-semi-space-size=4');
      expect(environ.get('UV_THREADPOOL_SIZE')).toBe('16');
      expect((await fetch(`${serving.url}/v2/`)).status).toBe(200);
    } finally {
      expect(await serving.stop('SIGTERM')).toBe(0);
    }
    expect(serving.output().stdout).toContain('stowage stopped');
  });

  it("keeps the operator's own settings", async () => {
    const env = { MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-old-space-size=300 --max-semi-space-size=8', UV_THREADPOOL_SIZE: '6' };
    const serving = await serveCli(['--config', path.join(awkward, 'c  2.yaml')], { cwd: awkward, env, bin: WRAPPER });
    try {
      const environ = environOf(serving.child.pid!);
      expect(environ.get('MALLOC_ARENA_MAX')).toBe('4');
      expect(environ.get('NODE_OPTIONS')).toBe('--max-old-space-size=300 --max-semi-space-size=8');
      expect(environ.get('UV_THREADPOOL_SIZE')).toBe('6');
    } finally {
      await serving.stop();
    }
  });

  it('adds the young generation limit to NODE_OPTIONS the operator set for something else', async () => {
    const serving = await serveCli(['--config', path.join(awkward, 'c  2.yaml')], { cwd: awkward, env: { NODE_OPTIONS: '--no-warnings' }, bin: WRAPPER });
    try {
      expect(environOf(serving.child.pid!).get('NODE_OPTIONS')).toBe('--max-semi-space-size=4 --no-warnings');
    } finally {
      await serving.stop();
    }
  });
});
