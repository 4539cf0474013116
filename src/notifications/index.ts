/**
 * Notifications (distribution's `notifications.endpoints`): the events of each finished request go, in
 * request order, to the on-disk queue of every endpoint that wants them; each endpoint has a sender that
 * delivers its queue on its own, so a slow or failing endpoint delays neither requests nor other endpoints.
 */
import { randomUUID } from 'node:crypto';
import { rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { NotificationsConfig } from '../config/operations.js';
import type { Exchange, HttpHook } from '../http/exchange.js';
import type { RegistryLogger } from '../registry/logger.js';
import { DiskQueue } from './disk-queue.js';
import { EndpointSender, type SenderCounters } from './endpoint-sender.js';
import { eventsOf, type EventContext, type RegistryEvent } from './event.js';

export { EVENTS_MEDIA_TYPE, type RegistryEvent } from './event.js';

export interface NotifierCounters extends SenderCounters {
  dropped(endpoint: string): void;
}

export interface NotifierOptions {
  readonly config: NotificationsConfig;
  readonly logger: RegistryLogger;
  readonly counters: NotifierCounters;
  readonly context: Omit<EventContext, 'source'>;
  /** `host:port` this registry is reached at, known once it listens (the events' `source.addr`) */
  readonly sourceAddr: () => string;
}

interface Subscriber {
  readonly name: string;
  readonly wants: (event: RegistryEvent) => boolean;
  readonly sender: EndpointSender;
}

export class Notifier {
  /** events are queued one request after another, so each endpoint sees them in the order requests ended */
  private chain: Promise<void> = Promise.resolve();
  private readonly instanceID = randomUUID();

  private constructor(
    private readonly options: NotifierOptions,
    private readonly subscribers: readonly Subscriber[],
  ) {}

  /** Opens every enabled endpoint's queue (events left from a previous run included) and starts delivering. */
  static async start(options: NotifierOptions): Promise<Notifier> {
    const subscribers: Subscriber[] = [];
    for (const endpoint of options.config.endpoints) {
      if (endpoint.disabled) continue;
      const queue = await DiskQueue.open(path.join(options.config.queuedir, endpoint.name), options.config.queuelimit);
      for (const root of options.config.adoptfrom ?? []) await adoptQueue(path.join(root, endpoint.name), queue, options.logger, endpoint.name);
      const sender = new EndpointSender(endpoint, queue, options.logger, options.counters);
      const ignoredTypes = new Set(endpoint.ignoredMediaTypes);
      const ignoredActions = new Set(endpoint.ignoredActions);
      const wants = (event: RegistryEvent) =>
        !ignoredActions.has(event.action) && !(event.target.mediaType !== undefined && ignoredTypes.has(event.target.mediaType));
      subscribers.push({ name: endpoint.name, wants, sender });
      if (queue.length > 0) options.logger.info({ endpoint: endpoint.name, queued: queue.length }, 'notification events left from the last run will be sent');
      sender.start();
    }
    return new Notifier(options, subscribers);
  }

  readonly hook: HttpHook = {
    onResponse: (exchange: Exchange) => {
      if (this.subscribers.length === 0) return;
      this.chain = this.chain.then(() => this.queueEventsOf(exchange)).catch((err: unknown) => this.options.logger.error({ err }, 'notification events could not be queued'));
    },
  };

  /** Waits for the events of finished requests to be on disk, then stops the senders (undelivered events stay queued). */
  async close(): Promise<void> {
    await this.chain;
    await Promise.all(this.subscribers.map((s) => s.sender.stop()));
  }

  private async queueEventsOf(exchange: Exchange): Promise<void> {
    const events = await eventsOf(exchange, { ...this.options.context, source: { addr: this.options.sourceAddr(), instanceID: this.instanceID } });
    for (const event of events) {
      const payload = JSON.stringify(event);
      for (const subscriber of this.subscribers) {
        if (!subscriber.wants(event)) continue;
        if (await subscriber.sender.queue.append(payload)) {
          subscriber.sender.notify();
        } else {
          this.options.counters.dropped(subscriber.name);
          this.options.logger.error(
            { endpoint: subscriber.name, action: event.action, repository: event.target.repository, digest: event.target.digest, limit: this.options.config.queuelimit },
            'notification queue full: event dropped',
          );
        }
      }
    }
  }
}

/**
 * Moves the events of a queue folder no process owns any more (a worker's of a larger worker count) to the
 * end of `queue`, oldest first, each on disk in `queue` before it leaves the old folder (a crash in between
 * sends it twice, never loses it); what does not fit the queue's limit stays for the next start.
 */
async function adoptQueue(folder: string, queue: DiskQueue, logger: RegistryLogger, endpoint: string): Promise<void> {
  if (folder === queue.folder || !(await stat(folder).then((s) => s.isDirectory(), () => false))) return;
  const orphaned = await DiskQueue.open(folder, Number.MAX_SAFE_INTEGER);
  let moved = 0;
  for (const event of await orphaned.head(orphaned.length)) {
    if (!(await queue.append(event.payload))) break;
    await orphaned.drop(1);
    moved += 1;
  }
  if (orphaned.length === 0) {
    await rmdir(folder).catch(() => undefined);
    await rmdir(path.dirname(folder)).catch(() => undefined);
  }
  if (moved > 0) logger.info({ endpoint, from: folder, events: moved, left: orphaned.length }, 'notification events of a queue no worker owns any more will be sent');
}
