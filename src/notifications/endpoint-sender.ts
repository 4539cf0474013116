/**
 * Delivers one endpoint's queue, oldest first, in envelopes of up to BATCH events. A failed delivery is
 * retried at once until `threshold` failures in a row, then every `backoff` until the endpoint accepts; the
 * events stay on disk all along. Success is a status below 400, as distribution's HTTP sink counts it.
 */
import type { NotificationEndpointConfig } from '../config/operations.js';
import { loadWhenNeeded } from '../load-when-needed.js';
import type { RegistryLogger } from '../registry/logger.js';
import type { DiskQueue } from './disk-queue.js';
import { EVENTS_MEDIA_TYPE } from './event.js';

/** undici, loaded by the first delivery (only a configuration with notification endpoints has one) */
const undici = loadWhenNeeded<typeof import('undici')>('undici');

const BATCH = 25;

export interface SenderCounters {
  sent(endpoint: string, count: number): void;
  failed(endpoint: string): void;
  pending(endpoint: string, count: number): void;
}

export class EndpointSender {
  private stopped = false;
  /** set by notify(): checked before sleeping, so an event queued while the queue was being read is not missed */
  private signalled = false;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly endpoint: NotificationEndpointConfig,
    readonly queue: DiskQueue,
    private readonly logger: RegistryLogger,
    private readonly counters: SenderCounters,
  ) {}

  start(): void {
    this.counters.pending(this.endpoint.name, this.queue.length);
    this.loop ??= this.run();
  }

  /** Something was queued: deliver it if the sender is idle. */
  notify(): void {
    this.signalled = true;
    this.counters.pending(this.endpoint.name, this.queue.length);
    this.wake?.();
  }

  /** Stops after the delivery in progress is abandoned; whatever was not delivered stays queued. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error('stowage is shutting down'));
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failuresInARow = 0;
    while (!this.stopped) {
      this.signalled = false;
      const batch = await this.queue.head(BATCH);
      if (batch.length === 0) {
        if (!this.signalled && !this.stopped) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        await this.deliver(`{"events":[${batch.map((e) => e.payload).join(',')}]}`);
        await this.queue.drop(batch.length);
        this.counters.sent(this.endpoint.name, batch.length);
        this.counters.pending(this.endpoint.name, this.queue.length);
        if (failuresInARow > 0) this.logger.info({ endpoint: this.endpoint.name }, 'notification endpoint accepts events again');
        failuresInARow = 0;
      } catch (err) {
        if (this.stopped) return;
        failuresInARow += 1;
        this.counters.failed(this.endpoint.name);
        if (failuresInARow === this.endpoint.threshold) {
          this.logger.warn({ endpoint: this.endpoint.name, err: (err as Error).message, queued: this.queue.length }, 'notification endpoint failing; backing off');
        }
        if (failuresInARow >= this.endpoint.threshold) await this.pause(this.endpoint.backoffMs);
      }
    }
  }

  private async deliver(body: string): Promise<void> {
    const headers: Record<string, string | string[]> = { ...this.endpoint.headers, 'content-type': EVENTS_MEDIA_TYPE };
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.endpoint.timeoutMs)]);
    const reply = await undici().request(this.endpoint.url, { method: 'POST', headers, body, signal });
    await reply.body.dump();
    if (reply.statusCode >= 400) throw new Error(`${this.endpoint.url} answered ${reply.statusCode}`);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        if (!this.stopped) return;
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
