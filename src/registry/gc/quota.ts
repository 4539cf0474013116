/**
 * Byte quotas per namespace (a repository prefix): the usage is the sum of the sizes of the distinct blobs
 * (layers, configs, manifests) linked into any repository of the namespace, each counted once however many
 * repositories or images share it. A process counts a namespace by reading it the first time it needs it,
 * then adds what it links; the garbage collector recounts after each run, so what other processes linked
 * or the collector freed never makes the numbers drift for long.
 *
 * Within a process admission is exact: a blob about to be linked reserves its size before it becomes
 * visible (the check and the reservation happen in one synchronous step), and every reservation in flight
 * counts against the limit, so concurrent pushes together never take a namespace over it. Concurrent
 * first counts share one reading, and a recount keeps what was linked while it ran. Across processes each
 * one admits against its own count (refreshed at startup and by each collection): N processes pushing at
 * once into one namespace may together overshoot by up to what N-1 of them admit between two recounts.
 */
import { RegistryError } from '../errors.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryStorage } from '../storage.js';
import { digestFolders, listRepositories } from './inventory.js';

export interface QuotaLimit {
  /** a repository prefix: `team-a` covers `team-a` and `team-a/...` */
  readonly namespace: string;
  readonly limitBytes: number;
}

export interface QuotaUsage extends QuotaLimit {
  readonly usedBytes: number;
  readonly blobs: number;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4 };

/** `10GiB`, `500MB`, `1048576`: a byte count. */
export function parseBytes(text: string | number): number {
  if (typeof text === 'number' && Number.isSafeInteger(text) && text >= 0) return text;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(text));
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`not a size: ${JSON.stringify(text)} (expected bytes, or a number with B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)`);
  return Math.floor(Number(match[1]) * unit);
}

/** Room held for a blob between its admission and its link: `commit` counts it as linked, `release` gives it back. */
export interface QuotaReservation {
  commit(): void;
  release(): void;
}

const NO_RESERVATION: QuotaReservation = { commit: () => undefined, release: () => undefined };

export class QuotaTracker {
  /** namespace -> digest -> size, for the namespaces counted so far */
  private readonly counted = new Map<string, Map<string, number>>();
  /** the first count of a namespace in progress, shared by everyone who needs it meanwhile */
  private readonly counting = new Map<string, Promise<Map<string, number>>>();
  /** namespace -> digest -> (size, holders): admitted blobs not linked yet */
  private readonly reserved = new Map<string, Map<string, { size: number; holders: number }>>();
  /** namespace -> what was linked while a recount of it ran, which its result must keep */
  private readonly linkedDuringRecount = new Map<string, Map<string, number>>();

  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    readonly limits: readonly QuotaLimit[],
  ) {}

  /** The quota a repository falls under: the longest matching namespace. */
  quotaOf(repository: string): QuotaLimit | undefined {
    let best: QuotaLimit | undefined;
    for (const limit of this.limits) {
      const covers = repository === limit.namespace || repository.startsWith(`${limit.namespace}/`);
      if (covers && (!best || limit.namespace.length > best.namespace.length)) best = limit;
    }
    return best;
  }

  /** Counts the repository's namespace if this process has not yet (call before linking anything into it). */
  async prepare(repository: string): Promise<void> {
    const namespace = this.quotaOf(repository)?.namespace;
    if (namespace === undefined || this.counted.has(namespace)) return;
    let pending = this.counting.get(namespace);
    if (!pending) {
      pending = this.count(namespace).finally(() => this.counting.delete(namespace));
      this.counting.set(namespace, pending);
    }
    const blobs = await pending;
    if (!this.counted.has(namespace)) this.counted.set(namespace, blobs);
  }

  /**
   * Admits a blob about to be linked into `repository`, or throws 403 DENIED when what its namespace holds,
   * plus every blob admitted and not linked yet, plus this one would exceed the limit. A blob the namespace
   * already holds (or is already admitted into it) costs nothing more. `prepare` must have run first.
   */
  reserve(repository: string, digest: string, size: number): QuotaReservation {
    const quota = this.quotaOf(repository);
    const blobs = quota ? this.counted.get(quota.namespace) : undefined;
    if (!quota || !blobs || blobs.has(digest)) return NO_RESERVATION;
    const namespace = quota.namespace;
    const pending = this.reserved.get(namespace) ?? new Map<string, { size: number; holders: number }>();
    this.reserved.set(namespace, pending);
    const held = pending.get(digest);
    if (!held) {
      let used = sum(blobs);
      for (const entry of pending.values()) used += entry.size;
      if (used + size > quota.limitBytes) {
        throw new RegistryError(
          'DENIED',
          `quota exceeded: namespace ${namespace} may hold ${quota.limitBytes} bytes and holds ${used} (pushes in progress included); this blob of ${size} bytes would take it to ${used + size}`,
          { namespace, limit: quota.limitBytes, usage: used, size },
        );
      }
    }
    const entry = held ?? { size, holders: 0 };
    entry.holders += 1;
    pending.set(digest, entry);
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      entry.holders -= 1;
      if (entry.holders === 0 && pending.get(digest) === entry) pending.delete(digest);
    };
    return {
      commit: () => {
        if (done) return;
        this.added(repository, digest, size);
        release();
      },
      release,
    };
  }

  added(repository: string, digest: string, size: number): void {
    const quota = this.quotaOf(repository);
    if (!quota) return;
    this.counted.get(quota.namespace)?.set(digest, size);
    this.linkedDuringRecount.get(quota.namespace)?.set(digest, size);
  }

  /** Counts every namespace again from storage (the collector calls it after each run). */
  async recount(): Promise<void> {
    for (const { namespace } of this.limits) {
      const linked = new Map<string, number>();
      this.linkedDuringRecount.set(namespace, linked);
      try {
        const blobs = await this.count(namespace);
        for (const [digest, size] of linked) blobs.set(digest, size);
        this.counted.set(namespace, blobs);
      } finally {
        if (this.linkedDuringRecount.get(namespace) === linked) this.linkedDuringRecount.delete(namespace);
      }
    }
  }

  async usage(): Promise<QuotaUsage[]> {
    const report: QuotaUsage[] = [];
    for (const limit of this.limits) {
      await this.prepare(limit.namespace);
      const blobs = this.counted.get(limit.namespace)!;
      report.push({ ...limit, usedBytes: sum(blobs), blobs: blobs.size });
    }
    return report;
  }

  private async count(namespace: string): Promise<Map<string, number>> {
    const blobs = new Map<string, number>();
    const repositories = (await listRepositories(this.storage, this.layout)).filter(
      (name) => (name === namespace || name.startsWith(`${namespace}/`)) && this.quotaOf(name)?.namespace === namespace,
    );
    for (const repository of repositories) {
      const linked = [
        ...(await digestFolders(this.storage, `${this.layout.repository(repository)}/_layers`)),
        ...(await digestFolders(this.storage, `${this.layout.manifests(repository)}/revisions`)),
      ];
      for (const digest of linked) {
        if (blobs.has(digest.value)) continue;
        const size = await this.storage.sizeOf(this.layout.blobData(digest));
        if (size !== undefined) blobs.set(digest.value, size);
      }
    }
    return blobs;
  }
}

const sum = (blobs: Map<string, number>): number => {
  let total = 0;
  for (const size of blobs.values()) total += size;
  return total;
};
