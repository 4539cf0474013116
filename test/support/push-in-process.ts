/**
 * Pushing straight into a `Registry` of this process (no HTTP), as the registry layer's tests do; the
 * manifests are the ones push-by-url.ts builds, so both kinds of test push the same bytes.
 */
import type { Registry } from '../../src/registry/index.js';
import { IMAGE_MANIFEST, imageManifest, sha256 } from './push-by-url.js';

/** a blob stored in `name` through an upload session; its digest and size */
export async function storeBlob(registry: Pick<Registry, 'startUpload' | 'finishUpload'>, name: string, content: Uint8Array): Promise<{ digest: string; size: number }> {
  const upload = await registry.startUpload(name);
  const digest = sha256(content);
  await registry.finishUpload(name, upload.id, digest, (async function* () {
    yield content;
  })());
  return { digest, size: content.length };
}

/** an image of `config` and `layers`, stored with them and tagged `tag`; its manifest's digest */
export async function storeImage(registry: Pick<Registry, 'startUpload' | 'finishUpload' | 'putManifest'>, name: string, tag: string, config: Uint8Array, layers: readonly Uint8Array[]): Promise<string> {
  for (const blob of [config, ...layers]) await storeBlob(registry, name, blob);
  return (await registry.putManifest(name, tag, imageManifest(config, layers), IMAGE_MANIFEST)).digest;
}
