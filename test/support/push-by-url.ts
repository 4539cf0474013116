/** Pushing images to a registry by its URL (a `stowage serve` process), as a client does. */
import { createHash } from 'node:crypto';

export const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * A blob pushed in one POST; a registry that opens a session instead (202, as distribution 2.8 does) gets the
 * bytes in the closing PUT to its `Location`, as clients fall back.
 */
export async function pushBlob(url: string, repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  await response.arrayBuffer();
  if (response.status === 202) {
    const location = new URL(response.headers.get('location') ?? '', url);
    location.searchParams.set('digest', digest);
    const closed = await fetch(location, { method: 'PUT', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    await closed.arrayBuffer();
    if (closed.status !== 201) throw new Error(`push of a blob to ${repository}: ${closed.status} closing the upload`);
  } else if (response.status !== 201) {
    throw new Error(`push of a blob to ${repository}: ${response.status}`);
  }
  return { digest, size: bytes.length };
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
  const config = await pushBlob(url, repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, tag })));
  const layer = await pushBlob(url, repository, Buffer.from(layerText));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    }),
  );
  const response = await fetch(`${url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'Content-Type': IMAGE_MANIFEST } });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`push of ${repository}:${tag}: ${response.status}`);
  return sha256(manifest);
}
