import { expect } from 'vitest';
import { ConformanceClient, type ConformanceResponse } from './client.js';
import { buildFixtures, chunkedBlob, ERROR_CODES, uniqueNamespace, type Blob, type ConformanceFixtures } from './fixtures.js';

/** Behaviour switches of the Go suite (environment variables there); the defaults are the suite's. */
export interface ConformanceSettings {
  /** OCI_DELETE_MANIFEST_BEFORE_BLOBS (default true) */
  readonly deleteManifestBeforeBlobs: boolean;
  /** OCI_AUTOMATIC_CROSSMOUNT: undefined = unset (both automatic-mount specs skipped) */
  readonly automaticCrossmount?: boolean;
  /** OCI_USERNAME/OCI_PASSWORD: the Authorization header sent with every request */
  readonly authorization?: string;
}

export const DEFAULT_SETTINGS: ConformanceSettings = { deleteManifestBeforeBlobs: true };

/** Thrown by a spec that does not apply (the suite's RunOnlyIf / RunOnlyIfNot). */
export class SpecSkipped extends Error {
  constructor() {
    super('you have skipped this test.');
  }
}

function runOnlyIf(condition: boolean): void {
  if (!condition) throw new SpecSkipped();
}

/** Everything the specs of one run share, in the order they run. */
export class SuiteState {
  readonly fx: ConformanceFixtures = buildFixtures();
  readonly client: ConformanceClient;
  readonly crossmountNamespace: string;
  // Pull
  pullTag = '';
  // Push
  lastResponse: ConformanceResponse | undefined;
  prevResponse: ConformanceResponse | undefined;
  emptyLayerManifestRef = '';
  // Content discovery
  numTags = 4;
  tagList: string[] = [];
  // Content management
  tagToDelete = '';
  tagsBeforeDelete = 0;
  blobDeleteAllowed = true;

  constructor(
    baseUrl: string,
    readonly settings: ConformanceSettings = DEFAULT_SETTINGS,
    namespace = uniqueNamespace('conformance/repo'),
  ) {
    this.client = new ConformanceClient(baseUrl, namespace, settings.authorization);
    this.crossmountNamespace = uniqueNamespace('conformance');
  }
}

export type Workflow = 'Pull' | 'Push' | 'Content Discovery' | 'Content Management';

export interface ConformanceSpec {
  readonly workflow: Workflow;
  readonly context: string;
  /** the Go suite's `Specify` text, verbatim */
  readonly title: string;
  /** `<Workflow> <Context> <title>`, as Ginkgo names the spec; `#2` marks a repeated name */
  readonly goName: string;
  /** the Go source file of the spec */
  readonly goFile: string;
  run(state: SuiteState): Promise<void>;
}

// ---- expectations shared by many specs

function expect2xx(response: ConformanceResponse): void {
  expect(response.status, response.text()).toBeGreaterThanOrEqual(200);
  expect(response.status, response.text()).toBeLessThan(300);
}

function expectOneOf(response: ConformanceResponse, statuses: number[]): void {
  expect(statuses, `status ${response.status}: ${response.text()}`).toContain(response.status);
}

/** 2xx or one of `others` */
function expect2xxOr(response: ConformanceResponse, others: number[]): void {
  if (response.status >= 200 && response.status < 300) return;
  expectOneOf(response, others);
}

function tagListOf(response: ConformanceResponse): string[] {
  try {
    const document = JSON.parse(response.text()) as { tags?: unknown };
    return Array.isArray(document.tags) ? (document.tags as string[]) : [];
  } catch {
    return [];
  }
}

// ---- requests shared by many specs

/** POST an upload session, then PUT the whole blob to it (the suite's way of populating blobs). */
async function pushBlob(state: SuiteState, blob: Blob): Promise<ConformanceResponse> {
  const session = await state.client.send('POST', '/v2/<name>/blobs/uploads/');
  return state.client.send('PUT', session.relativeLocation(), {
    query: { digest: blob.digest },
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.content.length) },
    body: blob.content,
  });
}

async function putManifest(state: SuiteState, reference: string, manifest: Blob, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<ConformanceResponse> {
  return state.client.send('PUT', '/v2/<name>/manifests/<reference>', { reference, headers: { 'Content-Type': mediaType }, body: manifest.content });
}

async function deleteManifest(state: SuiteState, reference: string): Promise<ConformanceResponse> {
  return state.client.send('DELETE', '/v2/<name>/manifests/<reference>', { reference });
}

async function deleteBlob(state: SuiteState, digest: string): Promise<ConformanceResponse> {
  return state.client.send('DELETE', '/v2/<name>/blobs/<digest>', { digest });
}

async function getIndex(response: ConformanceResponse): Promise<{ manifests: { digest: string; annotations?: Record<string, string> }[] }> {
  expect(response.status, response.text()).toBe(200);
  expect(response.header('Content-Type')).toBe('application/vnd.oci.image.index.v1+json');
  const index = JSON.parse(response.text()) as { manifests?: { digest: string; annotations?: Record<string, string> }[] };
  return { manifests: index.manifests ?? [] };
}

function expectAnnotated(state: SuiteState, manifests: { digest: string; annotations?: Record<string, string> }[]): void {
  for (const entry of manifests) {
    expect(Object.keys(entry.annotations ?? {})).toHaveLength(1);
    expect(entry.annotations?.['org.opencontainers.conformance.test']).toBe(state.fx.annotationValues.get(entry.digest));
  }
}

type SpecBody = (state: SuiteState) => Promise<void>;
type Draft = [context: string, title: string, run: SpecBody];

function workflowSpecs(workflow: Workflow, goFile: string, drafts: Draft[]): ConformanceSpec[] {
  const seen = new Map<string, number>();
  return drafts.map(([context, title, run]) => {
    const base = `${workflow} ${context} ${title}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { workflow, context, title, goName: count > 1 ? `${base} #${count}` : base, goFile, run };
  });
}

// ---- 01_pull_test.go

function pullSpecs(settings: ConformanceSettings): ConformanceSpec[] {
  const populateConfig = (slot: number): SpecBody => async (s) => expect2xx(await pushBlob(s, s.fx.configs[slot]!));
  const deleteManifestSlot = (slot: number): SpecBody => async (s) => expect2xxOr(await deleteManifest(s, s.fx.manifests[slot]!.digest), [405]);
  const deleteBlobOf = (pick: (fx: ConformanceFixtures) => Blob): SpecBody => async (s) => expect2xxOr(await deleteBlob(s, pick(s.fx).digest), [404, 405]);
  const manifestDeletes: Draft[] = [
    ['Teardown', 'Delete manifest[0] created in setup', deleteManifestSlot(0)],
    ['Teardown', 'Delete manifest[1] created in setup', deleteManifestSlot(1)],
  ];
  const headOrGetManifest = (method: 'HEAD' | 'GET', which: (s: SuiteState) => { reference: string; digest: string }): SpecBody => async (s) => {
    const target = which(s);
    const response = await s.client.send(method, '/v2/<name>/manifests/<reference>', {
      reference: target.reference,
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(response.status).toBe(200);
    if (method === 'HEAD' && response.header('Docker-Content-Digest') !== '') expect(response.header('Docker-Content-Digest')).toBe(target.digest);
  };
  const bySlot = (slot: number) => (s: SuiteState) => ({ reference: s.fx.manifests[slot]!.digest, digest: s.fx.manifests[slot]!.digest });
  const byTag = (s: SuiteState) => {
    expect(s.pullTag).not.toBe('');
    return { reference: s.pullTag, digest: s.fx.manifests[0]!.digest };
  };

  return workflowSpecs('Pull', '01_pull_test.go', [
    ['Setup', 'Populate registry with test blob', populateConfig(0)],
    ['Setup', 'Populate registry with test blob', populateConfig(1)],
    ['Setup', 'Populate registry with test layer', async (s) => expect2xx(await pushBlob(s, s.fx.layer))],
    [
      'Setup',
      'Populate registry with test manifest',
      async (s) => {
        s.pullTag = 'tagtest0';
        expect2xx(await putManifest(s, s.pullTag, s.fx.manifests[0]!));
      },
    ],
    ['Setup', 'Populate registry with test manifest', async (s) => expect2xx(await putManifest(s, s.fx.manifests[1]!.digest, s.fx.manifests[1]!))],
    [
      'Setup',
      'Get tag name from environment',
      async () => {
        // the suite only reads OCI_TAG_NAME when it does not populate the registry itself
        runOnlyIf(false);
      },
    ],
    [
      'Pull blobs',
      'HEAD request to nonexistent blob should result in 404 response',
      async (s) => expect((await s.client.send('HEAD', '/v2/<name>/blobs/<digest>', { digest: s.fx.dummyDigest })).status).toBe(404),
    ],
    [
      'Pull blobs',
      'HEAD request to existing blob should yield 200',
      async (s) => {
        const response = await s.client.send('HEAD', '/v2/<name>/blobs/<digest>', { digest: s.fx.configs[0]!.digest });
        expect(response.status).toBe(200);
        if (response.header('Docker-Content-Digest') !== '') expect(response.header('Docker-Content-Digest')).toBe(s.fx.configs[0]!.digest);
      },
    ],
    [
      'Pull blobs',
      'GET nonexistent blob should result in 404 response',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.dummyDigest })).status).toBe(404),
    ],
    [
      'Pull blobs',
      'GET request to existing blob URL should yield 200',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.configs[0]!.digest })).status).toBe(200),
    ],
    [
      'Pull manifests',
      'HEAD request to nonexistent manifest should return 404',
      async (s) => expect((await s.client.send('HEAD', '/v2/<name>/manifests/<reference>', { reference: s.fx.nonexistentManifest })).status).toBe(404),
    ],
    ['Pull manifests', 'HEAD request to manifest[0] path (digest) should yield 200 response', headOrGetManifest('HEAD', bySlot(0))],
    ['Pull manifests', 'HEAD request to manifest[1] path (digest) should yield 200 response', headOrGetManifest('HEAD', bySlot(1))],
    ['Pull manifests', 'HEAD request to manifest path (tag) should yield 200 response', headOrGetManifest('HEAD', byTag)],
    [
      'Pull manifests',
      'GET nonexistent manifest should return 404',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/manifests/<reference>', { reference: s.fx.nonexistentManifest })).status).toBe(404),
    ],
    ['Pull manifests', 'GET request to manifest[0] path (digest) should yield 200 response', headOrGetManifest('GET', bySlot(0))],
    ['Pull manifests', 'GET request to manifest[1] path (digest) should yield 200 response', headOrGetManifest('GET', bySlot(1))],
    ['Pull manifests', 'GET request to manifest path (tag) should yield 200 response', headOrGetManifest('GET', byTag)],
    [
      'Error codes',
      '400 response body should contain OCI-conforming JSON message',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/manifests/<reference>', {
          reference: 'sha256:totallywrong',
          headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
          body: s.fx.invalidManifestContent,
        });
        expectOneOf(response, [400, 404]);
        if (response.status === 400) {
          const errors = response.errors();
          expect(errors).not.toHaveLength(0);
          expect(ERROR_CODES).toContain(errors[0]!.code);
        }
      },
    ],
    ...(settings.deleteManifestBeforeBlobs ? manifestDeletes : []),
    ['Teardown', 'Delete config[0] blob created in setup', deleteBlobOf((fx) => fx.configs[0]!)],
    ['Teardown', 'Delete config[1] blob created in setup', deleteBlobOf((fx) => fx.configs[1]!)],
    ['Teardown', 'Delete layer blob created in setup', deleteBlobOf((fx) => fx.layer)],
    ...(settings.deleteManifestBeforeBlobs ? [] : manifestDeletes),
  ]);
}

// ---- 02_push_test.go

function pushSpecs(settings: ConformanceSettings): ConformanceSpec[] {
  const manifestTeardown: Draft = [
    'Teardown',
    'Delete manifest created in tests',
    async (s) => {
      expect2xxOr(await deleteManifest(s, s.fx.manifests[1]!.digest), [405]);
      if (s.emptyLayerManifestRef !== '') expect2xxOr(await deleteManifest(s, s.fx.emptyLayerManifest.digest), [405]);
    },
  ];
  const uploadBlob = async (s: SuiteState, blob: Blob): Promise<ConformanceResponse> =>
    s.client.send('PUT', s.lastResponse!.relativeLocation(), {
      headers: { 'Content-Length': String(blob.content.length), 'Content-Type': 'application/octet-stream' },
      query: { digest: blob.digest },
      body: blob.content,
    });
  const mountTestBlobA = (s: SuiteState, from?: string): Promise<ConformanceResponse> =>
    s.client.send('POST', '/v2/<name>/blobs/uploads/', {
      name: s.crossmountNamespace,
      query: from ? { mount: s.fx.blobA.digest, from } : { mount: s.fx.blobA.digest },
    });
  const patchChunk = (s: SuiteState, location: string, chunk: Buffer, range: string): Promise<ConformanceResponse> =>
    s.client.send('PATCH', location, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': range },
      body: chunk,
    });

  return workflowSpecs('Push', '02_push_test.go', [
    [
      'Blob Upload Streamed',
      'PATCH request with blob in body should yield 202 response',
      async (s) => {
        const session = await s.client.send('POST', '/v2/<name>/blobs/uploads/');
        expect(session.header('Location')).not.toBe('');
        const response = await s.client.send('PATCH', session.relativeLocation(), {
          headers: { 'Content-Type': 'application/octet-stream' },
          body: s.fx.blobA.content,
        });
        expect(response.status, response.text()).toBe(202);
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Streamed',
      'PUT request to session URL with digest should yield 201 response',
      async (s) => {
        expect(s.lastResponse).toBeDefined();
        const response = await s.client.send('PUT', s.lastResponse!.relativeLocation(), {
          query: { digest: s.fx.blobA.digest },
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(s.fx.blobA.content.length) },
        });
        expect(response.status, response.text()).toBe(201);
        expect(response.header('Location')).not.toBe('');
      },
    ],
    [
      'Blob Upload Monolithic',
      'GET nonexistent blob should result in 404 response',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.dummyDigest })).status).toBe(404),
    ],
    [
      'Blob Upload Monolithic',
      'POST request with digest and blob should yield a 201 or 202',
      async (s) => {
        const config = s.fx.configs[1]!;
        const response = await s.client.send('POST', '/v2/<name>/blobs/uploads/', {
          headers: { 'Content-Length': String(config.content.length), 'Content-Type': 'application/octet-stream' },
          query: { digest: config.digest },
          body: config.content,
        });
        expect(response.header('Location')).not.toBe('');
        expectOneOf(response, [201, 202]);
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Monolithic',
      'GET request to blob URL from prior request should yield 200 or 404 based on response code',
      async (s) => {
        expect(s.lastResponse).toBeDefined();
        const response = await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.configs[1]!.digest });
        expect(response.status).toBe(s.lastResponse!.status === 202 ? 404 : 200);
      },
    ],
    [
      'Blob Upload Monolithic',
      'POST request should yield a session ID',
      async (s) => {
        const response = await s.client.send('POST', '/v2/<name>/blobs/uploads/');
        expect(response.status).toBe(202);
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Monolithic',
      'PUT upload of a blob should yield a 201 Response',
      async (s) => {
        const response = await uploadBlob(s, s.fx.configs[1]!);
        expect(response.header('Location')).not.toBe('');
        expect(response.status, response.text()).toBe(201);
      },
    ],
    [
      'Blob Upload Monolithic',
      'GET request to existing blob should yield 200 response',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.configs[1]!.digest })).status).toBe(200),
    ],
    [
      'Blob Upload Monolithic',
      'PUT upload of a layer blob should yield a 201 Response',
      async (s) => {
        s.lastResponse = await s.client.send('POST', '/v2/<name>/blobs/uploads/');
        const response = await uploadBlob(s, s.fx.layer);
        expect(response.header('Location')).not.toBe('');
        expect(response.status, response.text()).toBe(201);
      },
    ],
    [
      'Blob Upload Monolithic',
      'GET request to existing layer should yield 200 response',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.layer.digest })).status).toBe(200),
    ],
    [
      'Blob Upload Chunked',
      'Out-of-order blob upload should return 416',
      async (s) => {
        const session = await s.client.send('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
        expect(session.header('Location')).not.toBe('');
        // a registry may demand bigger chunks: rebuild the blob so its first chunk is at least that long
        const minimum = session.header('OCI-Chunk-Min-Length');
        if (minimum !== '') {
          const minSize = Number.parseInt(minimum, 10);
          expect(Number.isNaN(minSize)).toBe(false);
          if (minSize > s.fx.chunked.chunk1.length) s.fx.chunked = chunkedBlob(minSize * 2 - 2);
        }
        const response = await patchChunk(s, session.relativeLocation(), s.fx.chunked.chunk2, s.fx.chunked.chunk2Range);
        expect(response.status, response.text()).toBe(416);
      },
    ],
    [
      'Blob Upload Chunked',
      'PATCH request with first chunk should return 202',
      async (s) => {
        const session = await s.client.send('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
        expect(session.header('Location')).not.toBe('');
        s.prevResponse = session;
        const response = await patchChunk(s, session.relativeLocation(), s.fx.chunked.chunk1, s.fx.chunked.chunk1Range);
        expect(response.status, response.text()).toBe(202);
        expect(response.header('Range')).toBe(s.fx.chunked.chunk1Range);
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Chunked',
      'Retry previous blob chunk should return 416',
      async (s) => {
        const response = await patchChunk(s, s.prevResponse!.relativeLocation(), s.fx.chunked.chunk1, s.fx.chunked.chunk1Range);
        expect(response.status, response.text()).toBe(416);
      },
    ],
    [
      'Blob Upload Chunked',
      'Get on stale blob upload should return 204 with a range and location',
      async (s) => {
        const response = await s.client.send('GET', s.prevResponse!.relativeLocation());
        expect(response.status, response.text()).toBe(204);
        expect(response.header('Location')).not.toBe('');
        expect(response.header('Range')).toBe(s.fx.chunked.chunk1Range);
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Chunked',
      'PATCH request with second chunk should return 202',
      async (s) => {
        const response = await patchChunk(s, s.lastResponse!.relativeLocation(), s.fx.chunked.chunk2, s.fx.chunked.chunk2Range);
        expect(response.status, response.text()).toBe(202);
        expect(response.header('Location')).not.toBe('');
        s.lastResponse = response;
      },
    ],
    [
      'Blob Upload Chunked',
      'PUT request with digest should return 201',
      async (s) => {
        const response = await s.client.send('PUT', s.lastResponse!.relativeLocation(), {
          headers: { 'Content-Length': '0', 'Content-Type': 'application/octet-stream' },
          query: { digest: s.fx.chunked.blob.digest },
        });
        expect(response.status, response.text()).toBe(201);
        expect(response.header('Location')).not.toBe('');
      },
    ],
    [
      'Cross-Repository Blob Mount',
      'Cross-mounting of a blob without the from argument should yield session id',
      async (s) => {
        const response = await s.client.send('POST', '/v2/<name>/blobs/uploads/', { name: s.crossmountNamespace, query: { mount: s.fx.dummyDigest } });
        expect(response.status, response.text()).toBe(202);
        expect(response.absoluteLocation()).not.toBe('');
      },
    ],
    [
      'Cross-Repository Blob Mount',
      "POST request to mount another repository's blob should return 201 or 202",
      async (s) => {
        const response = await mountTestBlobA(s, s.client.namespace);
        expectOneOf(response, [201, 202]);
        s.lastResponse = response;
      },
    ],
    [
      'Cross-Repository Blob Mount',
      'GET request to test digest within cross-mount namespace should return 200',
      async (s) => {
        runOnlyIf(s.lastResponse!.status === 201);
        expect(s.lastResponse!.relativeLocation()).toBe(`/v2/${s.crossmountNamespace}/blobs/${s.fx.blobA.digest}`);
        expect((await s.client.send('GET', s.lastResponse!.relativeLocation())).status).toBe(200);
      },
    ],
    [
      'Cross-Repository Blob Mount',
      'Cross-mounting of nonexistent blob should yield session id',
      async (s) => {
        runOnlyIf(s.lastResponse!.status === 202);
        expect(s.lastResponse!.relativeLocation().startsWith(`/v2/${s.crossmountNamespace}/blobs/uploads/`)).toBe(true);
      },
    ],
    [
      'Cross-Repository Blob Mount',
      'Cross-mounting without from, and automatic content discovery enabled should return a 201',
      async (s) => {
        runOnlyIf(settings.automaticCrossmount !== undefined);
        runOnlyIf(s.lastResponse!.status === 201);
        runOnlyIf(settings.automaticCrossmount === true);
        expect((await mountTestBlobA(s)).status).toBe(201);
      },
    ],
    [
      'Cross-Repository Blob Mount',
      'Cross-mounting without from, and automatic content discovery disabled should return a 202',
      async (s) => {
        runOnlyIf(settings.automaticCrossmount !== undefined);
        runOnlyIf(s.lastResponse!.status === 201);
        runOnlyIf(settings.automaticCrossmount === false);
        expect((await mountTestBlobA(s)).status).toBe(202);
      },
    ],
    [
      'Manifest Upload',
      'GET nonexistent manifest should return 404',
      async (s) => expect((await s.client.send('GET', '/v2/<name>/manifests/<reference>', { reference: s.fx.nonexistentManifest })).status).toBe(404),
    ],
    [
      'Manifest Upload',
      'PUT should accept a manifest upload',
      async (s) => {
        for (let i = 0; i < 4; i++) {
          const response = await putManifest(s, `test${i}`, s.fx.manifests[1]!);
          expect(response.header('Location')).not.toBe('');
          expect(response.status, response.text()).toBe(201);
        }
      },
    ],
    [
      'Manifest Upload',
      'Registry should accept a manifest upload with no layers',
      async (s) => {
        const response = await putManifest(s, 'emptylayer', s.fx.emptyLayerManifest);
        // the suite only warns when a registry refuses a manifest without layers
        if (response.status === 201) {
          s.emptyLayerManifestRef = response.header('Location');
          expect(s.emptyLayerManifestRef).not.toBe('');
        }
      },
    ],
    [
      'Manifest Upload',
      'GET request to manifest URL (digest) should yield 200 response',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/manifests/<reference>', {
          reference: s.fx.manifests[1]!.digest,
          headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        expect(response.status).toBe(200);
      },
    ],
    ...(settings.deleteManifestBeforeBlobs ? [manifestTeardown] : []),
    ['Teardown', 'Delete config blob created in tests', async (s) => expect2xxOr(await deleteBlob(s, s.fx.configs[1]!.digest), [404, 405])],
    ['Teardown', 'Delete layer blob created in setup', async (s) => expect2xxOr(await deleteBlob(s, s.fx.layer.digest), [404, 405])],
    ...(settings.deleteManifestBeforeBlobs ? [] : [manifestTeardown]),
  ]);
}

// ---- 03_discovery_test.go

function discoverySpecs(settings: ConformanceSettings): ConformanceSpec[] {
  const deleteAll: Draft = [
    'Teardown',
    'Delete created manifest & associated tags',
    async (s) => {
      const fx = s.fx;
      const references = [
        fx.refsIndexArtifact,
        fx.manifests[2]!,
        fx.manifests[4]!,
        fx.refsManifestAConfigArtifact,
        fx.refsManifestALayerArtifact,
        fx.refsManifestBConfigArtifact,
        fx.refsManifestBLayerArtifact,
        fx.refsManifestCLayerArtifact,
      ];
      for (const reference of references) expect2xxOr(await deleteManifest(s, reference.digest), [404, 405]);
    },
  ];
  const pushArtifact = async (s: SuiteState, artifact: Blob, subject: Blob, mediaType?: string): Promise<void> => {
    const response = await putManifest(s, artifact.digest, artifact, mediaType);
    expect2xx(response);
    expect(response.header('OCI-Subject')).toBe(subject.digest);
  };

  return workflowSpecs('Content Discovery', '03_discovery_test.go', [
    ['Setup', 'Populate registry with test blob', async (s) => expect2xx(await pushBlob(s, s.fx.configs[2]!))],
    ['Setup', 'Populate registry with test layer', async (s) => expect2xx(await pushBlob(s, s.fx.layer))],
    [
      'Setup',
      'Populate registry with test tags',
      async (s) => {
        for (let i = 0; i < s.numTags; i++) {
          s.tagList.push(`test${i}`);
          expect2xx(await putManifest(s, `test${i}`, s.fx.manifests[2]!));
        }
        s.tagList = tagListOf(await s.client.send('GET', '/v2/<name>/tags/list'));
      },
    ],
    [
      'Setup',
      'Populate registry with test tags (no push)',
      async () => {
        // the suite only reads OCI_TAG_LIST when it does not populate the registry itself
        runOnlyIf(false);
      },
    ],
    [
      'Setup',
      'References setup',
      async (s) => {
        const fx = s.fx;
        const subject = fx.manifests[4]!;
        expect(fx.emptyJson.digest).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
        expect2xx(await pushBlob(s, fx.emptyJson));
        // referrers pushed before their subject exists
        expect2xx(await pushBlob(s, fx.refBlobA));
        await pushArtifact(s, fx.refsManifestAConfigArtifact, subject);
        await pushArtifact(s, fx.refsManifestALayerArtifact, subject);
        await pushArtifact(s, fx.refsIndexArtifact, subject, 'application/vnd.oci.image.index.v1+json');
        // the subject itself
        expect2xx(await pushBlob(s, fx.configs[4]!));
        expect2xx(await pushBlob(s, fx.layer));
        expect2xx(await putManifest(s, 'tagtest0', subject));
        // referrers pushed after it
        expect2xx(await pushBlob(s, fx.refBlobB));
        await pushArtifact(s, fx.refsManifestBConfigArtifact, subject);
        await pushArtifact(s, fx.refsManifestBLayerArtifact, subject);
        // a referrer of a subject that is never pushed
        await pushArtifact(s, fx.refsManifestCLayerArtifact, fx.manifests[3]!);
      },
    ],
    [
      'Test content discovery endpoints (listing tags)',
      'GET request to list tags should yield 200 response',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/tags/list');
        expect(response.status).toBe(200);
        s.tagList = tagListOf(response);
        s.numTags = s.tagList.length;
      },
    ],
    [
      'Test content discovery endpoints (listing tags)',
      'GET number of tags should be limitable by `n` query parameter',
      async (s) => {
        const numResults = Math.floor(s.numTags / 2);
        const response = await s.client.send('GET', '/v2/<name>/tags/list', { query: { n: String(numResults) } });
        expect(response.status).toBe(200);
        s.tagList = tagListOf(response);
        expect(s.tagList).toHaveLength(numResults);
      },
    ],
    [
      'Test content discovery endpoints (listing tags)',
      'GET start of tag is set by `last` query parameter',
      async (s) => {
        const numResults = Math.floor(s.numTags / 2);
        s.tagList = tagListOf(await s.client.send('GET', '/v2/<name>/tags/list', { query: { n: String(numResults) } }));
        const last = s.tagList[numResults - 1];
        if (last === undefined) throw new Error(`index out of range [${numResults - 1}] with length ${s.tagList.length}`);
        const response = await s.client.send('GET', '/v2/<name>/tags/list', { query: { n: String(numResults), last } });
        expect(response.status).toBe(200);
        // as in the suite, the page after `last` is checked for its status only; the tags asserted are the first page's
        expect(s.tagList.length).toBeLessThanOrEqual(numResults);
        expect(s.tagList).toContain(last);
      },
    ],
    [
      'Test content discovery endpoints (listing references)',
      'GET request to nonexistent blob should result in empty 200 response',
      async (s) => {
        const index = await getIndex(await s.client.send('GET', '/v2/<name>/referrers/<digest>', { digest: s.fx.dummyDigest }));
        expect(index.manifests).toHaveLength(0);
      },
    ],
    [
      'Test content discovery endpoints (listing references)',
      'GET request to existing blob should yield 200',
      async (s) => {
        const index = await getIndex(await s.client.send('GET', '/v2/<name>/referrers/<digest>', { digest: s.fx.manifests[4]!.digest }));
        expect(index.manifests).toHaveLength(5);
        expect(index.manifests[0]!.digest).not.toBe(index.manifests[1]!.digest);
        expectAnnotated(s, index.manifests);
      },
    ],
    [
      'Test content discovery endpoints (listing references)',
      'GET request to existing blob with filter should yield 200',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/referrers/<digest>', {
          digest: s.fx.manifests[4]!.digest,
          query: { artifactType: 'application/vnd.nhl.peanut.butter.bagel' },
        });
        const index = await getIndex(response);
        if (response.header('OCI-Filters-Applied') !== '') {
          expect(index.manifests).toHaveLength(2);
          expect(response.header('OCI-Filters-Applied')).toBe('artifactType');
        } else {
          // the suite accepts an unfiltered answer, with a warning
          expect(index.manifests).toHaveLength(5);
        }
        expectAnnotated(s, index.manifests);
      },
    ],
    [
      'Test content discovery endpoints (listing references)',
      'GET request to missing manifest should yield 200',
      async (s) => {
        const index = await getIndex(await s.client.send('GET', '/v2/<name>/referrers/<digest>', { digest: s.fx.manifests[3]!.digest }));
        expect(index.manifests).toHaveLength(1);
        expect(index.manifests[0]!.digest).toBe(s.fx.refsManifestCLayerArtifact.digest);
      },
    ],
    ...(settings.deleteManifestBeforeBlobs ? [deleteAll] : []),
    ['Teardown', 'Delete config blob created in tests', async (s) => expect2xxOr(await deleteBlob(s, s.fx.configs[2]!.digest), [404, 405])],
    ['Teardown', 'Delete layer blob created in setup', async (s) => expect2xxOr(await deleteBlob(s, s.fx.layer.digest), [404, 405])],
    ...(settings.deleteManifestBeforeBlobs ? [] : [deleteAll]),
    [
      'Teardown',
      'References teardown',
      async (s) => {
        const fx = s.fx;
        const manifestsInOrder = [
          fx.refsIndexArtifact,
          fx.refsManifestAConfigArtifact,
          fx.refsManifestALayerArtifact,
          fx.manifests[4]!,
          fx.refsManifestBConfigArtifact,
          fx.refsManifestBLayerArtifact,
        ];
        const deleteManifests = async (): Promise<void> => {
          for (const manifest of manifestsInOrder) expect2xxOr(await deleteManifest(s, manifest.digest), [404, 405]);
        };
        if (settings.deleteManifestBeforeBlobs) await deleteManifests();
        for (const blob of [fx.configs[4]!, fx.refBlobA, fx.refBlobB, fx.emptyJson]) expect2xxOr(await deleteBlob(s, blob.digest), [404, 405]);
        if (!settings.deleteManifestBeforeBlobs) await deleteManifests();
      },
    ],
  ]);
}

// ---- 04_management_test.go

function managementSpecs(): ConformanceSpec[] {
  return workflowSpecs('Content Management', '04_management_test.go', [
    ['Setup', 'Populate registry with test config blob', async (s) => expect2xx(await pushBlob(s, s.fx.configs[3]!))],
    ['Setup', 'Populate registry with test layer', async (s) => expect2xx(await pushBlob(s, s.fx.layer))],
    [
      'Setup',
      'Populate registry with test tag',
      async (s) => {
        s.tagToDelete = 'tagtest0';
        expect2xx(await putManifest(s, s.tagToDelete, s.fx.manifests[3]!));
      },
    ],
    [
      'Setup',
      'Check how many tags there are before anything gets deleted',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/tags/list');
        expect(response.status).toBe(200);
        const document = JSON.parse(response.text()) as { tags?: string[] | null };
        s.tagsBeforeDelete = document.tags?.length ?? 0;
      },
    ],
    [
      'Manifest delete',
      'DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)',
      async (s) => {
        const response = await deleteManifest(s, s.tagToDelete);
        expectOneOf(response, [400, 202, 405]);
        if (response.status === 400) {
          const errors = response.errors();
          expect(errors).not.toHaveLength(0);
          expect(errors[0]!.code).toBe('UNSUPPORTED');
        }
      },
    ],
    [
      'Manifest delete',
      'DELETE request to manifest (digest) should yield 202 response unless already deleted',
      async (s) => expectOneOf(await deleteManifest(s, s.fx.manifests[3]!.digest), [202, 404]),
    ],
    [
      'Manifest delete',
      'GET request to deleted manifest URL should yield 404 response, unless delete is disallowed',
      async (s) => expectOneOf(await s.client.send('GET', '/v2/<name>/manifests/<reference>', { reference: s.fx.manifests[3]!.digest }), [404, 200]),
    ],
    [
      'Manifest delete',
      'GET request to tags list should reflect manifest deletion',
      async (s) => {
        const response = await s.client.send('GET', '/v2/<name>/tags/list');
        expectOneOf(response, [404, 200]);
        const expectTags = s.tagsBeforeDelete - 1;
        if (response.status === 200) {
          const document = JSON.parse(response.text()) as { tags?: string[] | null };
          expect(document.tags?.length ?? 0).toBe(expectTags);
        } else {
          expect(expectTags).toBe(0);
        }
      },
    ],
    [
      'Blob delete',
      'DELETE request to blob URL should yield 202 response',
      async (s) => {
        expectOneOf(await deleteBlob(s, s.fx.configs[3]!.digest), [202, 404, 405]);
        const response = await deleteBlob(s, s.fx.layer.digest);
        expectOneOf(response, [202, 404, 405]);
        if (response.status === 405) s.blobDeleteAllowed = false;
      },
    ],
    [
      'Blob delete',
      'GET request to deleted blob URL should yield 404 response',
      async (s) => {
        runOnlyIf(s.blobDeleteAllowed);
        expect((await s.client.send('GET', '/v2/<name>/blobs/<digest>', { digest: s.fx.configs[3]!.digest })).status).toBe(404);
      },
    ],
  ]);
}

/** The suite's specs in the order the Go suite runs them. */
export function conformanceSpecs(settings: ConformanceSettings = DEFAULT_SETTINGS): ConformanceSpec[] {
  return [...pullSpecs(settings), ...pushSpecs(settings), ...discoverySpecs(settings), ...managementSpecs()];
}

export type SpecOutcome = 'passed' | 'failed' | 'skipped';

export interface SpecResult {
  readonly spec: ConformanceSpec;
  readonly outcome: SpecOutcome;
  readonly error?: string;
}

/** Runs one spec, mapping the suite's skip to an outcome rather than an error. */
export async function runSpec(spec: ConformanceSpec, state: SuiteState): Promise<SpecResult> {
  try {
    await spec.run(state);
    return { spec, outcome: 'passed' };
  } catch (error) {
    if (error instanceof SpecSkipped) return { spec, outcome: 'skipped' };
    return { spec, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

/** Runs the whole suite against a registry, in order, as the Go suite does, and reports every spec. */
export async function runConformance(baseUrl: string, settings: ConformanceSettings = DEFAULT_SETTINGS): Promise<SpecResult[]> {
  const state = new SuiteState(baseUrl, settings);
  const results: SpecResult[] = [];
  for (const spec of conformanceSpecs(settings)) results.push(await runSpec(spec, state));
  return results;
}
