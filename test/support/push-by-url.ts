/**
 * Pushing to a registry by its URL (a `stowage serve` process, distribution), as a client does. The
 * status-answering pushes (`pushBlobMonolithic`, `pushBlobInSession`, `pushBlobChunked`, `pushManifestTo`)
 * leave the verdict to the test; `pushBlob`, `pushImageTo` and `pushTaggedImage` throw unless the registry took
 * the push. `via`: the connection (an undici Client, a Pool) the requests go through, when it matters which
 * (a test pinning a worker of `http.workers`); by default undici's global one.
 */
import { createHash } from 'node:crypto';
import { request, type Dispatcher } from 'undici';

export const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const withDigest = (location: string, digest: string): string => `${location}${location.includes('?') ? '&' : '?'}digest=${digest}`;

/** A monolithic blob push (POST ?digest=); resolves with the status. */
export async function pushBlobMonolithic(url: string, repository: string, blob: Uint8Array): Promise<number> {
  return (await pushBlobAnswered(url, repository, blob)).status;
}

/** A monolithic blob push (POST ?digest=); resolves with the status and the body of the answer (a refusal's error JSON). */
export async function pushBlobAnswered(url: string, repository: string, blob: Uint8Array): Promise<{ status: number; body: string }> {
  const answer = await request(`${url}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, {
    method: 'POST',
    body: blob,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
  });
  return { status: answer.statusCode, body: await answer.body.text() };
}

/** `content` cut into chunks of `size` bytes (the last one shorter), for `pushBlobChunked`. */
export function chunksOf(content: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < content.length; offset += size) chunks.push(content.subarray(offset, Math.min(offset + size, content.length)));
  return chunks;
}

/** A blob pushed in a session: POST, then the bytes in the closing PUT; resolves with the closing status. */
export async function pushBlobInSession(url: string, repository: string, blob: Uint8Array): Promise<number> {
  return pushBlobChunked(url, repository, [], blob);
}

/**
 * A chunked blob push: POST, one PATCH per chunk, closing PUT (carrying `last`, when given); resolves with the
 * status of the first PATCH refused, else of the closing PUT.
 */
export async function pushBlobChunked(url: string, repository: string, chunks: readonly Uint8Array[], last?: Uint8Array): Promise<number> {
  const started = await request(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await started.body.dump();
  if (started.statusCode !== 202) return started.statusCode;
  let location = new URL(String(started.headers.location), url).toString();
  let offset = 0;
  for (const chunk of chunks) {
    const patched = await request(location, {
      method: 'PATCH',
      body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}`, 'content-length': String(chunk.length) },
    });
    await patched.body.dump();
    if (patched.statusCode !== 202) return patched.statusCode;
    offset += chunk.length;
    location = new URL(String(patched.headers.location), url).toString();
  }
  const whole = Buffer.concat([...chunks, ...(last ? [last] : [])]);
  const closing = await request(withDigest(location, sha256(whole)), {
    method: 'PUT',
    ...(last ? { body: last, headers: { 'content-type': 'application/octet-stream', 'content-length': String(last.length) } } : {}),
  });
  await closing.body.dump();
  return closing.statusCode;
}

/**
 * A blob pushed in one POST; a registry that opens a session instead (202, as distribution 2.8 does) gets the
 * bytes in the closing PUT, as clients fall back. Throws unless the blob was taken.
 */
export async function pushBlob(url: string, repository: string, bytes: Uint8Array, via?: Dispatcher): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const through = via ? { dispatcher: via } : {};
  const answer = await request(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, ...through });
  await answer.body.dump();
  if (answer.statusCode === 202) {
    const closing = await request(withDigest(new URL(String(answer.headers.location), url).toString(), digest), {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
      ...through,
    });
    await closing.body.dump();
    if (closing.statusCode !== 201) throw new Error(`push of a blob to ${repository}: ${closing.statusCode} closing the upload`);
  } else if (answer.statusCode !== 201) {
    throw new Error(`push of a blob to ${repository}: ${answer.statusCode}`);
  }
  return { digest, size: bytes.length };
}

/** A manifest PUT of `manifest` under `reference`; resolves with the status. */
export async function pushManifestTo(url: string, repository: string, reference: string, manifest: Uint8Array, mediaType = IMAGE_MANIFEST, via?: Dispatcher): Promise<number> {
  const answer = await request(`${url}/v2/${repository}/manifests/${reference}`, { method: 'PUT', body: manifest, headers: { 'content-type': mediaType }, ...(via ? { dispatcher: via } : {}) });
  await answer.body.dump();
  return answer.statusCode;
}

/** An OCI image manifest naming `config` and `layers` (all already pushed). */
export function imageManifest(config: Uint8Array, layers: readonly Uint8Array[], annotations: Record<string, string> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length })),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    }),
  );
}

/**
 * an image under `tag`, with `annotations` on its manifest, `labels` in its config (as docker build's LABEL) and
 * `layerText` as its one layer (a new text: a new digest under the same tag); its digest
 */
export async function pushImageTo(
  url: string,
  repository: string,
  tag: string,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
  layerText = `layer of ${repository}:${tag}`,
): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, tag }));
  return pushTaggedImage(url, repository, { tags: [tag], config, layers: [Buffer.from(layerText)], annotations });
}

/** An image of `config` and `layers` (pushed first) under each of `tags`, one manifest for all; its digest. */
export async function pushTaggedImage(
  url: string,
  repository: string,
  image: { readonly tags: readonly string[]; readonly config: Uint8Array; readonly layers: readonly Uint8Array[]; readonly annotations?: Record<string, string>; readonly via?: Dispatcher },
): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(url, repository, blob, image.via);
  const manifest = imageManifest(image.config, image.layers, image.annotations);
  for (const tag of image.tags) {
    const status = await pushManifestTo(url, repository, tag, manifest, IMAGE_MANIFEST, image.via);
    if (status !== 201) throw new Error(`push of ${repository}:${tag}: ${status}`);
  }
  return sha256(manifest);
}
