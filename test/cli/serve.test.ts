import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PLUGINS, tempDir } from '../plugins/helpers.js';
import { ensureBuilt, runCli, serveCli, STOWAGE_BIN } from './helpers.js';

const SECRET = 'sup3r-s3cret-token-value';

describe('stowage serve', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('serve');
    await writeFile(
      path.join(work.dir, 'stowage.config.yaml'),
      `http:\n  addr: 127.0.0.1:0\nlog:\n  level: debug\nstorage:\n  notes:\n    rootdirectory: ./data\n    token: ${SECRET}\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`,
    );
  });
  afterAll(() => work.remove());

  it('prints the real address it listens on, answers GET /v2/ with 200, and stops cleanly on SIGTERM', async () => {
    const serving = await serveCli(['--config', 'stowage.config.yaml'], { cwd: work.dir });
    try {
      expect(serving.banner).toMatch(/^stowage listening on http:\/\/127\.0\.0\.1:\d+ \(storage: notes at /);
      expect(serving.banner).toContain(`(storage: notes at ${path.join(work.dir, 'data')})`);
      expect(serving.url).not.toMatch(/:0$/);
      const res = await fetch(`${serving.url}/v2/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    } finally {
      expect(await serving.stop('SIGTERM')).toBe(0);
    }
    expect(serving.output().stdout).toContain('stowage stopped');
  });

  it('stops cleanly on SIGINT too', async () => {
    const serving = await serveCli(['--config', 'stowage.config.yaml'], { cwd: work.dir });
    expect(await serving.stop('SIGINT')).toBe(0);
  });

  it('never writes a secret option to its output, even when the driver logs it', async () => {
    const serving = await serveCli(['--config', 'stowage.config.yaml'], { cwd: work.dir });
    await serving.stop();
    const { stdout, stderr } = serving.output();
    expect(stdout).toContain('authenticating with token [REDACTED]');
    expect(stdout + stderr).not.toContain(SECRET);
  });

  it('a config or plugin error exits 1 with an actionable message before any port is opened', async () => {
    const file = path.join(work.dir, 'bad.yaml');
    await writeFile(file, `http:\n  addr: 127.0.0.1:0\nstorage:\n  notes:\n    rootdirectory: [1]\n    token: ${SECRET}\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const result = await runCli(['serve', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toContain(`${file}: storage.notes.rootdirectory: must be a string`);
    expect(result.stderr).toContain('PLUGIN_OPTIONS_INVALID');
    expect(result.stderr + result.stdout).not.toContain(SECRET);
  });

  it('a port already in use exits 1 naming http.addr and the file', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const file = path.join(work.dir, 'busy.yaml');
    await writeFile(file, `http:\n  addr: 127.0.0.1:${port}\nstorage:\n  notes: { rootdirectory: ./data }\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    try {
      const result = await runCli(['serve', '--config', file], { cwd: work.dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot listen on 127.0.0.1:${port} (http.addr in ${file})`);
      expect(result.stderr).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });

  it('an unknown driver exits 1 listing every place searched', async () => {
    const file = path.join(work.dir, 'unknown.yaml');
    await writeFile(file, 'http:\n  addr: 127.0.0.1:0\nstorage: nosuchstore\n');
    const result = await runCli(['serve', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('storage plugin "nosuchstore" was not found; looked in:');
    expect(result.stderr).toContain('npm: package stowage-driver-nosuchstore in');
    expect(result.stderr).toContain('npm: package @stowage/driver-nosuchstore in');
  });

  it('with no config file, stores under ./data with the filesystem driver and listens on 127.0.0.1:5000', async () => {
    const empty = path.join(work.dir, 'no-config');
    await mkdir(empty, { recursive: true });
    const check = await runCli(['config', 'check'], { cwd: empty });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('listen: 127.0.0.1:5000');
    expect(check.stdout).toContain('storage driver: filesystem');
    // the port itself is overridden so that this test never collides with a registry already on 5000
    const serving = await serveCli([], { cwd: empty, env: { REGISTRY_HTTP_ADDR: '127.0.0.1:0' } });
    try {
      expect(serving.banner).toContain(`(storage: filesystem at ${path.join(empty, 'data')})`);
      expect((await fetch(`${serving.url}/v2/`)).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });

  it('bin/stowage.js says how to build when dist is missing', async () => {
    const unbuilt = path.join(work.dir, 'unbuilt', 'bin');
    await mkdir(unbuilt, { recursive: true });
    await writeFile(path.join(unbuilt, 'stowage.js'), await readFile(STOWAGE_BIN));
    const result = await runCli(['--help'], { cwd: work.dir, bin: path.join(unbuilt, 'stowage.js') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dist/cli/main.js is missing: stowage has not been built');
    expect(result.stderr).toContain('npm run build');
  });
});

describe('stowage serve with storage.maintenance.uploadpurging', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('purging');
    await writeFile(
      path.join(work.dir, 'stowage.config.yaml'),
      'http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ./data\n  maintenance:\n    uploadpurging:\n      enabled: true\n      age: 1s\n      interval: 500ms\n',
    );
  });
  afterAll(() => work.remove());

  it('removes an abandoned upload session, with its data, once it is older than the age', async () => {
    const serving = await serveCli([], { cwd: work.dir });
    try {
      const started = await fetch(`${serving.url}/v2/team/app/blobs/uploads/`, { method: 'POST' });
      expect(started.status).toBe(202);
      const location = new URL(started.headers.get('location')!, serving.url).toString();
      const patched = await fetch(location, { method: 'PATCH', body: 'partial', headers: { 'content-type': 'application/octet-stream' } });
      expect(patched.status).toBe(202);
      expect((await fetch(location)).status).toBe(204);
      const uploads = path.join(work.dir, 'data', 'docker', 'registry', 'v2', 'repositories', 'team', 'app', '_uploads');
      const { readdir } = await import('node:fs/promises');
      const left = (): Promise<string[]> => readdir(uploads).catch(() => []);
      // the session is renamed aside first (the 404), then its folder removed: wait for both
      const deadline = Date.now() + 15_000;
      let status = 204;
      while ((status !== 404 || (await left()).length > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = (await fetch(location)).status;
      }
      expect(status).toBe(404);
      expect(await left()).toEqual([]);
    } finally {
      await serving.stop();
    }
  });
});

describe('stowage serve shutting down with a client connected', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('shutdown');
    await writeFile(path.join(work.dir, 'stowage.config.yaml'), 'http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ./data\n');
  });
  afterAll(() => work.remove());

  it('finishes a request in flight on SIGTERM, then closes its keep-alive connection instead of waiting for it to idle out', async () => {
    const serving = await serveCli([], { cwd: work.dir });
    const url = new URL(serving.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const socketClosed = new Promise((resolve) => socket.once('close', resolve));
    // a chunk upload in flight: headers and half the body now, the rest after the signal
    const started = await fetch(`${serving.url}/v2/app/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location')!;
    socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nhello`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exit = serving.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.write('world');
    const stoppedAt = Date.now();
    expect(await exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    await socketClosed;
    expect(received).toMatch(/^HTTP\/1\.1 202 /);
    expect(received).toMatch(/Range: 0-9/i);
  }, 30_000);
});
