/**
 * Fault injection and a request log, shared by the OSS and UFile emulators. A fault matches requests by
 * method and a substring of the path+query and fires a given number of times: an error status in the
 * service's own format, a delay before the normal answer (to trip client timeouts), or a dropped connection.
 */
import type http from 'node:http';

export interface FaultRule {
  /** upper-case method; any when absent */
  readonly method?: string;
  /** substring of the request's path and query; any when absent */
  readonly match?: string;
  /** the rule does not apply to requests whose path and query contain this */
  readonly unless?: string;
  /** fire on every Nth matching request only (the others pass), e.g. 5 for one request in five */
  readonly every?: number;
  /** never fire twice on the same method and URL, so a client's retry of a faulted request gets through */
  readonly oncePerRequest?: boolean;
  /** answer with this status (in the service's error format) instead of serving the request */
  readonly status?: number;
  /** wait this long first; without status or reset the request is then served normally */
  readonly delayMs?: number;
  /** destroy the connection without answering */
  readonly reset?: boolean;
  /** serve the request (its effects happen), then drop the connection instead of sending the reply */
  readonly dropResponse?: boolean;
  /** serve the request (its effects happen), then hold the reply this long: a service slow to answer what it did */
  readonly delayReplyMs?: number;
  /** how many matching requests it fires for (default 1) */
  readonly times?: number;
}

export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  status: number;
  readonly fault?: FaultRule;
}

export type FaultOutcome =
  | { kind: 'none' }
  | { kind: 'status'; status: number; rule: FaultRule }
  | { kind: 'reset'; rule: FaultRule }
  | { kind: 'drop-response'; rule: FaultRule }
  | { kind: 'delay-reply'; ms: number; rule: FaultRule };

export class FaultInjector {
  private readonly rules: { rule: FaultRule; left: number; seen: number; fired: Set<string> }[] = [];

  add(...rules: FaultRule[]): void {
    for (const rule of rules) this.rules.push({ rule, left: rule.times ?? 1, seen: 0, fired: new Set() });
  }

  clear(): void {
    this.rules.length = 0;
  }

  /** Consumes the first matching rule and carries out its delay. */
  async apply(req: http.IncomingMessage): Promise<FaultOutcome> {
    const url = req.url ?? '/';
    const request = `${req.method} ${url}`;
    const matching = this.rules.filter(
      ({ rule, left, fired }) =>
        left > 0 && (!rule.method || rule.method === req.method) && (!rule.match || url.includes(rule.match)) &&
        !(rule.unless && url.includes(rule.unless)) && !(rule.oncePerRequest && fired.has(request)),
    );
    for (const entry of matching) entry.seen += 1;
    const entry = matching.find(({ rule, seen }) => !rule.every || seen % rule.every === 0);
    if (!entry) return { kind: 'none' };
    const index = this.rules.indexOf(entry);
    entry.fired.add(request);
    entry.left -= 1;
    if (entry.left <= 0) this.rules.splice(index, 1);
    const { rule } = entry;
    if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
    if (rule.reset) return { kind: 'reset', rule };
    if (rule.dropResponse) return { kind: 'drop-response', rule };
    if (rule.delayReplyMs) return { kind: 'delay-reply', ms: rule.delayReplyMs, rule };
    if (rule.status) return { kind: 'status', status: rule.status, rule };
    return { kind: 'none' };
  }
}

export const CONTROL_PREFIX = '/__emulator/';

/** Handles `POST /__emulator/faults` (JSON array of rules), `DELETE /__emulator/faults` and `GET /__emulator/requests`. */
export async function handleControl(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  faults: FaultInjector,
  requests: LoggedRequest[],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (url.pathname === `${CONTROL_PREFIX}faults` && req.method === 'POST') {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]') as FaultRule | FaultRule[];
    faults.add(...(Array.isArray(body) ? body : [body]));
    res.writeHead(204).end();
  } else if (url.pathname === `${CONTROL_PREFIX}faults` && req.method === 'DELETE') {
    faults.clear();
    res.writeHead(204).end();
  } else if (url.pathname === `${CONTROL_PREFIX}requests` && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(requests));
  } else {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"unknown emulator control"}');
  }
}

/** `--name value` pairs from argv. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(name, inline);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags.set(name, argv[(i += 1)]!);
    else flags.set(name, 'true');
  }
  return flags;
}

/** Lets the request be served, and sends its reply `ms` later (to a client that may have gone meanwhile). */
export function delayReply(res: http.ServerResponse, ms: number): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  let head: unknown[] | undefined;
  res.writeHead = ((...args: unknown[]) => {
    head = args;
    return res;
  }) as unknown as typeof res.writeHead;
  res.end = ((...args: unknown[]) => {
    setTimeout(() => {
      if (res.destroyed) return;
      if (head) writeHead(...head);
      end(...args);
    }, ms);
    return res;
  }) as unknown as typeof res.end;
}

/** Lets the request be served but destroys the connection when the reply would start. */
export function dropReply(res: http.ServerResponse): void {
  const drop = () => {
    res.socket?.destroy();
    return res;
  };
  res.writeHead = drop as unknown as typeof res.writeHead;
  res.end = drop as unknown as typeof res.end;
}
