import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** A server running as a child process, stopped by `close()`. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** everything the process wrote so far (stdout and stderr), for failure messages */
  output(): string;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited */
  close(graceMs?: number): Promise<void>;
}

export function spawnServer(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): ServerProcess {
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = once(child, 'exit').then(() => {
    exited = true;
  });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  return {
    child,
    pid,
    output: () => log,
    isRunning: () => !exited && child.exitCode === null && child.signalCode === null,
    async close(graceMs = 5_000) {
      if (exited || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** Resolves with the first match of `pattern` in the process's output (stdout or stderr). */
export async function waitForOutput(server: ServerProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = server.output().match(pattern);
    if (match) return match;
    if (!server.isRunning()) throw new Error(`process ${server.pid} exited before printing ${pattern}:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`process ${server.pid} did not print ${pattern} within ${timeoutMs} ms:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
