import { sha256 } from './support.js';

const DIGEST = sha256('anything');

/**
 * Every endpoint of the distribution spec (end-1 .. end-13, plus the catalog and upload cancel), written
 * out from the spec rather than read from the router, with the scope a client must ask for.
 */
export const SPEC_ENDPOINTS: readonly { id: string; method: string; path: string; scope?: string }[] = [
  { id: 'end-1', method: 'GET', path: '/v2/' },
  { id: 'end-2 GET', method: 'GET', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-2 HEAD', method: 'HEAD', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-3 GET', method: 'GET', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull' },
  { id: 'end-3 HEAD', method: 'HEAD', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull' },
  { id: 'end-4a', method: 'POST', path: '/v2/team-a/app/blobs/uploads/', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-4b', method: 'POST', path: `/v2/team-a/app/blobs/uploads/?digest=${DIGEST}`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-5', method: 'PATCH', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-6', method: 'PUT', path: `/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666?digest=${DIGEST}`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-7', method: 'PUT', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-8a', method: 'GET', path: '/v2/team-a/app/tags/list', scope: 'repository:team-a/app:pull' },
  { id: 'end-8b', method: 'GET', path: '/v2/team-a/app/tags/list?n=1&last=a', scope: 'repository:team-a/app:pull' },
  { id: 'end-9', method: 'DELETE', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:delete' },
  { id: 'end-10', method: 'DELETE', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:delete' },
  { id: 'end-11', method: 'POST', path: `/v2/team-a/app/blobs/uploads/?mount=${DIGEST}&from=team-b/app`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-12a', method: 'GET', path: `/v2/team-a/app/referrers/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-12b', method: 'GET', path: `/v2/team-a/app/referrers/${DIGEST}?artifactType=x%2Fy`, scope: 'repository:team-a/app:pull' },
  { id: 'end-13', method: 'GET', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'upload cancel', method: 'DELETE', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'catalog', method: 'GET', path: '/v2/_catalog', scope: 'registry:catalog:*' },
];
