/** The garbage-collect command's progress bar is for terminals: a pipe or a log file gets the summary alone. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, STOWAGE_BIN } from '../cli/helpers.js';
import { startStowageInProcess } from '../support/index.js';
import { pushScenario, StoreClient } from './store.js';

/** Runs a command under util-linux `script`, which gives it a pseudo-terminal; resolves with what the terminal showed. */
function underTerminal(args: readonly string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COLUMNS: '100' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('stowage garbage-collect progress', () => {
  let workdir: string;
  let configFile: string;

  beforeAll(async () => {
    await ensureBuilt();
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-progress-'));
    const root = path.join(workdir, 'store');
    const stowage = await startStowageInProcess({ rootdirectory: root });
    try {
      await pushScenario(new StoreClient(stowage.url));
    } finally {
      await stowage.close();
    }
    configFile = path.join(workdir, 'stowage.config.yaml');
    await writeFile(configFile, ['version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`, ''].join('\n'));
  }, 60_000);
  afterAll(async () => {
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('draws a bar per phase on a terminal, then prints the summary', async () => {
    const { code, output } = await underTerminal([STOWAGE_BIN, 'garbage-collect', '--dry-run', '--config', configFile], workdir);
    expect(code, output).toBe(0);
    expect(output).toMatch(/marking repositories\s+\[[█░]+\] 4\/4/);
    expect(output).toMatch(/sweeping\s+\[[█░]+\] \d+\/\d+/);
    expect(output).toMatch(/dry run: nothing was removed; 4 repositories, 0 manifests eligible for deletion, 4 blobs eligible for deletion/);
  });

  it('draws no bar when stderr is not a terminal', async () => {
    const result = await runCli(['garbage-collect', '--dry-run', '--config', configFile], { cwd: workdir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/\[[█░]+\]/);
    expect(result.stderr).toMatch(/^garbage collection on filesystem at .*\(dry run\)\n$/);
    expect(result.stdout).toMatch(/4 blobs eligible for deletion/);
  });
});
