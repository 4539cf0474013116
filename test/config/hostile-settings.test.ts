import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const load = async (text: string) => {
  const cwd = await workdir({ 'config.yml': text });
  return { file: path.join(cwd, 'config.yml'), result: loadConfig({ cwd, configFile: 'config.yml', env: {} }) };
};

describe('security settings stowage cannot honour are refused, never warnings', () => {
  // written out from distribution's configuration reference, not from stowage's table
  const unhonoured: readonly [string, string][] = [
    ['auth.silly', 'auth:\n  silly:\n    realm: silly-realm\n    service: silly-service\n'],
    ['auth.ldap', 'auth:\n  ldap:\n    url: ldap://example.com\n'],
    ['http.tls.letsencrypt', 'http:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    letsencrypt:\n      cachefile: /cache\n      email: ops@example.com\n'],
    ['http.tls.ciphersuites', 'http:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    ciphersuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n'],
    ['validation.manifests.urls', 'validation:\n  manifests:\n    urls:\n      deny: ["^https?://"]\n'],
  ];
  for (const [key, section] of unhonoured) {
    it(`${key} is refused with its file and key (a config error, or in config.refusals), and is not a warning`, async () => {
      const { file, result } = await load(`version: 0.1\nstorage: inmemory\n${section}`);
      const outcome = await result.then(
        (config) => ({ refused: (config.refusals ?? []).map((issue) => `${issue.file}: ${issue.path}`), warned: (config.warnings ?? []).map((issue) => issue.path) }),
        (err: { issues?: { file: string; path: string }[] }) => ({ refused: (err.issues ?? []).map((issue) => `${issue.file}: ${issue.path}`), warned: [] as string[] }),
      );
      expect(outcome.refused).toContain(`${file}: ${key}`);
      expect(outcome.warned).not.toContain(key);
    });
  }

  it('implemented security settings (htpasswd, token, TLS) are neither refused nor warned about', async () => {
    const { result } = await load(
      'version: 0.1\nstorage: inmemory\nauth:\n  htpasswd:\n    realm: r\n    path: /etc/htpasswd\nhttp:\n  tls:\n    certificate: /c.pem\n    key: /k.pem\n    minimumtls: tls1.2\n',
    );
    const config = await result;
    expect(config.refusals).toEqual([]);
    expect(config.warnings).toEqual([]);
  });

  it('a config without security settings has no refusals, and its other ignored settings are warnings', async () => {
    const { result } = await load('version: 0.1\nstorage: inmemory\nredis:\n  addr: localhost:6379\n');
    const config = await result;
    expect(config.refusals).toEqual([]);
    expect(config.warnings?.map((issue) => issue.path)).toEqual(['redis']);
  });
});

describe('http.headers and http.host are checked when the config is read', () => {
  const bad: readonly [string, string, string][] = [
    ['a CR/LF in a header value', 'http:\n  headers:\n    X-Frame-Options: ["DENY\\r\\nSet-Cookie: a=b"]\n', 'http.headers.X-Frame-Options'],
    ['a LF in a header value given as a string', 'http:\n  headers:\n    X-Test: "a\\nb"\n', 'http.headers.X-Test'],
    ['a NUL in a header value', 'http:\n  headers:\n    X-Test: ["a\\0b"]\n', 'http.headers.X-Test'],
    ['a space in a header name', 'http:\n  headers:\n    "X Bad": [yes]\n', 'http.headers.X Bad'],
    ['a colon in a header name', 'http:\n  headers:\n    "X-Bad:": [yes]\n', 'http.headers.X-Bad:'],
    ['a CR/LF in http.host', 'http:\n  host: "https://registry.example.com\\r\\nX-Injected: 1"\n', 'http.host'],
    ['a space in http.host', 'http:\n  host: "https://registry.example.com /x"\n', 'http.host'],
    ['an http.host without a scheme', 'http:\n  host: registry.example.com\n', 'http.host'],
  ];
  for (const [what, section, key] of bad) {
    it(`${what} is a config error naming ${key}`, async () => {
      const { file, result } = await load(`version: 0.1\nstorage: inmemory\n${section}`);
      expectIssue(await configErrorOf(result), file, key);
    });
  }

  it("distribution's own header examples and an https host with a path pass", async () => {
    const { result } = await load(
      'version: 0.1\nstorage: inmemory\nhttp:\n  host: https://registry.example.com/mirror\n  headers:\n    X-Content-Type-Options: [nosniff]\n    Strict-Transport-Security: ["max-age=63072000; includeSubDomains"]\n',
    );
    const config = await result;
    expect(config.http.headers).toEqual({ 'X-Content-Type-Options': 'nosniff', 'Strict-Transport-Security': 'max-age=63072000; includeSubDomains' });
    expect(config.http.host).toBe('https://registry.example.com/mirror');
  });
});
