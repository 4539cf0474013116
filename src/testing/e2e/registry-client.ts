import { createHash } from 'node:crypto';
import { request } from 'undici';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface FetchedManifest {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly dockerContentDigest: string | undefined;
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export async function getManifest(url: string, repository: string, reference: string): Promise<FetchedManifest> {
  const response = await request(`${url}/v2/${repository}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT } });
  const body = Buffer.from(await response.body.arrayBuffer());
  return {
    status: response.statusCode,
    body,
    contentType: header(response.headers['content-type']),
    dockerContentDigest: header(response.headers['docker-content-digest']),
  };
}

/** GETs a blob and hashes it as it streams in; resolves with the status and the digest of the bytes received. */
export async function getBlobDigest(url: string, repository: string, digest: string): Promise<{ status: number; digest: string; size: number }> {
  // fetch follows a redirect to the driver's URL, as clients do
  const response = await fetch(`${url}/v2/${repository}/blobs/${digest}`);
  const hash = createHash('sha256');
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      hash.update(chunk);
      size += chunk.length;
    }
  }
  return { status: response.status, digest: `sha256:${hash.digest('hex')}`, size };
}

export async function headStatus(url: string, pathAndQuery: string): Promise<number> {
  const response = await request(`${url}${pathAndQuery}`, { method: 'HEAD' });
  await response.body.dump();
  return response.statusCode;
}
