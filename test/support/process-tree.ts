/**
 * The process tree under a process, read from /proc, and a wait for a set of processes to be gone: to prove
 * that a signal to whatever started stowage (npx, npm, a shell, a container runtime) ends every process it
 * started, not only the first.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
}

function entry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may hold spaces; the fields after it are fixed
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** a process that has exited: gone from /proc, or a zombie waiting to be reaped by a parent that never will */
export function isGone(pid: number): boolean {
  const found = entry(pid);
  return found === undefined || found.state === 'Z' || found.state === 'X';
}

/** `pid` and every live process below it */
export function processTree(pid: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => entry(Number(name)))
    .filter((e): e is ProcessEntry => e !== undefined && !isGone(e.pid));
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const child of all) if (child.ppid === tree[i]) tree.push(child.pid);
  return tree;
}

/** the command line of a process, for messages */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(gone)';
  }
}

/** Resolves once every one of `pids` has exited; rejects naming the survivors after `timeoutMs`. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter((pid) => !isGone(pid));
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`still running ${timeoutMs} ms after the signal: ${alive.map((p) => `${p} ${commandLine(p)}`).join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
