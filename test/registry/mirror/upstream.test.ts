import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient, UpstreamError } from '../../../src/registry/mirror/upstream.js';
import { basic, bearer, pushImage, startAuthRegistry, USERS, type AuthRegistry } from '../../auth/support.js';
import { startUpstreamProxy, type UpstreamProxy } from '../../support/upstream-proxy.js';
import { startPopulatedUpstream, type PopulatedUpstream } from './support.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('the upstream client against distribution 2.8 with htpasswd (Basic challenges)', () => {
  let upstream: PopulatedUpstream;
  beforeAll(async () => {
    upstream = await startPopulatedUpstream();
  }, 120_000);
  afterAll(async () => upstream?.close());

  const client = (password?: string): UpstreamClient =>
    new UpstreamClient({ name: 'dist', remoteurl: upstream.proxy.url, username: upstream.user, password: password ?? upstream.password });

  it('fetches a manifest by tag with the configured credentials, its digest the one skopeo pushed', async () => {
    const upstreamClient = client();
    try {
      const manifest = await upstreamClient.getManifest('library/app', 'v1');
      expect(manifest.digest).toBe(upstream.image.rootDigest);
      expect(sha256(manifest.content)).toBe(upstream.image.rootDigest);
      expect(manifest.contentType).toBe('application/vnd.oci.image.manifest.v1+json');
      const head = await upstreamClient.headManifest('library/app', 'v1');
      expect(head.digest).toBe(upstream.image.rootDigest);
    } finally {
      await upstreamClient.close();
    }
  });

  it('after the first challenge sends Basic at once: one 401 for several requests', async () => {
    const upstreamClient = client();
    const before = upstream.proxy.requests.length;
    try {
      const manifest = await upstreamClient.getManifest('library/app', 'v1');
      const layers = (JSON.parse(Buffer.from(manifest.content).toString()) as { layers: { digest: string; size: number }[] }).layers;
      for (const layer of layers) {
        expect(await upstreamClient.headBlob('library/app', layer.digest)).toBe(layer.size);
        const blob = await upstreamClient.getBlob('library/app', layer.digest);
        const chunks: Buffer[] = [];
        for await (const chunk of blob.body) chunks.push(chunk as Buffer);
        expect(sha256(Buffer.concat(chunks))).toBe(layer.digest);
        expect(blob.size).toBe(layer.size);
      }
      // the manifest GET was answered 401 once, then every request carried Basic
      expect(upstream.proxy.requests.length - before).toBe(2 + 2 * layers.length);
    } finally {
      await upstreamClient.close();
    }
  });

  it('answers a manifest by digest, and refuses nothing it verified', async () => {
    const upstreamClient = client();
    try {
      const manifest = await upstreamClient.getManifest('library/multi', upstream.index.rootDigest);
      expect(sha256(manifest.content)).toBe(upstream.index.rootDigest);
      expect(manifest.contentType).toBe('application/vnd.oci.image.index.v1+json');
    } finally {
      await upstreamClient.close();
    }
  });

  it('wrong credentials are an "unauthorized" failure naming the upstream and the user, never the password', async () => {
    const upstreamClient = client('not-the-password-xyz');
    try {
      const failure = await failureOf(upstreamClient.getManifest('library/app', 'v1'));
      expect(failure.failure).toBe('unauthorized');
      expect(failure.message).toContain('dist');
      expect(failure.message).toContain('alice');
      expect(failure.message).not.toContain('not-the-password-xyz');
      expect(JSON.stringify(failure)).not.toContain('not-the-password-xyz');
    } finally {
      await upstreamClient.close();
    }
  });

  it('an unknown repository or tag is "not-found"', async () => {
    const upstreamClient = client();
    try {
      expect((await failureOf(upstreamClient.getManifest('library/app', 'nope'))).failure).toBe('not-found');
      expect((await failureOf(upstreamClient.headBlob('library/app', `sha256:${'0'.repeat(64)}`))).failure).toBe('not-found');
    } finally {
      await upstreamClient.close();
    }
  });
});

describe('the upstream client against stowage with its token server (Bearer challenges)', () => {
  let registry: AuthRegistry;
  let proxy: UpstreamProxy;
  let now = Date.UTC(2026, 0, 1);
  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => ({
      htpasswd: { realm: 'upstream', path: `${dir}/htpasswd` },
      token: { realm: '/auth/token', service: 'upstream-service', issuer: 'upstream-issuer' },
      tokenserver: { expiration: '5m' },
      access: { groups: {}, anonymouspull: ['public/*'], rules: [{ repositories: ['team/*', 'public/*'], users: ['alice'], groups: [], actions: ['pull', 'push'] }] },
    }));
    const token = await registry.send('GET', '/auth/token?service=upstream-service&scope=repository:team/app:pull,push', { headers: basic('alice') });
    await pushImage(registry, 'team/app', 'v1', bearer(token.json<{ token: string }>().token));
    const otherToken = await registry.send('GET', '/auth/token?service=upstream-service&scope=repository:team/other:pull,push', { headers: basic('alice') });
    await pushImage(registry, 'team/other', 'v1', bearer(otherToken.json<{ token: string }>().token));
    const publicToken = await registry.send('GET', '/auth/token?service=upstream-service&scope=repository:public/app:pull,push', { headers: basic('alice') });
    await pushImage(registry, 'public/app', 'v1', bearer(publicToken.json<{ token: string }>().token));
    // the realm is built from the Host header, which the proxy keeps: token requests pass through it too
    proxy = await startUpstreamProxy(registry.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.close();
  });

  it('fetches a token with the credentials, keeps it for its scope until it expires, then fetches another', async () => {
    const client = new UpstreamClient({ name: 'stowage', remoteurl: proxy.url, username: 'alice', password: USERS.alice! }, { now: () => now });
    try {
      const tokens = (): number => proxy.count('GET', /^\/auth\/token\?/);
      const first = await client.getManifest('team/app', 'v1');
      expect(tokens()).toBe(1);
      expect(proxy.requests.filter((r) => r.path.startsWith('/auth/token')).at(-1)!.path).toContain('scope=repository%3Ateam%2Fapp%3Apull');
      await client.headManifest('team/app', 'v1');
      await client.getManifest('team/app', first.digest);
      expect(tokens()).toBe(1);
      // another repository is another scope
      await client.getManifest('team/other', 'v1');
      expect(tokens()).toBe(2);
      // five minutes later the token has expired
      now += 5 * 60_000;
      await client.headManifest('team/app', 'v1');
      expect(tokens()).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('pulls anonymously what the upstream lets anyone pull, and reports "unauthorized" for the rest', async () => {
    const client = new UpstreamClient({ name: 'stowage', remoteurl: proxy.url });
    try {
      expect((await client.getManifest('public/app', 'v1')).content.length).toBeGreaterThan(0);
      const failure = await failureOf(client.getManifest('team/app', 'v1'));
      expect(failure.failure).toBe('unauthorized');
      expect(failure.message).toContain('anonymous');
    } finally {
      await client.close();
    }
  });

  it('a wrong password is refused at the token server, and the message does not carry it', async () => {
    const client = new UpstreamClient({ name: 'stowage', remoteurl: proxy.url, username: 'alice', password: 'wrong-password-123' });
    try {
      const failure = await failureOf(client.getManifest('team/app', 'v1'));
      expect(failure.failure).toBe('unauthorized');
      expect(failure.message).toContain('token server');
      expect(failure.message).not.toContain('wrong-password-123');
    } finally {
      await client.close();
    }
  });

  it('an upstream that is down is "unavailable"', async () => {
    const client = new UpstreamClient({ name: 'stowage', remoteurl: proxy.url }, { headersTimeoutMs: 5_000 });
    proxy.setDown(true);
    try {
      expect((await failureOf(client.getManifest('public/app', 'v1'))).failure).toBe('unavailable');
    } finally {
      proxy.setDown(false);
      await client.close();
    }
  });
});
