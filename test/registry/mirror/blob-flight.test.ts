/**
 * Concurrent pulls of one blob share one upstream fetch (src/registry/mirror/blob-flight.ts); a quota's refusal
 * of the repository that started the fetch is that repository's alone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../src/registry/digest.js';
import { RegistryError } from '../../../src/registry/errors.js';
import { BlobFetcher, type FetchAdmission, type FetchedBlobStore, type FlightStart } from '../../../src/registry/mirror/blob-flight.js';
import { silentLogger } from '../../../src/registry/logger.js';
import { sha256 } from '../../http/support/registry.js';

const content = Buffer.from('a layer the upstream serves');
const digest = parseDigest(sha256(content));

describe('a blob fetch shared by concurrent pulls', () => {
  it('a pull that joined a fetch its starter was refused by its own quota fetches for itself', async () => {
    const spool = await mkdtemp(path.join(os.tmpdir(), 'flight-'));
    try {
      const stored: string[] = [];
      const store: FetchedBlobStore = {
        admit: async (name) => {
          if (name === 'over') throw new RegistryError('DENIED', `quota exceeded for ${name}`);
          return { commit: () => undefined, release: () => undefined } satisfies FetchAdmission;
        },
        store: async (name, _digest, body) => {
          for await (const piece of body) void piece;
          stored.push(name);
        },
        link: async (name) => void stored.push(name),
      };
      const fetcher = new BlobFetcher(store, spool, silentLogger);
      let answerOver!: () => void;
      const overOpened = new Promise<void>((resolve) => (answerOver = resolve));
      const upstream = (): FlightStart => ({
        open: async () => ({ size: content.length, body: Readable.from([content]) }),
        confirm: async () => undefined,
      });
      // the over-quota repository starts the fetch; the other joins while the upstream's headers are awaited
      const over = fetcher.join('over', digest, { ...upstream(), open: async () => (await overOpened, { size: content.length, body: Readable.from([content]) }) });
      const roomy = fetcher.join('roomy', digest, upstream());
      answerOver();
      await expect(over).rejects.toMatchObject({ code: 'DENIED' });
      const flight = await roomy;
      await flight.settled();
      expect(stored).toEqual(['roomy']);
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  });
});
