/**
 * contrib/systemd/stowage.service is a unit systemd accepts without a warning (`systemd-analyze verify`,
 * which needs no running systemd), hardened, and starting a stowage that serves the config beside it.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, runCli } from '../cli/helpers.js';
import { tempDir } from '../plugins/helpers.js';
import { ensureDebianTools } from '../support/debian.js';

const UNIT = path.join(ROOT, 'contrib', 'systemd', 'stowage.service');
const CONFIG = path.join(ROOT, 'contrib', 'systemd', 'config.yml');

interface Verification {
  readonly code: number;
  readonly stderr: string;
}

/** `systemd-analyze verify` of a unit file; its warnings (a bad value, an unknown directive) come on stderr */
async function verify(unitFile: string): Promise<Verification> {
  return promisify(execFile)('systemd-analyze', ['verify', '--man=no', unitFile], { timeout: 60_000 }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? '' }),
  );
}

/** the unit's `Key=` values, all of them per key */
function directives(unit: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) found.set(match[1]!, [...(found.get(match[1]!) ?? []), match[2]!]);
  }
  return found;
}

describe('the systemd unit', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let unit: string;
  /** the unit with ExecStart's program pointing at this checkout's `stowage` command, since verify checks it is executable */
  let localUnit: string;

  beforeAll(async () => {
    ensureDebianTools({ package: 'systemd', binary: 'systemd-analyze' });
    await ensureBuilt();
    work = await tempDir('systemd');
    unit = await readFile(UNIT, 'utf8');
    const program = directives(unit).get('ExecStart')![0]!.split(' ')[0]!;
    localUnit = path.join(work.dir, 'stowage.service');
    await writeFile(localUnit, unit.replaceAll(program, path.join(ROOT, 'bin', 'stowage')));
  }, 15 * 60_000);
  afterAll(() => work?.remove());

  it('passes systemd-analyze verify without a warning', async () => {
    const result = await verify(localUnit);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('is checked for real: a bad value in a copy of it is reported', async () => {
    const broken = path.join(work.dir, 'broken.service');
    await writeFile(broken, (await readFile(localUnit, 'utf8')).replace('ProtectSystem=strict', 'ProtectSystem=sometimes'));
    expect((await verify(broken)).stderr).toMatch(/broken\.service:\d+: .*protect system/i);
  });

  it('runs stowage unprivileged, writing only to its state directory, with no way to gain privileges', () => {
    const set = directives(unit);
    expect(set.get('DynamicUser')).toEqual(['yes']);
    expect(set.get('StateDirectory')).toEqual(['stowage']);
    expect(set.get('NoNewPrivileges')).toEqual(['yes']);
    expect(set.get('ProtectSystem')).toEqual(['strict']);
    expect(set.get('CapabilityBoundingSet')).toEqual(['']);
    expect(set.get('KillSignal')).toEqual(['SIGTERM']);
  });

  it('starts `stowage serve` on the config beside it, which stores in the state directory', async () => {
    const [program, ...args] = directives(unit).get('ExecStart')![0]!.split(' ');
    expect(path.basename(program!)).toBe('stowage');
    expect(args.slice(0, 2)).toEqual(['serve', '--config']);
    const config = await readFile(CONFIG, 'utf8');
    expect(config).toContain('rootdirectory: /var/lib/stowage');
    expect(directives(unit).get('WorkingDirectory')).toEqual(['/var/lib/stowage']);
    const check = await runCli(['config', 'check', '--config', CONFIG], { cwd: work.dir });
    expect(check.stderr).toBe('');
    expect(check.stdout).toContain('storage driver: filesystem');
    expect(check.stdout).toContain('listen: :5000');
  });
});
