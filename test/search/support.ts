/** Pushing to, deleting from and searching a registry by its URL (a `stowage serve` process). */
import { createHash } from 'node:crypto';

const IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function pushBlob(url: string, repository: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`push of a blob to ${repository}: ${response.status}`);
  return { digest, size: bytes.length };
}

/** an image under `tag`, with `annotations` on its manifest and `labels` in its config (as docker build's LABEL); its digest */
export async function pushImageTo(url: string, repository: string, tag: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Promise<string> {
  const config = await pushBlob(url, repository, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, tag })));
  const layer = await pushBlob(url, repository, Buffer.from(`layer of ${repository}:${tag}`));
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

export async function deleteManifestAt(url: string, repository: string, digest: string): Promise<number> {
  const response = await fetch(`${url}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
  await response.arrayBuffer();
  return response.status;
}

/** `/v2/_stowage/search?q=` (every page): repository -> its shown tags */
export async function searchAt(url: string, term: string): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  let next: string | undefined = `${url}/v2/_stowage/search?q=${encodeURIComponent(term)}&n=50`;
  while (next) {
    const response: Response = await fetch(next);
    if (response.status !== 200) throw new Error(`search ${term}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { repositories: { name: string; tags: string[] }[] };
    for (const { name, tags } of body.repositories) found[name] = tags;
    const link = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    next = link ? new URL(link, url).toString() : undefined;
  }
  return found;
}

/** `/v1/search?q=` (what `docker search` asks): the names */
export async function searchV1At(url: string, term: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/search?q=${encodeURIComponent(term)}&n=100`);
  if (response.status !== 200) throw new Error(`v1 search ${term}: ${response.status}`);
  return ((await response.json()) as { results: { name: string }[] }).results.map((r) => r.name);
}
