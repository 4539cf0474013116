/**
 * A loopback stand-in for Keystone's token API (v2.0 and v3), answering with the documents a real
 * Keystone sends (shapes as in the Identity API reference: serviceCatalog/endpoints with
 * publicURL/internalURL/adminURL in v2, token.catalog/endpoints with interface in v3 and the token in
 * X-Subject-Token). The token it hands out is a real tempauth token of the Swift under test, and the
 * object-store endpoint points at that Swift, so a driver that authenticates here then really works.
 * It checks the credentials and the request shape, and records every request for the test to read.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface KeystoneAccount {
  readonly username: string;
  readonly password: string;
  readonly userDomain: string;
  readonly project: string;
  readonly projectId: string;
  readonly projectDomain: string;
  readonly region: string;
}

export interface KeystoneReplay {
  readonly url: string;
  readonly requests: { path: string; body: unknown }[];
  close(): Promise<void>;
}

export async function startKeystoneReplay(
  account: KeystoneAccount,
  swift: { storageUrl: string; token: () => Promise<string> },
  /** serve HTTPS with this certificate instead of HTTP */
  tls?: { cert: string; key: string },
): Promise<KeystoneReplay> {
  const requests: { path: string; body: unknown }[] = [];
  const now = new Date();
  const expires = new Date(now.getTime() + 3600_000).toISOString();
  const publicUrl = swift.storageUrl;
  const otherRegionUrl = 'http://127.0.0.1:9/v1/AUTH_wrong_region';
  const internalUrl = swift.storageUrl;

  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        requests.push({ path: req.url ?? '', body });
        const reply = (status: number, document: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(document));
        };
        const unauthorized = () => reply(401, { error: { message: 'The request you have made requires authentication.', code: 401, title: 'Unauthorized' } });
        if (req.method === 'POST' && req.url === '/v2.0/tokens') {
          const auth = (body as { auth?: { passwordCredentials?: { username?: string; password?: string }; tenantName?: string; tenantId?: string } })?.auth;
          const credentials = auth?.passwordCredentials;
          if (credentials?.username !== account.username || credentials.password !== account.password) return unauthorized();
          if (auth?.tenantName !== account.project && auth?.tenantId !== account.projectId) return unauthorized();
          const token = await swift.token();
          return reply(200, {
            access: {
              token: { issued_at: now.toISOString(), expires, id: token, tenant: { description: null, enabled: true, id: account.projectId, name: account.project }, audit_ids: ['Ytk1Q8sGT1e3bKvYqWiAUQ'] },
              serviceCatalog: [
                { endpoints: [{ adminURL: 'http://127.0.0.1:9/v2.0', region: account.region, internalURL: 'http://127.0.0.1:9/v2.0', id: '0f3f', publicURL: 'http://127.0.0.1:9/v2.0' }], endpoints_links: [], type: 'identity', name: 'keystone' },
                { endpoints: [{ adminURL: otherRegionUrl, region: 'OtherRegion', internalURL: otherRegionUrl, id: '1a2b', publicURL: otherRegionUrl }], endpoints_links: [], type: 'object-store', name: 'swift' },
                { endpoints: [{ adminURL: 'http://127.0.0.1:9/admin', region: account.region, internalURL: internalUrl, id: '3c4d', publicURL: publicUrl }], endpoints_links: [], type: 'object-store', name: 'swift' },
              ],
              user: { username: account.username, roles_links: [], id: '9a8b7c', roles: [{ name: 'member' }], name: account.username },
              metadata: { is_admin: 0, roles: ['9fe2ff9ee4384b1894a90878d3e92bab'] },
            },
          });
        }
        if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
          const auth = (body as { auth?: { identity?: { methods?: string[]; password?: { user?: { name?: string; password?: string; domain?: { name?: string } } } }; scope?: { project?: { name?: string; id?: string; domain?: { name?: string } } } } })?.auth;
          const user = auth?.identity?.password?.user;
          if (!auth?.identity?.methods?.includes('password') || user?.name !== account.username || user.password !== account.password || user.domain?.name !== account.userDomain) return unauthorized();
          const project = auth.scope?.project;
          if (!(project?.id === account.projectId || (project?.name === account.project && project.domain?.name === account.projectDomain))) return unauthorized();
          const token = await swift.token();
          return reply(
            201,
            {
              token: {
                methods: ['password'],
                user: { domain: { id: 'default', name: account.userDomain }, id: '9a8b7c', name: account.username, password_expires_at: null },
                audit_ids: ['3T2dc1CGQxyJsHdDu1xkcw'],
                expires_at: expires,
                issued_at: now.toISOString(),
                project: { domain: { id: 'default', name: account.projectDomain }, id: account.projectId, name: account.project },
                is_domain: false,
                roles: [{ id: '9fe2ff9ee4384b1894a90878d3e92bab', name: 'member' }],
                catalog: [
                  { endpoints: [{ id: 'e1', interface: 'public', region: account.region, region_id: account.region, url: 'http://127.0.0.1:9/v3' }], id: 's1', type: 'identity', name: 'keystone' },
                  {
                    endpoints: [
                      { id: 'e2', interface: 'public', region: 'OtherRegion', region_id: 'OtherRegion', url: otherRegionUrl },
                      { id: 'e3', interface: 'admin', region: account.region, region_id: account.region, url: 'http://127.0.0.1:9/admin' },
                      { id: 'e4', interface: 'internal', region: account.region, region_id: account.region, url: internalUrl },
                      { id: 'e5', interface: 'public', region: account.region, region_id: account.region, url: publicUrl },
                    ],
                    id: 's2',
                    type: 'object-store',
                    name: 'swift',
                  },
                ],
              },
            },
            { 'x-subject-token': token },
          );
        }
        reply(404, { error: { message: 'The resource could not be found.', code: 404, title: 'Not Found' } });
      })();
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
