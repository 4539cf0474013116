/**
 * Where each part of the normalised document came from. The document validated is not always the file
 * the operator wrote (a docker-registry file is translated, env variables are laid over it), so every
 * error is traced back to the place the operator must edit.
 */
import type { ConfigLocation } from './types.js';

export type Segments = readonly (string | number)[];

/** `storage.ufile.baseurl`, `plugins.paths[0]` */
export function formatPath(segments: Segments): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

function joinPath(base: string, rest: Segments): string {
  const tail = formatPath(rest);
  if (base === '') return tail;
  if (tail === '') return base;
  return tail.startsWith('[') ? `${base}${tail}` : `${base}.${tail}`;
}

const keyOf = (segments: Segments): string => segments.map(String).join('\u001f');

export class Origins {
  private readonly places = new Map<string, { segments: Segments; location: ConfigLocation }>();

  constructor(root: ConfigLocation) {
    this.places.set(keyOf([]), { segments: [], location: root });
  }

  /** `segments` of the normalised document (and everything under it) came from `location`. */
  set(segments: Segments, location: ConfigLocation): void {
    const prefix = keyOf(segments);
    for (const key of [...this.places.keys()]) {
      const under = segments.length === 0 || key === prefix || key.startsWith(`${prefix}\u001f`);
      if (under) this.places.delete(key);
    }
    this.places.set(prefix, { segments, location });
  }

  /** The file and path that `segments` of the normalised document came from. */
  locate(segments: Segments): ConfigLocation {
    for (let n = segments.length; n >= 0; n--) {
      const hit = this.places.get(keyOf(segments.slice(0, n)));
      if (hit) return { file: hit.location.file, path: joinPath(hit.location.path, segments.slice(n)) };
    }
    /* c8 ignore next */
    throw new Error('unreachable: the root origin is always set');
  }
}
