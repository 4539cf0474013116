/**
 * Byte-level checks on a pushed manifest before it is parsed: things JSON.parse accepts (or chokes on
 * slowly) that distribution, docker and containerd refuse, and that a registry must not store for them.
 */
import { RegistryError } from './errors.js';

/** Deepest nesting of arrays and objects accepted in a manifest; real manifests stay under 10. */
export const MAX_MANIFEST_DEPTH = 64;

const BOM = [0xef, 0xbb, 0xbf] as const;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

export function checkManifestBytes(content: Uint8Array): void {
  if (content[0] === BOM[0] && content[1] === BOM[1] && content[2] === BOM[2]) {
    throw new RegistryError('MANIFEST_INVALID', 'manifest starts with a UTF-8 byte order mark; JSON text must not', { offset: 0 });
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (OPENERS.has(byte)) {
      if (++depth > MAX_MANIFEST_DEPTH) {
        throw new RegistryError('MANIFEST_INVALID', `manifest nests arrays and objects deeper than ${MAX_MANIFEST_DEPTH} levels`, { limit: MAX_MANIFEST_DEPTH, offset: i });
      }
    } else if (CLOSERS.has(byte)) {
      depth--;
    }
  }
}
