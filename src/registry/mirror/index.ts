/**
 * Pull-through mirroring (the `proxy` section, src/config/mirror.ts): the parts, each in a module of its own.
 *
 * - namespace.ts: which upstream a local repository mirrors, and its name there (and back, for sync)
 * - challenge.ts: the upstream's WWW-Authenticate challenges
 * - upstream.ts: the HTTP client of one upstream (manifests, blobs, Basic and Bearer authentication)
 * - tag-freshness.ts: when each mirrored tag was last confirmed by its upstream, in storage beside the tag
 * - blob-flight.ts: one upstream fetch per blob, streamed to every client pulling it while it is stored
 * - pull-through.ts: what a pull of a mirrored repository does (the Registry calls it)
 */
export { MirrorNamespace, type MirrorRoute, type NamespaceMapping } from './namespace.js';
export { parseChallenges, type AuthChallenge } from './challenge.js';
export {
  MANIFEST_ACCEPT,
  UpstreamClient,
  UpstreamError,
  isUpstreamError,
  type FetchedManifest,
  type ManifestHead,
  type UpstreamBlob,
  type UpstreamClientOptions,
  type UpstreamEndpoint,
  type UpstreamFailure,
} from './upstream.js';
export { PullThrough, type PullRoute, type PullThroughOptions, type PullThroughStores } from './pull-through.js';
export { TagFreshness, type TagFetchRecord } from './tag-freshness.js';
