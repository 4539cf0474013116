/**
 * Health, as distribution's `health.storagedriver` does it: every `interval` the storage driver is asked for
 * the root. distribution stats `/`; stowage lists it, because drivers answer a stat of `/` without asking the
 * backend (the root always exists), while `list('/')` is a real round trip on every driver (a missing root is
 * healthy: it is only an empty registry). After `threshold` failures in
 * a row the registry is unhealthy until a check passes. While unhealthy, `/v2/` answers 503 and `/readyz`
 * 503, so load balancers and orchestrators route around this instance; `/livez` stays 200 (the process
 * is fine, restarting it would not bring the backend back).
 */
import type { Exchange, HttpHook } from '../http/exchange.js';
import type { RegistryLogger } from '../registry/logger.js';
import type { StorageDriver } from '../storage/driver.js';
import { isPathNotFound } from '../storage/errors.js';

export interface HealthStatus {
  readonly healthy: boolean;
  /** check name -> last error, distribution's /debug/health body; empty when healthy */
  readonly failures: Readonly<Record<string, string>>;
}

/** What the probes and `/debug/health` read: one process's checks, or the workers' reports put together. */
export interface HealthView {
  status(): HealthStatus;
  ready(): boolean;
}

export interface StorageHealthOptions {
  readonly intervalMs: number;
  readonly threshold: number;
}

export class HealthChecks implements HealthView {
  private readonly failing = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<void>>();
  /** false once shutdown began: an instance draining its connections is no longer ready */
  private accepting = true;

  constructor(private readonly logger: RegistryLogger) {}

  /**
   * Checks the driver now and then every `intervalMs`. The first check is not awaited: a backend that hangs
   * must not hold up the start (its checks fail once their requests time out), as with distribution.
   */
  watchStorage(driver: StorageDriver, options: StorageHealthOptions): void {
    const check = `storagedriver_${driver.name}`;
    let failuresInARow = 0;
    const probe = async (): Promise<void> => {
      try {
        await driver.list('/');
        failuresInARow = 0;
      } catch (err) {
        if (isPathNotFound(err)) {
          failuresInARow = 0;
        } else {
          failuresInARow += 1;
          if (failuresInARow >= options.threshold) {
            if (!this.failing.has(check)) this.logger.error({ err, check }, 'health check failing: registry unavailable');
            this.failing.set(check, err instanceof Error ? err.message : String(err));
          }
          return;
        }
      }
      if (this.failing.delete(check)) this.logger.info({ check }, 'health check passing again');
    };
    const tracked = (): Promise<void> => {
      const run = probe().finally(() => this.running.delete(run));
      this.running.add(run);
      return run;
    };
    let inFlight: Promise<void> | undefined = tracked().finally(() => (inFlight = undefined));
    const timer = setInterval(() => {
      // a check slower than the interval is not stacked with another
      inFlight ??= tracked().finally(() => (inFlight = undefined));
    }, options.intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  status(): HealthStatus {
    return { healthy: this.failing.size === 0, failures: Object.fromEntries(this.failing) };
  }

  ready(): boolean {
    return this.accepting && this.failing.size === 0;
  }

  /** Marks the instance not ready (shutdown began) and stops the checks. */
  async stop(): Promise<void> {
    this.accepting = false;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
  }
}

const PROBES: Readonly<Record<string, (health: HealthView) => { status: number; body: object }>> = {
  '/livez': () => ({ status: 200, body: { status: 'live' } }),
  '/readyz': (health) => (health.ready() ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { status: 'not ready' } }),
};

/** `/livez` and `/readyz` (GET or HEAD) for orchestrators; their bodies say only live/ready, never why. */
export function probeResponse(health: HealthView, method: string | undefined, pathname: string): { status: number; body: object } | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  return PROBES[pathname]?.(health);
}

/** On the registry's own address: the probes, and 503 for `/v2/` while a check fails (as distribution does). */
export function healthHook(health: HealthChecks): HttpHook {
  return {
    onRequest(exchange: Exchange) {
      const pathname = (exchange.req.url ?? '/').split('?')[0]!;
      const probe = probeResponse(health, exchange.req.method, pathname);
      if (!probe) return;
      exchange.route = pathname;
      sendJson(exchange, probe.status, probe.body);
    },
    onRoute(exchange: Exchange) {
      if (exchange.route !== '/v2/' || health.status().healthy) return;
      // the backend's own words can name hosts and paths: those are for /debug/health on the debug address
      exchange.res.setHeader('Retry-After', '5');
      sendJson(exchange, 503, { errors: [{ code: 'UNAVAILABLE', message: 'storage backend unavailable, try again later' }] });
    },
  };
}

function sendJson({ res }: Exchange, status: number, value: object): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
