/**
 * Retries with exponential backoff for backend requests: network failures and the statuses a
 * healthy cluster answers when it is briefly overloaded are worth another try; everything else is not.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverLogger } from 'stowage';

export interface RetryPolicy {
  /** attempts after the first one */
  readonly retries: number;
  /** delay before the first retry, doubled each time (with jitter), capped at 10 s */
  readonly delayMs: number;
}

/** A backend failure stowage reports as a storage failure (503 at the API); never carries a secret. */
export class BackendError extends Error {
  readonly code = 'STORAGE_FAILED';
  constructor(
    message: string,
    readonly status?: number,
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendError';
  }
}

const RETRIABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export const isRetriableStatus = (status: number): boolean => RETRIABLE_STATUSES.has(status);

const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isRetriable(err: unknown): boolean {
  if (err instanceof BackendError) return err.retriable;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== err && isRetriable(cause);
}

export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(policy.delayMs * 2 ** attempt, 10_000);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * The `event` field of every "retrying" log line, so that stowage can count retries per driver (a metric)
 * from the driver's logger without each driver reporting them.
 */
export const RETRY_EVENT = 'backend-retry'; // stowage's src/ops/retry-counting-logger.ts counts lines with this event

/** Runs `attempt` until it succeeds, fails for good, or the retries are spent (then the last error, wrapped). */
export async function withRetries<T>(
  policy: RetryPolicy,
  what: string,
  logger: DriverLogger,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (n >= policy.retries) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new BackendError(`${what} failed after ${n + 1} attempts: ${reason}`, (err as { status?: number }).status, false, { cause: err });
      }
      const delay = backoffMs(policy, n);
      logger.warn({ event: RETRY_EVENT, what, attempt: n + 1, delayMs: Math.round(delay), err: err instanceof Error ? err.message : String(err) }, 'retrying backend request');
      await sleep(delay);
    }
  }
}
