/**
 * Two `stowage serve` processes on one storage folder: a tag moved, rewritten in place (as distribution's
 * filesystem driver writes) or deleted through one, and a manifest deleted, are answered by the other on its
 * very next GET, although the other keeps the link files it read in memory (src/registry/kept-links.ts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStowageProcess, type StowageProcess } from '../support/index.js';
import { IMAGE_MANIFEST, pushImageTo } from '../support/push-by-url.js';
import { settled } from '../support/settled.js';


async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; digest?: string }> {
  const response = await request(url, { method, body, headers });
  await response.body.dump();
  const digest = response.headers['docker-content-digest'];
  return { status: response.statusCode, ...(typeof digest === 'string' ? { digest } : {}) };
}

describe('two stowage processes sharing one storage folder, one answering manifest GETs', () => {
  let writer: StowageProcess;
  let reader: StowageProcess;
  beforeAll(async () => {
    writer = await startStowageProcess();
    reader = await startStowageProcess({ rootdirectory: writer.rootdirectory });
  }, 60_000);
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
  });

  const get = (reference: string) => call(`${reader.url}/v2/shared/tags/manifests/${reference}`, 'GET', undefined, { accept: IMAGE_MANIFEST });
  const repository = () => path.join(writer.rootdirectory, 'docker/registry/v2/repositories/shared/tags/_manifests');
  const tagLink = (tag: string) => path.join(repository(), 'tags', tag, 'current', 'link');
  const revisionLink = (digest: string) => path.join(repository(), 'revisions', 'sha256', digest.slice('sha256:'.length), 'link');

  it('sees a tag moved, rewritten in place or deleted by the other process on its very next GET', async () => {
    const first = await pushImageTo(writer.url, 'shared/tags', 'latest', {}, {}, 'first layer');
    await settled(tagLink('latest'), revisionLink(first));
    // read twice: the second answer comes from the link kept under the file's stamp
    expect(await get('latest')).toEqual({ status: 200, digest: first });
    expect(await get('latest')).toEqual({ status: 200, digest: first });

    const second = await pushImageTo(writer.url, 'shared/tags', 'latest', {}, {}, 'second layer');
    expect(await get('latest')).toEqual({ status: 200, digest: second });

    // distribution rewrites a link in place (same file, same size): its new content is seen all the same
    await settled(tagLink('latest'), revisionLink(second));
    expect(await get('latest')).toEqual({ status: 200, digest: second });
    await writeFile(tagLink('latest'), first);
    expect(await get('latest')).toEqual({ status: 200, digest: first });

    await settled(tagLink('latest'));
    expect(await get('latest')).toEqual({ status: 200, digest: first });
    expect((await call(`${writer.url}/v2/shared/tags/manifests/latest`, 'DELETE')).status).toBe(202);
    expect((await get('latest')).status).toBe(404);
  });

  it('sees a manifest deleted by the other process on its very next GET by digest', async () => {
    const digest = await pushImageTo(writer.url, 'shared/tags', 'doomed', {}, {}, 'doomed layer');
    await settled(tagLink('doomed'), revisionLink(digest));
    expect(await get(digest)).toEqual({ status: 200, digest });
    expect(await get('doomed')).toEqual({ status: 200, digest });
    expect((await call(`${writer.url}/v2/shared/tags/manifests/${digest}`, 'DELETE')).status).toBe(202);
    expect((await get(digest)).status).toBe(404);
    expect((await get('doomed')).status).toBe(404);
  });
});
