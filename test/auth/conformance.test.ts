import { describeConformance } from '../conformance/describe-conformance.js';
import { DEFAULT_SETTINGS } from '../conformance/suite.js';
import { basic, startAuthRegistry } from './support.js';

// The OCI conformance suite once more, as the Go suite runs with OCI_USERNAME/OCI_PASSWORD: every request
// carries Basic credentials of an htpasswd user whose rule grants pull, push and delete everywhere.
describeConformance(
  'stowage with htpasswd authentication and access rules',
  async () => {
    const registry = await startAuthRegistry((dir) => ({
      htpasswd: { realm: 'conformance', path: `${dir}/htpasswd` },
      access: { groups: {}, anonymouspull: [], rules: [{ repositories: ['**'], users: ['alice'], groups: [], actions: ['pull', 'push', 'delete'] }] },
    }));
    return { url: registry.url, host: new URL(registry.url).host, close: () => registry.close() };
  },
  { ...DEFAULT_SETTINGS, authorization: basic('alice').authorization },
);
