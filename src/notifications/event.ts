/**
 * Registry events in distribution's notification format (notifications/event.go): one Event per push, pull,
 * mount or delete, sent in an envelope `{"events": [...]}` with media type
 * application/vnd.docker.distribution.events.v1+json. They are read off finished requests (the route, its
 * status and headers), so the registry's own code knows nothing of notifications.
 */
import { randomUUID } from 'node:crypto';
import type { Exchange } from '../http/exchange.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
/** what distribution names a layer's media type in its blob events */
export const BLOB_MEDIA_TYPE = 'application/octet-stream';

export type EventAction = 'push' | 'pull' | 'mount' | 'delete';

export interface EventTarget {
  mediaType?: string;
  size?: number;
  digest?: string;
  /** distribution's deprecated copy of size, still sent */
  length?: number;
  repository: string;
  fromRepository?: string;
  url?: string;
  tag?: string;
}

export interface RegistryEvent {
  readonly id: string;
  readonly timestamp: string;
  readonly action: EventAction;
  readonly target: EventTarget;
  readonly request: { id: string; addr: string; host: string; method: string; useragent: string };
  readonly actor: { name?: string };
  readonly source: { addr: string; instanceID: string };
}

export interface EventContext {
  /** the client's address (honouring trusted proxies) */
  clientAddress(exchange: Exchange): string;
  /** the registry's external base URL for target URLs (`http.host`), or undefined to use the request's Host */
  readonly externalURL?: string;
  readonly source: { addr: string; instanceID: string };
  /** a blob's size when the response did not say it (pushes and mounts end with an empty 201) */
  blobSize(repository: string, digest: string): Promise<number | undefined>;
}

const isDigest = (reference: string): boolean => /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(reference);
const header = (exchange: Exchange, name: string): string | undefined => {
  const value = exchange.res.getHeader(name);
  return value === undefined ? undefined : String(value);
};
const mediaTypeOf = (value: string | undefined): string | undefined => value?.split(';')[0]?.trim() || undefined;

/** The events a finished request produced (none for most requests). */
export async function eventsOf(exchange: Exchange, context: EventContext): Promise<RegistryEvent[]> {
  const { req, res, route, repository, reference } = exchange;
  if (!route || !repository || !res.writableFinished) return [];
  const status = res.statusCode;
  const method = req.method;
  const digestHeader = header(exchange, 'docker-content-digest');
  const base = context.externalURL ?? `http://${req.headers.host ?? 'localhost'}`;
  const targets: { action: EventAction; target: EventTarget }[] = [];
  const blobTarget = async (digest: string, knownSize?: number): Promise<EventTarget> => {
    const size = knownSize ?? (await context.blobSize(repository, digest));
    return { mediaType: BLOB_MEDIA_TYPE, ...(size !== undefined ? { size, length: size } : {}), digest, repository, url: `${base}/v2/${repository}/blobs/${digest}` };
  };

  if (route === '/v2/<name>/manifests/<reference>' && reference) {
    const tag = isDigest(reference) ? undefined : reference;
    if ((method === 'PUT' && status === 201) || (method === 'GET' && status === 200)) {
      const size = method === 'PUT' ? exchange.bytesIn : Number(header(exchange, 'content-length') ?? exchange.bytesOut);
      const mediaType = mediaTypeOf(method === 'PUT' ? req.headers['content-type'] : header(exchange, 'content-type'));
      const digest = digestHeader ?? reference;
      const target: EventTarget = { ...(mediaType ? { mediaType } : {}), size, length: size, digest, repository, url: `${base}/v2/${repository}/manifests/${digest}` };
      const extraTags = method === 'PUT' ? [res.getHeader('oci-tag') ?? []].flat().map(String) : [];
      const tags = [...(tag ? [tag] : []), ...extraTags];
      if (tags.length === 0) targets.push({ action: method === 'PUT' ? 'push' : 'pull', target });
      for (const t of tags) targets.push({ action: method === 'PUT' ? 'push' : 'pull', target: { ...target, tag: t } });
    } else if (method === 'DELETE' && status === 202) {
      targets.push({ action: 'delete', target: { repository, ...(tag ? { tag } : { digest: reference }) } });
    }
  } else if (route === '/v2/<name>/blobs/<digest>' && reference) {
    if (method === 'GET' && (status === 200 || status === 307)) {
      const length = status === 200 ? Number(header(exchange, 'content-length')) : undefined;
      targets.push({ action: 'pull', target: await blobTarget(reference, Number.isFinite(length) ? length : undefined) });
    } else if (method === 'DELETE' && status === 202) {
      targets.push({ action: 'delete', target: { repository, digest: reference } });
    }
  } else if ((route === '/v2/<name>/blobs/uploads/<uuid>' && method === 'PUT') || (route === '/v2/<name>/blobs/uploads/' && method === 'POST')) {
    if (status === 201 && digestHeader) {
      const query = new URL(req.url ?? '/', 'http://registry.invalid').searchParams;
      const mounted = method === 'POST' && query.has('mount');
      const target = await blobTarget(digestHeader);
      const from = query.get('from');
      targets.push(mounted ? { action: 'mount', target: { ...target, ...(from ? { fromRepository: from } : {}) } } : { action: 'push', target });
    }
  }

  const request = {
    id: exchange.requestId,
    addr: context.clientAddress(exchange),
    host: req.headers.host ?? '',
    method: method ?? '',
    useragent: req.headers['user-agent'] ?? '',
  };
  const timestamp = new Date().toISOString();
  const actor = exchange.user ? { name: exchange.user } : {};
  return targets.map(({ action, target }) => ({ id: randomUUID(), timestamp, action, target, request, actor, source: context.source }));
}
