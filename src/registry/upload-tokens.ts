/**
 * Upload ids that prove themselves, so a session needs no folder until it holds data. A POST writes nothing:
 * its id carries the session's start time and a MAC over it, the repository and a random part, under a key
 * kept in storage (`_stowage/uploads/keys/<key id>`), so every process sharing the storage verifies an id
 * any of them issued, and nobody without the key can make one up. A session closed by its first request (a
 * small push's PUT ?digest=) never touches `_uploads`: that saves a folder's writes, renames and removal per
 * push (docs/bench.md, "Small-blob pushes, eighth pass").
 *
 * Layout of an id (56 characters of the upload-id grammar, `[A-Za-z0-9_-]`, so never a uuid):
 * `<key id: 8><start, unix seconds, 8 hex><random: 16><MAC: 22 base64url>` behind the version mark `s1`.
 */
import { createHash, createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { StorageLayout } from './layout.js';
import type { RegistryStorage } from './storage.js';

/**
 * How long a session that holds nothing yet stays open, and how long the record of a cancelled one is kept
 * at least (purge.ts): an id older than this is unknown, so no purge may bring a cancelled id back. distribution's
 * default upload purging age.
 */
export const TOKEN_LIFETIME_MS = 168 * 3600 * 1000;

const MARK = 's1';
const KEY_ID = /^[A-Za-z0-9_-]{8}$/;
const ID_LENGTH = MARK.length + 8 + 8 + 16 + 22;
const TOKEN = /^s1([A-Za-z0-9_-]{8})([0-9a-f]{8})[A-Za-z0-9_-]{16}([A-Za-z0-9_-]{22})$/;
/** An id's parts (key id, start time, MAC) when it has a self-proving id's shape; null otherwise. */
const parsed = (id: string): RegExpExecArray | null => (id.length === ID_LENGTH ? TOKEN.exec(id) : null);
const KEY_BYTES = 32;

export interface VerifiedToken {
  /** when the session started (its `startedat` once it holds data) */
  readonly startedAt: Date;
}

/** Issues and verifies self-proving upload ids; one per process, shared by every request's view of the registry. */
export class UploadTokens {
  /** keys by id, as read from storage (or made by this process): a key never changes once written */
  private readonly keys = new Map<string, Promise<Buffer | undefined>>();
  private signing: Promise<{ id: string; key: Buffer }> | undefined;
  private readonly pool = Buffer.alloc(12 * 256);
  private poolUsed = this.pool.length;

  /** `now`: the clock ids are issued and checked by (a test's to move) */
  constructor(readonly now: () => number = Date.now) {}

  /** A new id for a session of `name`, starting now. */
  async issue(storage: RegistryStorage, layout: StorageLayout, name: string): Promise<string> {
    const { id: keyId, key } = await this.signingKey(storage, layout);
    const seconds = Math.floor(this.now() / 1000)
      .toString(16)
      .padStart(8, '0');
    const body = `${MARK}${keyId}${seconds}${this.randomPart()}`;
    return `${body}${mac(key, name, body)}`;
  }

  /**
   * The token's start time when `id` is an id this storage's keys issued for `name` and it has not expired;
   * undefined for anything else (an id of a session with a folder from the start, a forged or expired one).
   */
  async verify(storage: RegistryStorage, layout: StorageLayout, name: string, id: string): Promise<VerifiedToken | undefined> {
    const parts = parsed(id);
    const token = parts && this.unexpired(parts);
    if (!parts || !token) return undefined;
    const key = await this.key(storage, layout, parts[1]!);
    if (!key) return undefined;
    const body = id.slice(0, ID_LENGTH - 22);
    const expected = Buffer.from(mac(key, name, body));
    const given = Buffer.from(parts[3]!);
    return timingSafeEqual(expected, given) ? token : undefined;
  }

  /**
   * `verify` without the MAC, for an id of `name` this process has already issued or verified (the caller
   * remembers which): its start time when it has not expired. Saves a small push's PUT the HMAC (a `Hmac`
   * object, its updates and digest: about 2 % of the request loop's time, docs/bench.md "Small-blob pushes,
   * ninth pass").
   */
  knownStart(id: string): VerifiedToken | undefined {
    const parts = parsed(id);
    return parts ? this.unexpired(parts) : undefined;
  }

  /** The start time an id's parts carry, unless the id is older than TOKEN_LIFETIME_MS (or as far in the future). */
  private unexpired(parts: RegExpExecArray): VerifiedToken | undefined {
    const started = Number.parseInt(parts[2]!, 16) * 1000;
    const age = this.now() - started;
    if (age > TOKEN_LIFETIME_MS || age < -TOKEN_LIFETIME_MS) return undefined;
    return { startedAt: new Date(started) };
  }

  /** 12 random bytes in base64url, from a pool refilled 256 ids at a time (each fill is a getpid call in OpenSSL) */
  private randomPart(): string {
    if (this.poolUsed === this.pool.length) {
      randomFillSync(this.pool);
      this.poolUsed = 0;
    }
    const part = this.pool.toString('base64url', this.poolUsed, this.poolUsed + 12);
    this.poolUsed += 12;
    return part;
  }

  /** The key this process signs with: one already in storage, else a new one written durably. */
  private signingKey(storage: RegistryStorage, layout: StorageLayout): Promise<{ id: string; key: Buffer }> {
    this.signing ??= (async () => {
      for (const path of ((await storage.listOrUndefined(layout.uploadKeys())) ?? []).sort()) {
        const id = path.slice(path.lastIndexOf('/') + 1);
        const key = KEY_ID.test(id) ? await this.key(storage, layout, id) : undefined;
        if (key) return { id, key };
      }
      // two processes starting at once may each write one: both are valid, each id names its own
      const id = randomBytes(6).toString('base64url');
      const key = randomBytes(KEY_BYTES);
      await storage.driver.putContent(layout.uploadKey(id), key);
      this.keys.set(id, Promise.resolve(key));
      return { id, key };
    })();
    // a failed write is tried again by the next session
    this.signing.catch(() => (this.signing = undefined));
    return this.signing;
  }

  private key(storage: RegistryStorage, layout: StorageLayout, id: string): Promise<Buffer | undefined> {
    let key = this.keys.get(id);
    if (!key) {
      key = storage.getOrUndefined(layout.uploadKey(id)).then((bytes) => (bytes?.length === KEY_BYTES ? Buffer.from(bytes) : undefined));
      // a miss (a made-up key id) or a failed read is asked again next time, a key found is kept
      this.keys.set(id, key);
      key.then(
        (found) => found ?? this.keys.delete(id),
        () => this.keys.delete(id),
      );
    }
    return key;
  }
}

const mac = (key: Buffer, name: string, body: string): string =>
  createHmac('sha256', key).update(name).update('\u0000').update(body).digest().subarray(0, 16).toString('base64url');

/** Whether `id` has the shape of a self-proving id (cheap; `verify` says whether it is one). */
export const isTokenShaped = (id: string): boolean => id.length === ID_LENGTH && id.startsWith(MARK);

/** The name of the record that the session `id` of `name` ended (layout.closedUpload). */
export const closedRecordName = (name: string, id: string): string => createHash('sha256').update(name).update('\u0000').update(id).digest('hex').slice(0, 40);
