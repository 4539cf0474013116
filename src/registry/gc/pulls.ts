/**
 * When each manifest was last pulled, for retention's "keep what was pulled within": one small object per
 * repository and manifest under `_stowage/pulls/` (outside distribution's tree, which it never reads).
 *
 * A pull only updates memory; the records are written in batches, at most one flush per `flushIntervalMs`
 * and one write per manifest per flush, so pulls stay as fast as before. A crash loses at most the last
 * interval's pull times, which only makes retention keep a little less.
 */
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { tryParseDigest } from '../digest.js';
import { systemClock, type GcClock } from './clock.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PullRecorder {
  private pending = new Map<string, { repository: string; digest: string; at: Date }>();
  private lastFlush = 0;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly logger: RegistryLogger,
    private readonly clock: GcClock = systemClock,
    readonly flushIntervalMs = 60_000,
  ) {}

  record(repository: string, digest: string): void {
    const now = this.clock.now();
    this.pending.set(`${repository}@${digest}`, { repository, digest, at: now });
    if (!this.flushing && now.getTime() - this.lastFlush >= this.flushIntervalMs) {
      this.flushing = this.flush().finally(() => (this.flushing = undefined));
    }
  }

  /** Writes every pull recorded since the last flush (also called when the server stops). */
  async flush(): Promise<void> {
    this.lastFlush = this.clock.now().getTime();
    const batch = [...this.pending.values()];
    this.pending = new Map();
    for (const pull of batch) {
      const digest = tryParseDigest(pull.digest);
      if (!digest) continue;
      try {
        await this.storage.driver.putContent(this.layout.pullRecord(pull.repository, digest), encoder.encode(pull.at.toISOString()));
      } catch (err) {
        this.logger.warn({ err, repository: pull.repository, digest: pull.digest }, 'could not record a pull time');
      }
    }
  }

  /** When the manifest was last pulled from the repository, as far as storage (and this process) knows. */
  async lastPulled(repository: string, digest: string): Promise<Date | undefined> {
    const pending = this.pending.get(`${repository}@${digest}`);
    if (pending) return pending.at;
    const parsed = tryParseDigest(digest);
    if (!parsed) return undefined;
    const content = await this.storage.getOrUndefined(this.layout.pullRecord(repository, parsed));
    const time = content ? Date.parse(decoder.decode(content)) : Number.NaN;
    return Number.isNaN(time) ? undefined : new Date(time);
  }
}
