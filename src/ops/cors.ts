/**
 * Cross-origin requests from browser pages (`http.cors`). A request whose `Origin` is allowed gets
 * `Access-Control-Allow-Origin` (and the exposed headers, and credentials when configured); a preflight
 * (`OPTIONS` with `Access-Control-Request-Method`) is answered here, 204 when origin, method and headers are
 * allowed and 403 otherwise, before any route is looked at. Requests without `Origin` are not touched, and
 * `http.headers` still adds its headers to every response (distribution's way of allowing an origin).
 */
import type { CorsConfig } from '../config/operations.js';
import type { Exchange, HttpHook } from '../http/exchange.js';

export function corsHook(config: CorsConfig): HttpHook {
  const anyOrigin = config.origins.includes('*');
  const origins = new Set(config.origins);
  const methods = new Set(config.methods.map((m) => m.toUpperCase()));
  const headers = new Set(config.headers.map((h) => h.toLowerCase()));
  const allowed = (origin: string): boolean => anyOrigin || origins.has(origin);

  return {
    onRequest(exchange: Exchange) {
      const { req, res } = exchange;
      const origin = req.headers.origin;
      if (typeof origin !== 'string') return;
      res.appendHeader('Vary', 'Origin');
      const requestedMethod = req.headers['access-control-request-method'];
      const preflight = req.method === 'OPTIONS' && typeof requestedMethod === 'string';
      if (!allowed(origin)) {
        if (preflight) refuse(exchange, `origin ${origin} is not allowed`);
        return;
      }
      // with credentials, browsers refuse the wildcard: the origin itself is echoed
      res.setHeader('Access-Control-Allow-Origin', anyOrigin && !config.credentials ? '*' : origin);
      if (config.credentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
      if (!preflight) {
        if (config.exposeheaders.length > 0) res.setHeader('Access-Control-Expose-Headers', config.exposeheaders.join(', '));
        return;
      }
      if (!methods.has(requestedMethod.toUpperCase())) {
        refuse(exchange, `method ${requestedMethod} is not allowed for cross-origin requests`);
        return;
      }
      const requestedHeaders = (req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      const refused = requestedHeaders.filter((h) => !headers.has(h));
      if (refused.length > 0) {
        refuse(exchange, `headers not allowed for cross-origin requests: ${refused.join(', ')}`);
        return;
      }
      res.statusCode = 204;
      res.setHeader('Access-Control-Allow-Methods', [...methods].join(', '));
      if (headers.size > 0) res.setHeader('Access-Control-Allow-Headers', config.headers.join(', '));
      res.setHeader('Access-Control-Max-Age', String(config.maxageSeconds));
      res.setHeader('Content-Length', 0);
      res.end();
    },
  };
}

function refuse({ res }: Exchange, message: string): void {
  const body = JSON.stringify({ errors: [{ code: 'DENIED', message }] });
  res.statusCode = 403;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
