/** end-3 (GET/HEAD a manifest), end-7 (PUT) and end-9 (DELETE a manifest or a tag). */
import type { IncomingMessage } from 'node:http';
import { MAX_MANIFEST_SIZE, type StoredManifest } from '../registry/index.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, bareMediaType } from '../registry/media-types.js';
import { location, notModified, sendEmpty, type Handler, type RequestContext } from './context.js';
import { HttpError } from './errors.js';
import { contentLength } from './ranges.js';

export const getManifest: Handler = async (ctx) => {
  const { res, req } = ctx;
  const manifest = await negotiate(ctx, await ctx.registry.getManifest(ctx.name, ctx.reference));
  res.setHeader('Docker-Content-Digest', manifest.digest);
  res.setHeader('ETag', `"${manifest.digest}"`);
  if (notModified(ctx, manifest.digest)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', manifest.mediaType);
  res.setHeader('Content-Length', manifest.content.length);
  if (req.method === 'HEAD') res.end();
  else res.end(manifest.content);
};

export const putManifest: Handler = async (ctx) => {
  const { req } = ctx;
  const content = await readManifestBody(req);
  const tags = ctx.url.searchParams.getAll('tag');
  const pushed = await ctx.registry.putManifest(ctx.name, ctx.reference, content, req.headers['content-type'], tags);
  // a push by digest with ?tag= confirms each tag it set, one OCI-Tag header per tag
  if (tags.length > 0) ctx.res.setHeader('OCI-Tag', [...pushed.tags]);
  sendEmpty(ctx.res, 201, {
    Location: location(ctx, `/v2/${ctx.name}/manifests/${pushed.digest}`),
    'Docker-Content-Digest': pushed.digest,
    ...(pushed.subject ? { 'OCI-Subject': pushed.subject } : {}),
  });
};

export const deleteManifest: Handler = async (ctx) => {
  await ctx.registry.deleteManifest(ctx.name, ctx.reference);
  sendEmpty(ctx.res, 202);
};

/** The whole manifest, refused with 413 as soon as it is known to exceed the limit. */
async function readManifestBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = contentLength(req.headers['content-length']);
  if (declared !== undefined && declared > MAX_MANIFEST_SIZE) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > MAX_MANIFEST_SIZE) throw tooLarge(size);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}

const tooLarge = (size: number): HttpError =>
  new HttpError(413, 'MANIFEST_INVALID', `manifest exceeds the ${MAX_MANIFEST_SIZE}-byte limit`, { size, limit: MAX_MANIFEST_SIZE });

/**
 * distribution's answer to a client that asks by tag for single-platform manifests only (an old Docker
 * client) when the tag names a Docker manifest list: the list's linux/amd64 manifest. Any other
 * request gets what was stored, whatever its Accept header says.
 */
async function negotiate(ctx: RequestContext, manifest: StoredManifest): Promise<StoredManifest> {
  if (ctx.reference.includes(':') || manifest.mediaType !== DOCKER_MANIFEST_LIST) return manifest;
  const accepted = new Set(
    ([] as string[])
      .concat(ctx.req.headers.accept ?? [])
      .flatMap((header) => header.split(','))
      .map((type) => bareMediaType(type))
      .filter((type): type is string => type !== undefined),
  );
  if (accepted.size === 0 || accepted.has(DOCKER_MANIFEST_LIST) || accepted.has('*/*') || accepted.has('application/*')) return manifest;
  if (!accepted.has(DOCKER_MANIFEST) && !accepted.has(OCI_MANIFEST)) return manifest;
  const list = JSON.parse(Buffer.from(manifest.content).toString('utf8')) as { manifests?: { digest?: unknown; platform?: { os?: unknown; architecture?: unknown } }[] };
  const entry = list.manifests?.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64');
  if (typeof entry?.digest !== 'string') return manifest;
  return ctx.registry.getManifest(ctx.name, entry.digest);
}
