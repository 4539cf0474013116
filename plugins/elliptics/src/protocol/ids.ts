/** Key ids: how a key name becomes the 64-byte id Elliptics routes and stores by. */
import { createHash } from 'node:crypto';

/** `sha512(namespace + "\0" + key)`, or `sha512(key)` without a namespace (dnet_local_digest_transform). */
export function keyId(key: string, namespace: string): Buffer {
  const hash = createHash('sha512');
  if (namespace !== '') hash.update(`${namespace}\0`, 'utf8');
  hash.update(key, 'utf8');
  return hash.digest();
}

/** Byte order of ids is memcmp order, which is also how routes are searched. */
export const compareIds = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
