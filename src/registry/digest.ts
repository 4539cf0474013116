/** The one place where digests are parsed, computed and verified. */
import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';

export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** The spec's digest grammar: `algorithm ":" encoded`. */
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex` */
  readonly value: string;
}

export const isSupportedAlgorithm = (algorithm: string): algorithm is DigestAlgorithm => algorithm === 'sha256' || algorithm === 'sha512';

/** Parses a digest, or undefined when it is malformed or of an algorithm stowage does not support. */
export function tryParseDigest(text: string): Digest | undefined {
  if (!DIGEST_GRAMMAR.test(text)) return undefined;
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  if (!isSupportedAlgorithm(algorithm)) return undefined;
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return { algorithm, hex, value: text };
}

/** Parses a digest or throws DIGEST_INVALID naming what was wrong. */
export function parseDigest(text: string): Digest {
  const digest = tryParseDigest(text);
  if (digest) return digest;
  const algorithm = text.includes(':') ? text.slice(0, text.indexOf(':')) : '';
  const reason = DIGEST_GRAMMAR.test(text) && !isSupportedAlgorithm(algorithm)
    ? `unsupported digest algorithm ${JSON.stringify(algorithm)} (sha256 and sha512 are supported)`
    : 'not a valid digest (expected sha256:<64 hex> or sha512:<128 hex>)';
  throw new RegistryError('DIGEST_INVALID', `invalid digest ${JSON.stringify(text)}: ${reason}`, { digest: text });
}

export const looksLikeDigest = (text: string): boolean => text.includes(':');

/** A running hash over a stream of bytes. */
export class Digester {
  private readonly hash: Hash;
  private bytes = 0;

  constructor(
    readonly algorithm: DigestAlgorithm = 'sha256',
    hash?: Hash,
    size = 0,
  ) {
    this.hash = hash ?? createHash(algorithm);
    this.bytes = size;
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** The digest so far; the digester stays usable. */
  digest(): string {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}`;
  }
}

export function digestBytes(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export async function digestStream(stream: Readable, algorithm: DigestAlgorithm): Promise<{ digest: string; size: number }> {
  const digester = new Digester(algorithm);
  for await (const chunk of stream) digester.update(chunk as Uint8Array);
  return { digest: digester.digest(), size: digester.size };
}

/** Throws DIGEST_INVALID unless `bytes` hash to `expected`. */
export function verifyBytes(bytes: Uint8Array, expected: Digest): void {
  const actual = digestBytes(bytes, expected.algorithm);
  if (actual !== expected.value) {
    throw new RegistryError('DIGEST_INVALID', `content digest ${actual} does not match ${expected.value}`, { expected: expected.value, actual });
  }
}
