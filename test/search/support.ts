/** Deleting from and searching a registry by its URL (a `stowage serve` process); pushing is test/support/push-by-url.ts. */
export async function deleteManifestAt(url: string, repository: string, digest: string): Promise<number> {
  const response = await fetch(`${url}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' });
  await response.arrayBuffer();
  return response.status;
}

/** `/v2/_stowage/search?q=` (every page): repository -> its shown tags */
export async function searchAt(url: string, term: string): Promise<Record<string, string[]>> {
  const found: Record<string, string[]> = {};
  let next: string | undefined = `${url}/v2/_stowage/search?q=${encodeURIComponent(term)}&n=50`;
  while (next) {
    const response: Response = await fetch(next);
    if (response.status !== 200) throw new Error(`search ${term}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { repositories: { name: string; tags: string[] }[] };
    for (const { name, tags } of body.repositories) found[name] = tags;
    const link = /<([^>]+)>; rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
    next = link ? new URL(link, url).toString() : undefined;
  }
  return found;
}

/** `/v1/search?q=` (what `docker search` asks): the names */
export async function searchV1At(url: string, term: string): Promise<string[]> {
  const response = await fetch(`${url}/v1/search?q=${encodeURIComponent(term)}&n=100`);
  if (response.status !== 200) throw new Error(`v1 search ${term}: ${response.status}`);
  return ((await response.json()) as { results: { name: string }[] }).results.map((r) => r.name);
}
