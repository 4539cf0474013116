// The operations the benchmark times, written against the plain OCI API (undici, keep-alive connections).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { repositoryName, tagName, writeRepositories, writeTags } from './layout.js';
import { wrkAvailable, wrkGet } from './wrk.js';

const MiB = 1024 * 1024;
const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 32 });

/** Deterministic incompressible bytes (AES-128-CTR keystream). */
export function deterministicBytes(seed, size) {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(Buffer.alloc(size));
}

function digestOf(content) {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** A copy of `template` with a fresh random head, so every push is a new blob. */
function freshBlob(template) {
  const content = Buffer.from(template);
  randomBytes(32).copy(content, 0);
  return { content, digest: digestOf(content) };
}

async function call(url, options = {}) {
  const response = await request(url, { ...options, dispatcher: options.dispatcher ?? dispatcher });
  const body = options.keepBody ? Buffer.from(await response.body.arrayBuffer()) : undefined;
  if (!options.keepBody) await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
  const expected = options.expect ?? [200];
  if (!expected.includes(response.statusCode)) {
    throw new Error(`${options.method ?? 'GET'} ${url}: HTTP ${response.statusCode}, expected ${expected.join('/')}`);
  }
  return { status: response.statusCode, headers: response.headers, body };
}

function location(base, response) {
  const value = response.headers.location;
  return new URL(Array.isArray(value) ? value[0] : value, base);
}

async function startUpload(base, repo, via = dispatcher) {
  return location(base, await call(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', expect: [202], dispatcher: via }));
}

/** `via`: another undici dispatcher (one with more connections, for many uploads at once). */
export async function pushMonolithic(base, repo, blob, via = dispatcher) {
  const target = await startUpload(base, repo, via);
  target.searchParams.set('digest', blob.digest);
  await call(target.toString(), { method: 'PUT', body: blob.content, headers: { 'content-type': 'application/octet-stream' }, expect: [201], dispatcher: via });
}

export async function pushChunked(base, repo, blob, chunkSize) {
  let target = await startUpload(base, repo);
  for (let start = 0; start < blob.content.length; start += chunkSize) {
    const chunk = blob.content.subarray(start, Math.min(start + chunkSize, blob.content.length));
    const response = await call(target.toString(), {
      method: 'PATCH',
      body: chunk,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}` },
      expect: [202],
    });
    target = location(base, response);
  }
  target.searchParams.set('digest', blob.digest);
  await call(target.toString(), { method: 'PUT', expect: [201] });
}

async function putManifest(base, repo, reference, manifest) {
  await call(`${base}/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body: manifest.content,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    expect: [201],
  });
}

function imageManifest(config, layer) {
  const content = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.content.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.content.length }],
    }),
  );
  return { content, digest: digestOf(content) };
}

/**
 * Runs `operation` until `iterations` runs or `budgetMs` elapsed (at least once); returns per-run milliseconds.
 * `prepare` (untimed) builds each run's input.
 */
async function timed(iterations, budgetMs, operation, prepare = async () => undefined) {
  const samples = [];
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const input = await prepare(i);
    const t0 = performance.now();
    await operation(input, i);
    samples.push(performance.now() - t0);
    if (performance.now() - started > budgetMs) break;
  }
  return samples;
}

/** `workers` loops issuing `operation` until `total` runs; returns per-run ms and the wall time. */
async function concurrent(total, workers, operation) {
  const samples = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) {
        next++;
        const s = performance.now();
        await operation();
        samples.push(performance.now() - s);
      }
    }),
  );
  return { samples, wallMs: performance.now() - t0 };
}

/** A page's entries (`repositories` or `tags`) and the Link header's next URL, if any. */
async function page(url, key) {
  const response = await call(url, { keepBody: true });
  const entries = JSON.parse(response.body.toString())[key] ?? [];
  const link = response.headers.link;
  const next = typeof link === 'string' ? /<([^>]+)>/.exec(link)?.[1] : undefined;
  return { entries, next };
}

/** Follows the Link headers from `path` to the last page; returns how many entries came back in all. */
async function walkPages(base, path, key) {
  let url = `${base}${path}`;
  let count = 0;
  for (;;) {
    const { entries, next } = await page(url, key);
    count += entries.length;
    if (!next) return count;
    url = new URL(next, base).toString();
  }
}

/** Fails the scenario when a listing answers fewer entries than it should (an error page would time fast). */
function expectAtLeast(count, wanted, what) {
  if (count < wanted) throw new Error(`${what}: ${count} entries, expected at least ${wanted}`);
}

/**
 * The scenarios, in order. Each has a name, an optional `setup(base)` that run.js awaits before it counts the
 * server's CPU, and `run(base)`, which returns { samples (ms per operation), bytesPerOp?, wallMs? }.
 * `scale` shrinks iteration counts (quick mode).
 */
export function scenarios(scale, { warmupPushes = 0 } = {}) {
  const n = (count) => Math.max(1, Math.round(count * scale));
  const budget = 20_000 * Math.max(scale, 0.25);
  const templates = new Map();
  const template = (size) => {
    if (!templates.has(size)) templates.set(size, deterministicBytes(`bench-${size}`, size));
    return templates.get(size);
  };
  const pulled = new Map();
  // the small-push scenario's operation, 16 in flight: the warm-up pushes exactly what the rounds push
  const pushSmallBlobs = (base, repository, count) => concurrent(count, 16, () => pushMonolithic(base, repository, freshBlob(template(4096))));

  const pushScenario = (label, size, count) => ({
    name: `push monolithic ${label}`,
    async run(base) {
      let last;
      const samples = await timed(n(count), budget, (blob) => pushMonolithic(base, 'bench/push', blob), async () => (last = freshBlob(template(size))));
      pulled.set(size, last.digest);
      return { samples, bytesPerOp: size };
    },
  });
  const pullScenario = (label, size, count) => ({
    name: `pull blob ${label}`,
    // the blob the push scenario of this size left, or one pushed here when that scenario was left out (--only)
    async setup(base) {
      if (pulled.has(size)) return;
      const blob = freshBlob(template(size));
      await pushMonolithic(base, 'bench/push', blob);
      pulled.set(size, blob.digest);
    },
    async run(base) {
      const digest = pulled.get(size);
      const samples = await timed(n(count), budget, () => call(`${base}/v2/bench/push/blobs/${digest}`));
      return { samples, bytesPerOp: size };
    },
  });

  let manifest;
  return [
    pushScenario('1 MB', 1 * MiB, 30),
    pushScenario('10 MB', 10 * MiB, 10),
    pushScenario('100 MB', 100 * MiB, 5),
    pushScenario('256 MB', 256 * MiB, 5),
    {
      name: 'push chunked 10 MB (1 MB chunks)',
      async run(base) {
        const samples = await timed(n(10), budget, (blob) => pushChunked(base, 'bench/push', blob, 1 * MiB), async () => freshBlob(template(10 * MiB)));
        return { samples, bytesPerOp: 10 * MiB };
      },
    },
    {
      name: 'push chunked 256 MB (32 x 8 MB chunks)',
      async run(base) {
        const samples = await timed(n(5), budget, (blob) => pushChunked(base, 'bench/push', blob, 8 * MiB), async () => freshBlob(template(256 * MiB)));
        return { samples, bytesPerOp: 256 * MiB };
      },
    },
    {
      name: 'push small blobs 2,000 x 4 KB, 16 in flight',
      // --warmup N: N pushes into another repository first, untimed and outside the CPU count, so the rounds
      // measure a process whose request path V8 has already compiled (docs/bench.md, "Small-blob pushes,
      // eleventh pass"); by default the first round carries that once-per-process cost
      async setup(base) {
        if (warmupPushes > 0) await pushSmallBlobs(base, 'bench/warmup', warmupPushes);
      },
      async run(base) {
        // each blob is new (fresh random head); hashing 4 KB in the client is part of the operation
        const { samples, wallMs } = await pushSmallBlobs(base, 'bench/small', n(2000));
        return { samples, wallMs, bytesPerOp: 4096 };
      },
    },
    pullScenario('1 MB', 1 * MiB, 50),
    pullScenario('10 MB', 10 * MiB, 20),
    pullScenario('100 MB', 100 * MiB, 15),
    pullScenario('256 MB', 256 * MiB, 10),
    {
      name: 'manifest PUT (tag)',
      async run(base) {
        const config = freshBlob(Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}      '.padEnd(256, ' ')));
        const layer = freshBlob(template(1 * MiB));
        await pushMonolithic(base, 'bench/image', config);
        await pushMonolithic(base, 'bench/image', layer);
        manifest = imageManifest(config, layer);
        const samples = await timed(100, budget, (i) => putManifest(base, 'bench/image', `t${String(i).padStart(4, '0')}`, manifest), async (i) => i);
        return { samples };
      },
    },
    {
      name: 'manifest HEAD (tag)',
      async run(base) {
        const samples = await timed(n(500), budget, () => call(`${base}/v2/bench/image/manifests/t0000`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } }));
        return { samples };
      },
    },
    {
      name: 'manifest GET (digest)',
      async run(base) {
        const samples = await timed(n(500), budget, () => call(`${base}/v2/bench/image/manifests/${manifest.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } }));
        return { samples };
      },
    },
    {
      name: 'manifest GET (digest), 16 in flight',
      async run(base) {
        const { samples, wallMs } = await concurrent(n(2000), 16, () =>
          call(`${base}/v2/bench/image/manifests/${manifest.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } }),
        );
        return { samples, wallMs };
      },
    },
    {
      name: 'manifest GET (tag), 64 connections',
      async run(base) {
        const url = `${base}/v2/bench/image/manifests/t0000`;
        const accept = 'application/vnd.oci.image.manifest.v1+json';
        // wrk when it can be had (a C client leaves the server the cores the Node client would take)
        if (wrkAvailable()) return wrkGet(url, { connections: 64, seconds: Math.max(2, Math.round(10 * scale)), headers: { accept } });
        const wide = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
        try {
          const { samples, wallMs } = await concurrent(n(5000), 64, () => call(url, { headers: { accept }, dispatcher: wide }));
          return { samples, wallMs };
        } finally {
          await wide.close();
        }
      },
    },
    {
      name: 'GET /v2/ while 200 uploads of 50 MB run',
      async run(base) {
        // One 50 MB blob pushed 200 times at once on 200 connections of their own (the same buffer, so the
        // client holds 50 MB, not 10 GB); `GET /v2/` one at a time on the usual connections until all are done.
        const content = template(50 * MiB);
        const blob = { content, digest: digestOf(content) };
        const uploads = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
        let running = true;
        const pushes = Promise.all(Array.from({ length: n(200) }, () => pushMonolithic(base, 'bench/concurrent', blob, uploads))).finally(() => {
          running = false;
        });
        const samples = [];
        try {
          while (running) {
            const t0 = performance.now();
            await call(`${base}/v2/`);
            samples.push(performance.now() - t0);
          }
          await pushes;
        } finally {
          await pushes.catch(() => undefined);
          await uploads.close();
        }
        return { samples };
      },
    },
    {
      name: 'tags list (100 tags)',
      async run(base) {
        const samples = await timed(n(300), budget, () => call(`${base}/v2/bench/image/tags/list`));
        return { samples };
      },
    },
    {
      name: 'catalog (20 repositories)',
      async run(base) {
        // 20 repositories holding the image, their blobs mounted from bench/image
        const parsed = JSON.parse(manifest.content.toString());
        for (let r = 0; r < 20; r++) {
          const repo = `bench/catalog${String(r).padStart(2, '0')}`;
          for (const d of [parsed.config.digest, parsed.layers[0].digest]) {
            await call(`${base}/v2/${repo}/blobs/uploads/?mount=${d}&from=bench/image`, { method: 'POST', expect: [201, 202] });
          }
          await putManifest(base, repo, 'latest', manifest);
        }
        const samples = await timed(n(300), budget, () => call(`${base}/v2/_catalog`));
        return { samples };
      },
    },
    ...scaleScenarios(n, budget),
  ];
}

/** A digest for link files written straight into storage: listings read links, they do not open manifests. */
const LINKED_DIGEST = `sha256:${'5'.repeat(64)}`;

/**
 * Catalog and tag listing at size, on content written straight into each server's storage folder
 * (bench/layout.js): 1,000 then 100,000 repositories named `scale/gGG/rRRR`, and repositories with 1,000,
 * 5,000 and 100,000 tags. Self-contained, so `--only 'repositories:|tags list'` runs them alone. The writes are
 * each scenario's `setup`, outside the server's CPU count (bench/run.js): a server left idle through a minute of
 * them collected its heap meanwhile (V8's memory reducer), 50-110 ms that were counted against the pages.
 */
function scaleScenarios(n, budget) {
  let repositories = 0;
  const seed = async (server, count) => {
    if (repositories < count) {
      await writeRepositories(server.storageRoot, 'scale', repositories, count, LINKED_DIGEST);
      await server.afterDirectWrites?.();
    }
    repositories = Math.max(repositories, count);
  };
  const pageOf100 = (count) => ({
    name: `catalog ${count.toLocaleString('en')} repositories: page of 100 (n=100, last mid-way)`,
    setup: (base, server) => seed(server, count),
    async run(base) {
      const last = encodeURIComponent(repositoryName('scale', Math.floor(count / 2) - 1));
      const samples = await timed(n(200), budget, async () => expectAtLeast((await page(`${base}/v2/_catalog?n=100&last=${last}`, 'repositories')).entries.length, 100, 'catalog page'));
      return { samples };
    },
  });
  const wholeWalk = (count, pageSize, runs) => ({
    name: `catalog ${count.toLocaleString('en')} repositories: whole walk (${pageSize === undefined ? 'default page' : `n=${pageSize}`})`,
    setup: (base, server) => seed(server, count),
    async run(base) {
      const samples = await timed(runs, budget, async () => expectAtLeast(await walkPages(base, `/v2/_catalog${pageSize === undefined ? '' : `?n=${pageSize}`}`, 'repositories'), count, 'catalog walk'));
      return { samples };
    },
  });
  // one repository per size, seeded once per server; 100,000 tags without their index links (bench/layout.js)
  const tagRepositories = new Map([
    [1000, 'scale/tags1k'],
    [5000, 'scale/tags'],
    [100_000, 'scale/tags100k'],
  ]);
  const seededTags = new Set();
  // after writing behind the server's back, the operator's documented step, as for the repositories
  // (stowage: `stowage catalog rebuild`, which also writes large tag folders' listing files)
  const seedTags = async (server, count) => {
    if (!seededTags.has(count)) {
      await writeTags(server.storageRoot, tagRepositories.get(count), count, LINKED_DIGEST, count <= 5000);
      await server.afterDirectWrites?.();
    }
    seededTags.add(count);
  };
  const tagsPageOf100 = (count) => ({
    name: `tags list ${count.toLocaleString('en')} tags: page of 100 (n=100, last mid-way)`,
    setup: (base, server) => seedTags(server, count),
    async run(base) {
      const url = `${base}/v2/${tagRepositories.get(count)}/tags/list?n=100&last=${tagName(count / 2 - 1)}`;
      const samples = await timed(n(200), budget, async () => expectAtLeast((await page(url, 'tags')).entries.length, 100, 'tags page'));
      return { samples };
    },
  });
  return [
    pageOf100(1000),
    wholeWalk(1000, undefined, n(20)),
    {
      name: 'catalog 1,000 repositories: n=1000',
      setup: (base, server) => seed(server, 1000),
      async run(base) {
        const samples = await timed(n(50), budget, async () => expectAtLeast((await page(`${base}/v2/_catalog?n=1000`, 'repositories')).entries.length, 1000, 'catalog n=1000'));
        return { samples };
      },
    },
    pageOf100(100_000),
    {
      name: 'tags list 5,000 tags (whole list)',
      setup: (base, server) => seedTags(server, 5000),
      async run(base) {
        const samples = await timed(n(50), budget, async () => expectAtLeast((await page(`${base}/v2/${tagRepositories.get(5000)}/tags/list`, 'tags')).entries.length, 5000, 'tags list'));
        return { samples };
      },
    },
    tagsPageOf100(1000),
    tagsPageOf100(5000),
    tagsPageOf100(100_000),
    // Last: distribution re-walks from the first repository for every page, so this one takes minutes there;
    // one round (bench/run.js `once`): a second would add minutes to a ratio of some hundreds.
    { ...wholeWalk(100_000, 1000, 1), once: true },
  ];
}
