#!/usr/bin/env node
// `npm run image [-- --out DIR --tag TAG]`: an OCI image of stowage built from this checkout, written as an OCI
// image layout (DIR, default ./stowage-image), without downloading any base image. Three layers:
//   1. Node's runtime: the `node` running this script and the shared libraries it links (found with ldd), at
//      the same paths;
//   2. stowage's production files: this checkout packed (`npm pack`, as published) and installed globally
//      with production dependencies only under /usr/local;
//   3. the defaults: /etc/stowage/config.yml (filesystem storage under /var/lib/stowage, listening on :5000),
//      /var/lib/stowage owned by the unprivileged user 10001, and /tmp.
// Node runs as PID 1 and handles SIGTERM itself (stowage drains requests in flight, then exits 0).
// Then, for example: skopeo copy oci:stowage-image:dev docker://registry.example/stowage:dev
// The checkout must be built (npm ci / npm run build); layers are uncompressed tars, written with GNU tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'stowage-image') }, tag: { type: 'string', default: 'dev' } } });
const OUT = path.resolve(flags.out);
const USER = '10001:10001';
const APP = '/usr/local/lib/node_modules/stowage';

const run = (command, args, options = {}) => execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, ...options });
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error(`${ROOT}dist is missing: run npm ci (or npm run build) first`);
const buildInfo = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'build-info.json'), 'utf8'));
// every file's time is the commit's, so the same commit gives the same layers
const epoch = buildInfo.commit ? run('git', ['show', '-s', '--format=%ct', buildInfo.commit], { cwd: ROOT }).trim() : '0';

const work = mkdtempSync(path.join(os.tmpdir(), 'stowage-image-'));
try {
  const layers = [nodeRuntime(), stowageFiles(), defaults()];
  writeLayout(layers);
  process.stdout.write(`${OUT} (tag ${flags.tag}): ${layers.map((l) => `${l.name} ${(l.size / 1048576).toFixed(1)} MiB`).join(', ')}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** `node` and every library ldd says it loads, each at the path the dynamic loader will look for it */
function nodeRuntime() {
  const stage = path.join(work, 'node');
  const node = realpathSync(process.execPath);
  const files = new Set([node]);
  for (const line of run('ldd', [node]).split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match) files.add(match[1]);
  }
  for (const file of files) {
    const target = path.join(stage, file);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(realpathSync(file), target);
    chmodSync(target, statSync(realpathSync(file)).mode & 0o777);
  }
  // the entrypoint is /usr/bin/node wherever this machine keeps it
  if (node !== '/usr/bin/node') {
    mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
    symlinkSync(node, path.join(stage, 'usr/bin/node'));
  }
  return layer('node runtime', stage, ['.']);
}

/** the package as `npm pack` publishes it, installed with its production dependencies */
function stowageFiles() {
  const stage = path.join(work, 'app');
  const packed = run('npm', ['pack', ROOT, '--pack-destination', work, '--ignore-scripts', '--silent'], { cwd: work }).trim().split('\n').at(-1);
  run('npm', ['install', '--global', '--prefix', path.join(stage, 'usr/local'), path.join(work, packed), '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], { cwd: work });
  // the packed package carries no .git: the commit it was built from travels in dist/build-info.json
  copyFileSync(path.join(ROOT, 'dist', 'build-info.json'), path.join(stage, APP, 'dist', 'build-info.json'));
  return layer('stowage', stage, ['.']);
}

function defaults() {
  const stage = path.join(work, 'defaults');
  mkdirSync(path.join(stage, 'etc/stowage'), { recursive: true });
  mkdirSync(path.join(stage, 'var/lib/stowage'), { recursive: true });
  mkdirSync(path.join(stage, 'tmp'), { recursive: true });
  chmodSync(path.join(stage, 'tmp'), 0o1777);
  writeFileSync(
    path.join(stage, 'etc/stowage/config.yml'),
    '# stowage in a container: images under /var/lib/stowage (mount a volume there), the API on port 5000.\n' +
      'version: 0.1\nlog:\n  level: info\nhttp:\n  addr: :5000\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/stowage\n',
  );
  writeFileSync(path.join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nstowage:x:10001:10001:stowage:/var/lib/stowage:/sbin/nologin\n');
  writeFileSync(path.join(stage, 'etc/group'), 'root:x:0:\nstowage:x:10001:\n');
  const tarFile = layer('defaults', stage, ['etc', 'tmp']).file;
  // the data folder belongs to the user stowage runs as
  run('tar', [...tarFlags(), '--owner=10001', '--group=10001', '-C', stage, '-rf', tarFile, 'var']);
  return describe('defaults', tarFile);
}

function tarFlags() {
  return ['--sort=name', '--numeric-owner', `--mtime=@${epoch}`, '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];
}

function layer(name, dir, entries) {
  const file = path.join(work, `${name.replace(/\W+/g, '-')}.tar`);
  run('tar', [...tarFlags(), '--owner=0', '--group=0', '-C', dir, '-cf', file, ...entries]);
  return describe(name, file);
}

function describe(name, file) {
  const digest = `sha256:${hashFile(file)}`;
  return { name, file, digest, size: statSync(file).size };
}

function hashFile(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function writeLayout(layers) {
  rmSync(OUT, { recursive: true, force: true });
  const blobs = path.join(OUT, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const putBlob = (content) => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    writeFileSync(path.join(blobs, digest.slice(7)), content);
    return { digest, size: content.length };
  };
  for (const l of layers) copyFileSync(l.file, path.join(blobs, l.digest.slice(7)));
  const created = new Date(Number(epoch) * 1000).toISOString();
  const revision = buildInfo.commit ?? 'unknown';
  const labels = {
    'org.opencontainers.image.title': 'stowage',
    'org.opencontainers.image.version': pkg.version,
    'org.opencontainers.image.revision': revision,
    'org.opencontainers.image.licenses': pkg.license,
  };
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: { x64: 'amd64', arm64: 'arm64' }[process.arch] ?? process.arch,
      os: 'linux',
      config: {
        User: USER,
        Entrypoint: ['/usr/bin/node', `${APP}/bin/stowage.js`],
        Cmd: ['serve', '--config', '/etc/stowage/config.yml'],
        // the options bin/stowage sets elsewhere (the image has no shell to run it): docs/config.md, "Memory"
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production', 'MALLOC_ARENA_MAX=2', 'NODE_OPTIONS=--max-semi-space-size=4', 'UV_THREADPOOL_SIZE=16'],
        WorkingDir: '/var/lib/stowage',
        ExposedPorts: { '5000/tcp': {} },
        Volumes: { '/var/lib/stowage': {} },
        StopSignal: 'SIGTERM',
        Labels: labels,
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: layers.map((l) => ({ created, created_by: `stowage scripts/build-image.mjs: ${l.name}` })),
    }),
  );
  const configBlob = putBlob(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size })),
      annotations: { 'org.opencontainers.image.version': pkg.version, 'org.opencontainers.image.revision': revision },
    }),
  );
  const manifestBlob = putBlob(manifest);
  writeFileSync(path.join(OUT, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(OUT, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': flags.tag } }],
    }),
  );
}
