// Starting the two registries the benchmark compares, each as its own process on loopback.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export function ensureDebianPackage(pkg, binary) {
  if (spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (spawnSync('apt-cache', ['show', pkg], { stdio: 'ignore' }).status !== 0) spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  if (install.status !== 0) throw new Error(`apt-get install ${pkg} failed`);
}

async function waitForRegistry(url, child, output) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited early:\n${output()}`);
    try {
      const response = await fetch(`${url}/v2/`);
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url}: no answer within 30 s:\n${output()}`);
}

/** `pid` and every process under it (a server with workers), read from /proc. */
function processTree(pid) {
  const found = [pid];
  let threads = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const thread of threads) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim();
    } catch {
      /* the thread ended */
    }
    for (const child of children ? children.split(' ') : []) found.push(...processTree(Number(child)));
  }
  return found;
}

/** the sum over the processes of a `/proc/<pid>/status` field in kB, in bytes */
function statusSum(pids, field) {
  let sum = 0;
  for (const pid of pids) {
    try {
      const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
      if (match) sum += Number(match[1]) * 1024;
    } catch {
      /* the process is gone */
    }
  }
  return sum;
}

/**
 * Peak RSS (bytes) of a server, sampled every 100 ms: the sum over its process and every process under it
 * (a primary and its workers), so a server with workers is measured whole.
 */
function rssSampler(pid) {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, statusSum(processTree(pid), 'VmRSS'));
  };
  sample();
  const timer = setInterval(sample, 100);
  timer.unref();
  return { peak: () => peak, now: () => statusSum(processTree(pid), 'VmRSS'), stop: () => clearInterval(timer) };
}

/** CPU time (user + system, all threads) a process and every process under it have used so far, in ms (clock ticks of 10 ms). */
function cpuMs(pid) {
  let sum = 0;
  for (const each of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${each}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      /* gone: its CPU is lost to the count (a worker does not exit during a run) */
    }
  }
  return sum;
}

async function launch(name, command, args, workdir, port, env) {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  await waitForRegistry(url, child, () => log);
  const rss = rssSampler(child.pid);
  return {
    name,
    url,
    /** the filesystem driver's root directory (bench/layout.js writes content there directly) */
    storageRoot: path.join(workdir, 'storage'),
    pid: child.pid,
    rss,
    cpuMs: () => cpuMs(child.pid),
    async close() {
      rss.stop();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      await rm(workdir, { recursive: true, force: true });
    },
  };
}

/** CNCF distribution 2.8 from Debian (`docker-registry`), filesystem storage. */
export async function startDistribution(baseDir) {
  ensureDebianPackage('docker-registry', 'docker-registry');
  const workdir = await mkdtemp(path.join(baseDir, 'distribution-'));
  const root = path.join(workdir, 'storage');
  await mkdir(root);
  const port = await freePort();
  const config = path.join(workdir, 'config.yml');
  await writeFile(
    config,
    `version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage:
  filesystem: { rootdirectory: ${JSON.stringify(root)} }
  delete: { enabled: true }
  maintenance: { uploadpurging: { enabled: false } }
http: { addr: 127.0.0.1:${port} }
`,
  );
  return launch('distribution', 'docker-registry', ['serve', config], workdir, port, { PATH: process.env.PATH, HOME: workdir });
}

/**
 * Whether the checkout's stowage reconciles its catalog index with the tree on a timer
 * (storage.maintenance.catalog.interval). The benchmark turns it off, as it turns off upload purging: a
 * background walk of 100,000 repositories would land in whatever is being measured at the time. A checkout
 * from before the key would refuse it.
 */
function reconcilesCatalog(checkout) {
  const schema = readFileSync(path.join(checkout, 'schemas', 'config.schema.json'), 'utf8');
  return schema.includes('or 0 to turn the reconcile off');
}

/**
 * The bench's stowage config in `workdir`: the filesystem driver on `root`, on 127.0.0.1:`port`, no upload
 * purging; `workers`: http.workers (unset: the default); `catalogUpkeepOff`: no background catalog reconcile
 * (a checkout from before the catalog index does not know the key). Answers the file's path.
 */
export async function writeStowageConfig(workdir, root, port, { workers = undefined, catalogUpkeepOff = true } = {}) {
  const config = path.join(workdir, 'stowage.config.yaml');
  await writeFile(
    config,
    `version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: ${JSON.stringify(root)} }
  delete: { enabled: true }
  maintenance: { uploadpurging: { enabled: false }${catalogUpkeepOff ? ', catalog: { interval: 0 }' : ''} }
http: { addr: 127.0.0.1:${port}${workers === undefined ? '' : `, workers: ${workers}`} }
`,
  );
  return config;
}

/**
 * stowage from this checkout (`node bin/stowage.js serve`), filesystem driver. Needs `npm run build`.
 * `checkout`: another built checkout instead (the benchmark's `--baseline`); `workers`: its `http.workers`
 * (the benchmark's `--workers`; unset: the default, one process); `nodeFlags`: node options before the script
 * (the benchmark's `--node-flags`, e.g. `--max-semi-space-size=2`).
 */
export async function startStowage(baseDir, checkout = PROJECT_ROOT, workers = undefined, nodeFlags = []) {
  if (!existsSync(path.join(checkout, 'dist', 'cli', 'main.js'))) throw new Error(`stowage in ${checkout} is not built: run \`npm run build\` there first`);
  const workdir = await mkdtemp(path.join(baseDir, 'stowage-'));
  const root = path.join(workdir, 'storage');
  await mkdir(root);
  const port = await freePort();
  const config = await writeStowageConfig(workdir, root, port, { workers, catalogUpkeepOff: reconcilesCatalog(checkout) });
  // stowage as operators start it: the bin's shell wrapper where the checkout has one (it sets the memory
  // options, docs/config.md "Memory"), with the bench's node first on the PATH and its flags in NODE_OPTIONS
  const wrapper = path.join(checkout, 'bin', 'stowage');
  const command = existsSync(wrapper) ? [wrapper] : [process.execPath, ...nodeFlags, path.join(checkout, 'bin', 'stowage.js')];
  const server = await launch('stowage', command[0], [...command.slice(1), 'serve', '--config', config], workdir, port, {
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
    HOME: workdir,
    NODE_ENV: 'production',
    ...(existsSync(wrapper) && nodeFlags.length > 0 ? { NODE_OPTIONS: nodeFlags.join(' ') } : {}),
  });
  return {
    ...server,
    /**
     * After bench/layout.js wrote repositories straight into storage: stowage's catalog index lists only
     * what was pushed through stowage or found by a walk, so walk again (`stowage catalog rebuild`, as an
     * operator does after adding repositories behind its back). A checkout from before the index has none.
     */
    async afterDirectWrites() {
      if (!existsSync(path.join(checkout, 'dist', 'cli', 'catalog-rebuild.js'))) return;
      await promisify(execFile)(process.execPath, [path.join(checkout, 'bin', 'stowage.js'), 'catalog', 'rebuild', '--config', config], { cwd: workdir, env: { PATH: process.env.PATH, HOME: workdir } });
    },
  };
}

export async function benchBaseDir() {
  return mkdtemp(path.join(os.tmpdir(), 'stowage-bench-'));
}
