/**
 * The upstreams the mirroring tests pull through: distribution 2.8 (Debian's docker-registry) with htpasswd
 * users, populated by skopeo, behind a counting proxy (test/support/upstream-proxy.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { htpasswdText, USERS } from '../../auth/support.js';
import { startDistribution } from '../../support/distribution.js';
import { buildImageLayout, buildMultiArchLayout, type BuiltLayout } from '../../support/oci-layout.js';
import type { RunningRegistry } from '../../support/registry-under-test.js';
import { dockerRef, ociRef, Skopeo } from '../../support/skopeo.js';
import { startUpstreamProxy, type UpstreamProxy } from '../../support/upstream-proxy.js';

export { USERS };

export interface PopulatedUpstream {
  readonly distribution: RunningRegistry;
  /** the counting proxy in front of it: point the mirror here */
  readonly proxy: UpstreamProxy;
  readonly skopeo: Skopeo;
  /** `library/app:v1`, one image of three layers */
  readonly image: BuiltLayout;
  /** `library/multi:multi`, an OCI index of two platforms */
  readonly index: BuiltLayout;
  readonly user: string;
  readonly password: string;
  close(): Promise<void>;
}

/** distribution 2.8 with htpasswd (user alice), holding `library/app:v1` and `library/multi:multi`. */
export async function startPopulatedUpstream(): Promise<PopulatedUpstream> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-upstream-'));
  const htpasswd = path.join(dir, 'htpasswd');
  await writeFile(htpasswd, htpasswdText());
  const distribution = await startDistribution({ htpasswd });
  const skopeo = await Skopeo.create();
  const user = 'alice';
  const password = USERS.alice!;
  try {
    const image = await buildImageLayout(path.join(dir, 'image'), 'v1', 'mirror-image');
    const index = await buildMultiArchLayout(path.join(dir, 'multi'), 'multi', 'mirror-multi');
    const creds = ['--dest-creds', `${user}:${password}`];
    await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(distribution.host, 'library/app', 'v1'), creds);
    await skopeo.copy(ociRef(index.dir, 'multi'), dockerRef(distribution.host, 'library/multi', 'multi'), ['--all', ...creds]);
    const proxy = await startUpstreamProxy(distribution.url);
    return {
      distribution,
      proxy,
      skopeo,
      image,
      index,
      user,
      password,
      async close() {
        await proxy.close();
        await skopeo.dispose();
        await distribution.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await skopeo.dispose();
    await distribution.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
