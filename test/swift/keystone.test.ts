import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeystoneReplay, type KeystoneAccount, type KeystoneReplay } from './keystone-replay.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { driverContext, readAll, recordingLogger, swiftDriver, uniqueName } from './drivers.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// Keystone itself cannot run here (it needs a database and a WSGI server): the token exchange is
// checked against recorded-shape v2 and v3 answers, and the token they carry is a real Swift token.
const account: KeystoneAccount = {
  username: 'registry',
  password: 's3cret',
  userDomain: 'Default',
  project: 'images',
  projectId: '8d2b7a09fe4e4d2b8d2fb1e0d5f3a6c1',
  projectDomain: 'Default',
  region: 'RegionOne',
};

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;
let keystone: KeystoneReplay;
let keystoneTls: KeystoneReplay;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
  const swift = {
    storageUrl: endpoint.storageUrl,
    token: async () => {
      const response = await request(endpoint.authUrl, { headers: { 'x-auth-user': endpoint.user, 'x-auth-key': endpoint.key } });
      await response.body.dump();
      return String(response.headers['x-auth-token']);
    },
  };
  keystone = await startKeystoneReplay(account, swift);
  // a self-signed certificate for 127.0.0.1 (fixtures/keystone-tls.*), valid until 2126
  keystoneTls = await startKeystoneReplay(account, swift, {
    cert: readFileSync(path.join(here, 'fixtures/keystone-tls.crt'), 'utf8'),
    key: readFileSync(path.join(here, 'fixtures/keystone-tls.key'), 'utf8'),
  });
});

afterAll(async () => {
  await keystone?.close();
  await keystoneTls?.close();
  await release?.();
});

describe('swift driver with Keystone authentication', () => {
  it('authenticates with Keystone v2 (tenant name, region) and stores through the catalog endpoint', async () => {
    const driver = await swiftDriver(endpoint, {
      authurl: `${keystone.url}/v2.0`,
      username: account.username,
      password: account.password,
      tenant: account.project,
      region: account.region,
    });
    try {
      await driver.putContent('/ks/v2', Buffer.from('via keystone v2'));
      expect((await readAll(await driver.reader('/ks/v2', 0))).toString()).toBe('via keystone v2');
    } finally {
      await driver.close?.();
    }
    const sent = keystone.requests.find((r) => r.path === '/v2.0/tokens')?.body;
    expect(sent).toEqual({ auth: { passwordCredentials: { username: account.username, password: account.password }, tenantName: account.project } });
  });

  it('authenticates with Keystone v3 (user and project domains) and picks the public endpoint of its region', async () => {
    const driver = await swiftDriver(endpoint, {
      authurl: `${keystone.url}/v3`,
      authversion: 3,
      username: account.username,
      password: account.password,
      domain: account.userDomain,
      tenant: account.project,
      tenantdomain: account.projectDomain,
      region: account.region,
    });
    try {
      await driver.putContent('/ks/v3', Buffer.from('via keystone v3'));
      expect(Buffer.from(await driver.getContent('/ks/v3')).toString()).toBe('via keystone v3');
    } finally {
      await driver.close?.();
    }
    const sent = keystone.requests.find((r) => r.path === '/v3/auth/tokens')?.body as { auth: { scope: unknown } };
    expect(sent.auth.scope).toEqual({ project: { name: account.project, domain: { name: account.projectDomain } } });
  });

  it('fails with a clear error, naming no secret, when Keystone refuses the password', async () => {
    const failure = swiftDriver(endpoint, { authurl: `${keystone.url}/v3`, username: account.username, password: 'wrong-password', domain: account.userDomain, tenant: account.project, tenantdomain: account.projectDomain });
    await expect(failure).rejects.toThrow(/authentication .* answered 401/);
    await expect(failure).rejects.not.toThrow(/wrong-password/);
  });

  it('fails when the catalog has no object-store endpoint in the configured region', async () => {
    await expect(
      swiftDriver(endpoint, { authurl: `${keystone.url}/v2.0`, username: account.username, password: account.password, tenant: account.project, region: 'Nowhere' }),
    ).rejects.toThrow(/no object-store public endpoint in region Nowhere/);
  });

  it('trusts an identity service whose certificate is signed by the cacert file, relative to the config folder', async () => {
    const tlsOptions = { container: uniqueName('tls'), authurl: `${keystoneTls.url}/v2.0`, username: account.username, password: account.password, tenant: account.project, region: account.region };
    await expect(swiftDriver(endpoint, tlsOptions)).rejects.toThrow(/certificate/);
    const context = { ...driverContext('swift', recordingLogger()), baseDir: here };
    const trusting = await swiftDriver(endpoint, { ...tlsOptions, cacert: 'fixtures/keystone-tls.crt' }, context);
    await trusting.putContent('/ks/tls', Buffer.from('over tls'));
    await trusting.close?.();
    const skipping = await swiftDriver(endpoint, { ...tlsOptions, insecureskipverify: true });
    expect(Buffer.from(await skipping.getContent('/ks/tls')).toString()).toBe('over tls');
    await skipping.close?.();
  });
});
