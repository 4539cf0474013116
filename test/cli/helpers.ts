import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const STOWAGE_BIN = path.join(ROOT, 'bin', 'stowage.js');
const MAIN = path.join(ROOT, 'dist', 'cli', 'main.js');
/** rewritten by every build of src, unlike outputs whose sources did not change */
const BUILD_INFO = path.join(ROOT, 'dist', '.tsbuildinfo');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** The CLI runs from dist: build it (as `npm test` does first) when it is missing or older than src. */
export async function ensureBuilt(): Promise<void> {
  const fresh = () => existsSync(MAIN) && existsSync(BUILD_INFO) && statSync(BUILD_INFO).mtimeMs >= newestSource(path.join(ROOT, 'src'));
  if (fresh()) return;
  // one build at a time: several test files (and people) may ask at once
  const build = promisify(execFile)('flock', ['/tmp/stowage-build.lock', 'npx', 'tsc', '-b', 'tsconfig.build.json'], { cwd: ROOT, timeout: 300_000 });
  const outcome = await build.then(
    () => undefined,
    (err: { stdout?: string; stderr?: string; message?: string }) => [err.message, err.stdout, err.stderr].filter(Boolean).join('\n'),
  );
  if (fresh()) return;
  // other parts of the tree may not compile at this moment; an emitted CLI is still worth testing
  if (existsSync(MAIN)) {
    console.warn(`stowage build reported problems; testing the CLI as emitted:\n${outcome ?? ''}`);
    return;
  }
  throw new Error(`building stowage failed, so the CLI cannot be tested:\n${outcome ?? ''}`);
}

/**
 * How a bin is started: a `.js` entry by this node; anything else (the `stowage` command's shell wrapper, an npm
 * bin link to it) as the executable it is, as a shell would.
 */
function launcher(bin: string | undefined): string[] {
  return bin !== undefined && !bin.endsWith('.js') ? [bin] : [process.execPath, bin ?? STOWAGE_BIN];
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; bin?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command, ...entry] = launcher(options.bin);
    const child = spawn(command!, [...entry, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServingCli {
  readonly url: string;
  readonly banner: string;
  readonly child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** sends the signal and waits for the process to end */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const LISTENING = /stowage listening on (https?:\/\/\S+) \(storage: ([^\n]*)\)\n/;

export function serveCli(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; bin?: string }): Promise<ServingCli> {
  return new Promise((resolve, reject) => {
    const [command, ...entry] = launcher(options.bin);
    const child = spawn(command!, [...entry, 'serve', ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stowage serve did not start within 30s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1]!, banner: match[0].trim(), child, output: () => ({ stdout, stderr }), stop });
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stowage serve exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  });
}
