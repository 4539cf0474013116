/**
 * The debug server on `http.debug.addr`, apart from the registry's address so that it can stay on a private
 * interface: distribution's `/debug/health` (200 `{}`, or 503 with each failing check and its error), the
 * orchestrator probes `/livez` and `/readyz`, and Prometheus metrics at `http.debug.prometheus.path` when
 * enabled.
 */
import http from 'node:http';
import { listenOn, urlOf } from '../listen.js';
import type { DebugServerConfig } from '../config/operations.js';
import type { RegistryLogger } from '../registry/logger.js';
import { probeResponse, type HealthView } from './health.js';

/** the metrics in Prometheus' text format: one process's, or every worker's put together */
export interface MetricsExposition {
  exposition(): Promise<{ contentType: string; body: string }>;
}

export interface DebugServer {
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

export async function startDebugServer(config: DebugServerConfig, health: HealthView, metrics: MetricsExposition | undefined, logger: RegistryLogger): Promise<DebugServer> {
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://debug.invalid').pathname;
    const send = (status: number, contentType: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(body);
    };
    const json = (status: number, value: object) => send(status, 'application/json; charset=utf-8', JSON.stringify(value));
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { errors: [{ code: 'UNSUPPORTED', message: `${req.method} is not supported here` }] });
    if (pathname === '/debug/health') {
      const status = health.status();
      return json(status.healthy ? 200 : 503, status.failures);
    }
    const probe = probeResponse(health, req.method, pathname);
    if (probe) return json(probe.status, probe.body);
    if (metrics && pathname === config.prometheus.path) {
      metrics.exposition().then(
        ({ contentType, body }) => send(200, contentType, body),
        (err: unknown) => {
          logger.error({ err }, 'metrics collection failed');
          json(500, { errors: [{ code: 'UNKNOWN', message: 'metrics collection failed' }] });
        },
      );
      return;
    }
    json(404, { errors: [{ code: 'UNSUPPORTED', message: `nothing at ${pathname} on the debug address` }] });
  });
  const { host, port } = config.listen;
  const address = await listenOn(server, port, host);
  return {
    url: urlOf(address, false),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
