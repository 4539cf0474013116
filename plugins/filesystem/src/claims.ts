/**
 * The claims of the filesystem writer (see writer.ts): `<path>~claim.<size>` files created exclusively
 * (O_EXCL), each holding a record of its holder (@stowage/backend-kit's claim-lease.ts). A claim whose
 * holder is gone (its process exited on this host, or it stopped renewing it) is taken over by creating
 * the next generation, `<path>~claim.<size>.<n>`, exclusively too: of writers racing for a take-over only
 * one creates it, so a conflicting append is still refused while a client's retry after a crash goes on.
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CLAIM_RENEW_MS, type ClaimRecord, claimGeneration, claimIsAbandoned, claimNameOf, encodeClaimRecord, newClaimRecord } from '@stowage/backend-kit/claim-lease';
import { writeAllSync } from './fsync.js';

const sizeClaimPathOf = (file: string, size: number): string => `${file}~claim.${String(size).padStart(16, '0')}`;

/** A claim this process holds. */
export interface HeldClaim {
  readonly path: string;
  readonly generation: number;
  record: ClaimRecord;
}

const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException).code === code;

/**
 * Synchronous: a claim is a new file of a few dozen bytes, never synced (a crash ends its holder anyway),
 * so making it waits for no disk; as promises its open, write and close were three thread-pool round trips
 * of every upload request (see fsync.ts).
 */
function createExclusive(path: string, record: ClaimRecord): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if (isCode(err, 'EEXIST')) return false;
    throw err;
  }
  try {
    writeAllSync(fd, encodeClaimRecord(record));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a claim file by its name (nothing when it is gone already). */
export function removeClaimFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isCode(err, 'ENOENT')) throw err;
  }
}

/** The newest generation of the claims on `size`, or undefined when there is none. */
async function latestClaimOf(file: string, size: number): Promise<{ generation: number; path: string } | undefined> {
  const sizeName = basename(sizeClaimPathOf(file, size));
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  let latest: { generation: number; path: string } | undefined;
  for (const name of names) {
    const generation = claimGeneration(name, sizeName);
    if (generation !== undefined && (!latest || generation > latest.generation)) latest = { generation, path: join(dirname(file), name) };
  }
  return latest;
}

async function abandoned(path: string): Promise<boolean> {
  try {
    const [body, info] = await Promise.all([readFile(path), stat(path)]);
    return claimIsAbandoned(body, info.mtime);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return false;
    throw err;
  }
}

/** Claims `size` of the upload at `file`; undefined when a live writer holds it (or won the take-over). */
export async function takeClaim(file: string, size: number): Promise<HeldClaim | undefined> {
  const first = sizeClaimPathOf(file, size);
  const record = newClaimRecord();
  if (createExclusive(first, record)) return { path: first, generation: 0, record };
  const latest = await latestClaimOf(file, size);
  if (!latest || !(await abandoned(latest.path))) return undefined;
  const generation = latest.generation + 1;
  const next = claimNameOf(first, generation);
  return createExclusive(next, record) ? { path: next, generation, record } : undefined;
}

/**
 * Renews a held claim when it is due; false when another writer took it over meanwhile (or the upload's
 * claims were removed): the holder must then write nothing more.
 */
export async function keepClaim(file: string, size: number, held: HeldClaim, now = Date.now()): Promise<boolean> {
  if (now - held.record.renewedAt < CLAIM_RENEW_MS) return true;
  const latest = await latestClaimOf(file, size);
  if (latest?.generation !== held.generation) return false;
  held.record = { ...held.record, renewedAt: now };
  await writeFile(held.path, encodeClaimRecord(held.record));
  return true;
}

/** Gives a claim back (its writer failed before it appended anything), so the next request may take it. */
export async function releaseClaim(held: HeldClaim): Promise<void> {
  removeClaimFile(held.path);
}
