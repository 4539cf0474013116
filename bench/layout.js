// Writes registry content straight into a server's storage folder (distribution's layout, which both
// servers read), so that 100,000 repositories or 5,000 tags take seconds to set up rather than hours of
// pushes. Both servers get the same files.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** the folder holding the repositories under a filesystem driver's root directory */
export const repositoriesOf = (storageRoot) => path.join(storageRoot, 'docker', 'registry', 'v2', 'repositories');

/** Runs `task` over `items` with `width` in flight. */
async function pool(items, width, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

/**
 * Repositories `<prefix>/gGG/rRRR` (groups of 1,000 nested one level, as `a/b` names nest) for the
 * indexes [from, to), each as a push leaves it: a layer link under `_layers` and a tag link under
 * `_manifests`. Both matter: distribution 2.8's catalog takes a folder with `_layers` for a repository,
 * stowage (like distribution 3) one with `_manifests`.
 */
export async function writeRepositories(storageRoot, prefix, from, to, digest) {
  const names = [];
  for (let i = from; i < to; i++) names.push(repositoryName(prefix, i));
  const hex = digest.slice('sha256:'.length);
  await pool(names, 32, async (name) => {
    const tag = path.join(repositoriesOf(storageRoot), name, '_manifests', 'tags', 'latest', 'current');
    const layer = path.join(repositoriesOf(storageRoot), name, '_layers', 'sha256', hex);
    await mkdir(tag, { recursive: true });
    await mkdir(layer, { recursive: true });
    await writeFile(path.join(tag, 'link'), digest);
    await writeFile(path.join(layer, 'link'), digest);
  });
}

export const repositoryName = (prefix, i) => `${prefix}/g${String(Math.floor(i / 1000)).padStart(2, '0')}/r${String(i % 1000).padStart(3, '0')}`;

/**
 * Tags `tNNNNN` for [0, count) in repository `name`, each with its current and index links, as a tag PUT
 * writes them; with `withIndex` false only the current links (what a listing reads is the same: one
 * folder per tag), which halves the set-up of 100,000 tags.
 */
export async function writeTags(storageRoot, name, count, digest, withIndex = true) {
  const hex = digest.slice('sha256:'.length);
  const tags = Array.from({ length: count }, (_, i) => tagName(i));
  await pool(tags, 32, async (tag) => {
    const folder = path.join(repositoriesOf(storageRoot), name, '_manifests', 'tags', tag);
    await mkdir(path.join(folder, 'current'), { recursive: true });
    await writeFile(path.join(folder, 'current', 'link'), digest);
    if (!withIndex) return;
    await mkdir(path.join(folder, 'index', 'sha256', hex), { recursive: true });
    await writeFile(path.join(folder, 'index', 'sha256', hex, 'link'), digest);
  });
}

export const tagName = (i) => `t${String(i).padStart(5, '0')}`;
