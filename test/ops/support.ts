/** stowage from a config file in a temporary folder, in this process (startStowage, as `stowage serve` runs it). */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';

export interface ConfiguredStowage extends RunningStowage {
  readonly dir: string;
}

export async function tempFolder(label: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `stowage-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `yaml` as config.yml in `dir` and starts stowage on it. */
export async function startConfigured(dir: string, yaml: string): Promise<ConfiguredStowage> {
  await writeFile(path.join(dir, 'config.yml'), yaml);
  const config = await loadConfig({ cwd: dir, configFile: 'config.yml', env: {} });
  return { ...(await startStowage(config)), dir };
}

export const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A monolithic blob push (POST ?digest=); resolves with the status. */
export async function pushBlobMonolithic(url: string, repository: string, blob: Buffer): Promise<number> {
  const answer = await request(`${url}/v2/${repository}/blobs/uploads/?digest=${sha256(blob)}`, {
    method: 'POST',
    body: blob,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
  });
  await answer.body.dump();
  return answer.statusCode;
}

/** A chunked blob push: POST, one PATCH per chunk, closing PUT; resolves with the closing status. */
export async function pushBlobChunked(url: string, repository: string, chunks: readonly Buffer[]): Promise<number> {
  const started = await request(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await started.body.dump();
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
  const closing = await request(`${location}${location.includes('?') ? '&' : '?'}digest=${sha256(Buffer.concat(chunks))}`, { method: 'PUT' });
  await closing.body.dump();
  return closing.statusCode;
}

/** An OCI image manifest naming `config` and `layers` (all already pushed). */
export function imageManifest(config: Buffer, layers: readonly Buffer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length })),
    }),
  );
}

export async function pushManifest(url: string, repository: string, reference: string, manifest: Buffer): Promise<number> {
  const answer = await request(`${url}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  await answer.body.dump();
  return answer.statusCode;
}

/** Polls `check` until it holds (a condition to wait for, not a delay): each try is one request to the server. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
