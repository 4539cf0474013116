/** The access log: one `info` line per request, written once its response has been sent (or cut off). */
import type { Exchange, HttpHook } from '../http/exchange.js';
import { elapsedSeconds } from '../http/exchange.js';
import type { RegistryLogger } from '../registry/logger.js';
import type { ClientAddress } from './client-address.js';

/** A pino logger says whether a level would be written; a logger that cannot say is assumed to write it. */
type LevelAwareLogger = RegistryLogger & { isLevelEnabled?(level: string): boolean };

export function accessLogHook(logger: LevelAwareLogger, clientAddress: ClientAddress): HttpHook {
  return {
    onResponse(exchange: Exchange) {
      // asked per request, since a pino logger's level may be changed while it runs: at a level that hides
      // `info` (the bench's `error`) building the record cost about 370 bytes of garbage per request for nothing
      if (logger.isLevelEnabled?.('info') === false) return;
      const { req, res } = exchange;
      logger.info(
        {
          access: {
            requestId: exchange.requestId,
            client: clientAddress(req),
            method: req.method,
            route: exchange.route ?? null,
            repository: exchange.repository ?? null,
            ...(exchange.user !== undefined ? { user: exchange.user } : {}),
            status: res.statusCode,
            bytesIn: exchange.bytesIn,
            bytesOut: exchange.bytesOut,
            durationMs: Math.round(elapsedSeconds(exchange) * 1e4) / 10,
            userAgent: req.headers['user-agent'] ?? null,
            // a response the client did not receive whole (connection cut, or the handler failed mid-body)
            ...(res.writableFinished ? {} : { incomplete: true }),
          },
        },
        `${req.method} ${exchange.route ?? 'unrouted'} ${res.statusCode}`,
      );
    },
  };
}
