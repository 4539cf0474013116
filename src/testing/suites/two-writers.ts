/**
 * One upload driven from two driver instances on the same backend, as two registry processes behind a
 * load balancer drive it: appends, status reads and closes interleave, and nothing either side had
 * acknowledged is ever lost. Of two writers opened at the same size, only the first to write continues;
 * the other is refused with INVALID_OFFSET (416 at the API) and changes nothing.
 */
import { expect } from 'vitest';
import type { FileWriter, StorageDriver } from '../../storage/driver.js';
import type { KitHarness } from '../harness.js';
import { digestStream, Pattern } from '../pattern.js';

/** Sizes that cross the part sizes of the object-store drivers' kit runs (256 KiB, 1 MiB), with odd tails. */
const PIECE = 1024 * 1024 + 123_457;

async function append(driver: StorageDriver, path: string, bytes: Buffer, expectedStart: number): Promise<number> {
  const writer = await driver.writer(path, true);
  expect(writer.size, 'an appending writer opens at the size the other instance acknowledged').toBe(expectedStart);
  await writer.write(bytes);
  await writer.close();
  return writer.size;
}

/** Writes and closes; resolves to the error when either is refused. */
async function refusal(writer: FileWriter, bytes: Buffer): Promise<unknown> {
  try {
    await writer.write(bytes);
    await writer.close();
  } catch (err) {
    await writer.close().catch(() => undefined);
    return err;
  }
  return undefined;
}

export function twoWriterTests(kit: KitHarness): void {
  kit.test({
    id: 'TwoInstancesOneUpload',
    sentence: 'an upload continued alternately by two driver instances, with status reads between and during appends, keeps every acknowledged byte',
    timeoutMs: 120_000,
    run: async () => {
      const a = kit.driver;
      const b = kit.peer;
      const path = kit.path();
      const pattern = new Pattern(4 * PIECE);
      const piece = (n: number) => pattern.slice(n * PIECE, (n + 1) * PIECE);

      const first = await a.writer(path, false);
      await first.write(piece(0));
      await first.close();
      expect(await b.uploadSize(path)).toBe(PIECE);

      expect(await append(b, path, piece(1), PIECE)).toBe(2 * PIECE);
      expect(await a.uploadSize(path)).toBe(2 * PIECE);

      // While the other instance holds a writer that took bytes but is not closed, a status read never
      // goes below what was acknowledged (a store that writes through may already count the new bytes).
      const open = await a.writer(path, true);
      await open.write(piece(2));
      const during = await b.uploadSize(path);
      expect(during).toBeGreaterThanOrEqual(2 * PIECE);
      expect(during).toBeLessThanOrEqual(3 * PIECE);
      const idle = await b.writer(path, true);
      expect(idle.size).toBeGreaterThanOrEqual(2 * PIECE);
      await idle.close();
      await open.close();
      expect(await b.uploadSize(path)).toBe(3 * PIECE);
      expect(await a.uploadSize(path)).toBe(3 * PIECE);

      const last = await b.writer(path, true);
      expect(last.size).toBe(3 * PIECE);
      await last.write(piece(3));
      await last.commit();
      await last.close();
      expect(await digestStream(await a.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
    },
  });

  kit.test({
    id: 'ConflictingAppendRefused',
    sentence: 'of two writers opened at the same size on two instances, the second to write is refused with INVALID_OFFSET and the first one\'s bytes stay',
    timeoutMs: 120_000,
    run: async () => {
      const a = kit.driver;
      const b = kit.peer;
      const path = kit.path();
      const pattern = new Pattern(3 * PIECE);
      const rival = new Pattern(PIECE);
      const start = await a.writer(path, false);
      await start.write(pattern.slice(0, PIECE));
      await start.close();

      const winner = await a.writer(path, true);
      const loser = await b.writer(path, true);
      const stale = await b.writer(path, true);
      expect([winner.size, loser.size, stale.size]).toEqual([PIECE, PIECE, PIECE]);
      await winner.write(pattern.slice(PIECE, 2 * PIECE));
      await winner.close();

      const refused = await refusal(loser, rival.slice());
      expect(refused, 'the overtaken writer is refused').toBeInstanceOf(Error);
      expect((refused as { code?: unknown }).code).toBe('INVALID_OFFSET');
      // a writer that was overtaken cannot commit what it saw either
      let commitError: unknown;
      try {
        await stale.commit();
      } catch (err) {
        commitError = err;
      }
      await stale.close().catch(() => undefined);
      expect((commitError as { code?: unknown } | undefined)?.code, 'a stale commit is refused').toBe('INVALID_OFFSET');

      expect(await a.uploadSize(path)).toBe(2 * PIECE);
      expect(await b.uploadSize(path)).toBe(2 * PIECE);
      const last = await b.writer(path, true);
      expect(last.size).toBe(2 * PIECE);
      await last.write(pattern.slice(2 * PIECE));
      await last.commit();
      await last.close();
      expect(await digestStream(await b.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
    },
  });
}
