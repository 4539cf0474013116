/** The `n` / `last` pagination shared by tag lists and the catalog. */
export interface PageRequest {
  /** at most this many entries; undefined for the default */
  readonly n?: number;
  /** entries sorting after this one (exclusive) */
  readonly last?: string;
}

export interface Page {
  readonly entries: string[];
  /** set when entries remain after this page: the `last` of the next request */
  readonly next?: string;
}

/** Lexical order by code unit, the order the spec asks for (all names and tags are ASCII). */
export const lexical = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function paginate(all: readonly string[], request: PageRequest, defaultLimit?: number): Page {
  const sorted = [...all].sort(lexical);
  const after = request.last === undefined ? sorted : sorted.filter((entry) => entry > (request.last as string));
  const limit = request.n ?? defaultLimit;
  if (limit === undefined || after.length <= limit) return { entries: after };
  const entries = after.slice(0, limit);
  return { entries, next: limit === 0 ? undefined : entries[entries.length - 1] };
}
