import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistribution, type RunningRegistry } from '../support/index.js';
import { SPECS_RUN_BY_GO_SUITE } from './describe-conformance.js';
import { runConformance, type SpecResult } from './suite.js';

/**
 * The specs CNCF distribution 2.8 is known to fail in the Go suite v1.1.1. Getting exactly these from the
 * port, and no others, is the evidence that the port asks what the Go suite asks.
 */
const DISTRIBUTION_2_8_FAILURES = [
  // a 400 on a malformed digest reference, with OCI error JSON (2.8 answers 500 UNKNOWN)
  'Pull Error codes 400 response body should contain OCI-conforming JSON message',
  // chunk order: an out-of-order or repeated chunk must get 416
  'Push Blob Upload Chunked Out-of-order blob upload should return 416',
  'Push Blob Upload Chunked Retry previous blob chunk should return 416',
  // GET on an upload session an older Location names
  'Push Blob Upload Chunked Get on stale blob upload should return 204 with a range and location',
  // OCI-Subject on manifests with a subject
  'Content Discovery Setup References setup',
  // tag pagination with `n` and `last`
  'Content Discovery Test content discovery endpoints (listing tags) GET number of tags should be limitable by `n` query parameter',
  'Content Discovery Test content discovery endpoints (listing tags) GET start of tag is set by `last` query parameter',
  // the referrers API
  'Content Discovery Test content discovery endpoints (listing references) GET request to nonexistent blob should result in empty 200 response',
  'Content Discovery Test content discovery endpoints (listing references) GET request to existing blob should yield 200',
  'Content Discovery Test content discovery endpoints (listing references) GET request to existing blob with filter should yield 200',
  'Content Discovery Test content discovery endpoints (listing references) GET request to missing manifest should yield 200',
  // deleting a tag (2.8 answers 400 DIGEST_INVALID, not UNSUPPORTED)
  'Content Management Manifest delete DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)',
];

describe('the conformance port against CNCF distribution 2.8 (Debian docker-registry)', () => {
  let registry: RunningRegistry;
  let results: SpecResult[];

  beforeAll(async () => {
    registry = await startDistribution();
    results = await runConformance(registry.url);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it(`runs the ${SPECS_RUN_BY_GO_SUITE} specs the Go suite runs and skips the same ones`, () => {
    expect(results.filter((result) => result.outcome !== 'skipped')).toHaveLength(SPECS_RUN_BY_GO_SUITE);
    expect(results.filter((result) => result.outcome === 'skipped').map((result) => result.spec.goName)).toEqual([
      'Pull Setup Get tag name from environment',
      'Push Cross-Repository Blob Mount Cross-mounting of nonexistent blob should yield session id',
      'Push Cross-Repository Blob Mount Cross-mounting without from, and automatic content discovery enabled should return a 201',
      'Push Cross-Repository Blob Mount Cross-mounting without from, and automatic content discovery disabled should return a 202',
      'Content Discovery Setup Populate registry with test tags (no push)',
    ]);
  });

  it('fails exactly the 12 specs distribution 2.8 is known to fail', () => {
    const failed = results.filter((result) => result.outcome === 'failed').map((result) => result.spec.goName);
    expect(failed).toEqual(DISTRIBUTION_2_8_FAILURES);
  });
});
