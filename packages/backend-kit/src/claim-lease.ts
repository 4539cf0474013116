/**
 * Who holds an upload claim, and whether that holder is gone.
 *
 * A writer claims the size an upload has before it appends (see object-writer.ts and the filesystem
 * plugin's writer.ts), so that of two writers opened at one size only one continues. A process killed
 * (SIGKILL, OOM, power) between its claim and the state that moves the upload past that size leaves the
 * claim behind, and without more every later append at that size would be refused for ever: the client
 * could never resume. So a claim holds a record of its holder, and a claim whose holder is gone may be
 * taken over (by exactly one writer: the take-over is itself a create-only claim of the next generation):
 *
 * - on the holder's host, a holder whose process has exited (or whose pid now names another process) is
 *   gone at once: a restarted registry resumes the upload on its first retry;
 * - anywhere, a holder that has not renewed its claim for CLAIM_LEASE_MS is gone. A holder renews while
 *   it writes (at most every CLAIM_RENEW_MS) and, before renewing, checks that nobody took its claim over;
 *   a writer taken over is refused before it writes again. So the lease must outlast any stall of a live
 *   writer (two minutes; clocks of hosts sharing storage must agree far better than that).
 *
 * A claim without a readable record (written by an older stowage, or caught between its creation and its
 * record) is judged by its modification time alone.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** How long a claim nobody renews keeps other writers out. */
export const CLAIM_LEASE_MS = 120_000;
/** How often a writer renews the claim it holds while it writes. */
export const CLAIM_RENEW_MS = CLAIM_LEASE_MS / 4;

export interface ClaimRecord {
  readonly host: string;
  readonly pid: number;
  /** the host's boot id (Linux), so that a pid reused after a reboot is not taken for the holder */
  readonly boot?: string;
  /** the holder process's start time in clock ticks since boot (Linux), so that a reused pid is told apart */
  readonly start?: string;
  /** this claim's own id */
  readonly token: string;
  /** when the holder last renewed the claim (ms since the epoch, the holder's clock) */
  readonly renewedAt: number;
}

const readOrUndefined = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Field 22 of /proc/<pid>/stat: the process's start time; the command name before it may hold spaces. */
function processStart(pid: number | 'self'): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const thisHost = hostname();
const thisBoot = readOrUndefined('/proc/sys/kernel/random/boot_id')?.trim();
const thisStart = processStart('self');

/** A fresh record for a claim this process takes now. */
export function newClaimRecord(now = Date.now()): ClaimRecord {
  return { host: thisHost, pid: process.pid, ...(thisBoot ? { boot: thisBoot } : {}), ...(thisStart ? { start: thisStart } : {}), token: randomBytes(12).toString('hex'), renewedAt: now };
}

export const encodeClaimRecord = (record: ClaimRecord): Buffer => Buffer.from(JSON.stringify(record));

export function decodeClaimRecord(body: Uint8Array | undefined): ClaimRecord | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const value = JSON.parse(Buffer.from(body).toString('utf8')) as Partial<ClaimRecord>;
    if (typeof value.host !== 'string' || typeof value.pid !== 'number' || typeof value.renewedAt !== 'number' || typeof value.token !== 'string') return undefined;
    return value as ClaimRecord;
  } catch {
    return undefined;
  }
}

/** Whether a process of this host that held a claim has exited (its pid is free or names another process). */
function exitedHere(record: ClaimRecord): boolean {
  if (record.host !== thisHost) return false;
  // the host rebooted since: every process of then is gone
  if (record.boot && thisBoot && record.boot !== thisBoot) return true;
  if (record.pid === process.pid) return record.start !== undefined && thisStart !== undefined && record.start !== thisStart;
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const start = processStart(record.pid);
  return record.start !== undefined && start !== undefined && start !== record.start;
}

/**
 * Whether the claim whose stored bytes are `body`, last modified at `modified`, may be taken over: its
 * holder has exited on this host, or has not renewed it for the lease.
 */
export function claimIsAbandoned(body: Uint8Array | undefined, modified: Date | undefined, now = Date.now(), leaseMs = CLAIM_LEASE_MS): boolean {
  const record = decodeClaimRecord(body);
  if (!record) return modified !== undefined && now - modified.getTime() > leaseMs;
  return exitedHere(record) || now - record.renewedAt > leaseMs;
}

/**
 * Claim names carry a generation after the size they claim: `<prefix><size>` is the first claim of a
 * size, `<prefix><size>.<n>` the n-th take-over of it. Answers the generation of `name`, or undefined when
 * it claims another size (or is no claim).
 */
export function claimGeneration(name: string, sizeName: string): number | undefined {
  if (name === sizeName) return 0;
  if (!name.startsWith(`${sizeName}.`)) return undefined;
  const rest = name.slice(sizeName.length + 1);
  return /^\d{1,9}$/.test(rest) ? Number(rest) : undefined;
}

export const claimNameOf = (sizeName: string, generation: number): string => (generation === 0 ? sizeName : `${sizeName}.${generation}`);
