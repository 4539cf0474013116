/**
 * http.cors from a real browser: headless Chromium (Debian `chromium`, driven by playwright-core) opens a page
 * served from another loopback origin, which reads a tag list and a blob from stowage with a custom header
 * (so the browser sends a preflight first) and reads the exposed Docker-Content-Digest; a page from an
 * origin stowage does not allow is blocked by the browser itself.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianTools } from '../support/debian.js';
import { imageManifest, pushBlobMonolithic, pushManifestTo, sha256 } from '../support/push-by-url.js';
import { startConfigured, tempFolder, type ConfiguredStowage } from './support.js';

const CHROMIUM = { package: 'chromium', binary: 'chromium' };

/** A page server on its own loopback port: a different origin from stowage's. */
async function startPageServer(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>registry ui</title><p>registry ui</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('CORS from a page in headless Chromium', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let allowedPage: Awaited<ReturnType<typeof startPageServer>>;
  let otherPage: Awaited<ReturnType<typeof startPageServer>>;
  let stowage: ConfiguredStowage;
  let browser: BrowserContext;
  let profile: string;
  const layer = randomBytes(2048);

  beforeAll(async () => {
    ensureDebianTools(CHROMIUM);
    work = await tempFolder('cors');
    allowedPage = await startPageServer();
    otherPage = await startPageServer();
    stowage = await startConfigured(
      work.dir,
      [
        'log: { level: warn }',
        'http:',
        '  addr: 127.0.0.1:0',
        '  cors:',
        `    origins: ["${allowedPage.origin}"]`,
        '    methods: [GET, HEAD]',
        '    headers: [Accept, X-Trace]',
        'storage:',
        '  filesystem: { rootdirectory: ./data }',
        '',
      ].join('\n'),
    );
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    expect(await pushBlobMonolithic(stowage.url, 'ui/app', layer)).toBe(201);
    expect(await pushBlobMonolithic(stowage.url, 'ui/app', config)).toBe(201);
    expect(await pushManifestTo(stowage.url, 'ui/app', 'v1', imageManifest(config, [layer]))).toBe(201);
    profile = await mkdtemp(path.join(os.tmpdir(), 'stowage-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stowage?.close();
    await allowedPage?.close();
    await otherPage?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await work?.remove();
  });

  /** Runs in the page: the tag list and the blob, each with a custom header; what the page could read, or the error. */
  const readFromPage = (registry: string, digest: string) =>
    (async ({ registry, digest }) => {
      try {
        const tags = await fetch(`${registry}/v2/ui/app/tags/list`, { headers: { 'X-Trace': 'tags' } });
        const blob = await fetch(`${registry}/v2/ui/app/blobs/${digest}`, { headers: { 'X-Trace': 'blob' } });
        const bytes = new Uint8Array(await blob.arrayBuffer());
        return { ok: true as const, tags: await tags.json(), blobStatus: blob.status, digestHeader: blob.headers.get('Docker-Content-Digest'), size: bytes.length, first: Array.from(bytes.slice(0, 4)) };
      } catch (err) {
        return { ok: false as const, error: String(err) };
      }
    }) satisfies (args: { registry: string; digest: string }) => Promise<unknown>;

  it('lets a page from an allowed origin read tags and a blob, sending a custom header, and read the exposed digest header', async () => {
    const page = await browser.newPage();
    await page.goto(`${allowedPage.origin}/`);
    const result = await page.evaluate(readFromPage(stowage.url, sha256(layer)), { registry: stowage.url, digest: sha256(layer) });
    expect(result).toEqual({ ok: true, tags: { name: 'ui/app', tags: ['v1'] }, blobStatus: 200, digestHeader: sha256(layer), size: layer.length, first: Array.from(layer.subarray(0, 4)) });
    await page.close();
  });

  it('blocks a page from an origin that is not allowed: the browser refuses the preflight answer', async () => {
    const page = await browser.newPage();
    await page.goto(`${otherPage.origin}/`);
    const result = await page.evaluate(readFromPage(stowage.url, sha256(layer)), { registry: stowage.url, digest: sha256(layer) });
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/TypeError: Failed to fetch/) });
    await page.close();
    // the same request outside a browser is answered: the preflight is what refuses the page
    const preflight = await fetch(`${stowage.url}/v2/ui/app/tags/list`, {
      method: 'OPTIONS',
      headers: { origin: otherPage.origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-trace' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
