/** What every conformance test shares: the driver under test, fresh paths, cleanup and error checks. */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { StorageDriver } from '../storage/driver.js';
import type { StorageErrorCode } from '../storage/errors.js';
import type { ConformanceSizes } from './profiles.js';

export interface KitTest {
  /** the stable id `skip` names, e.g. `MoveInvalid` */
  readonly id: string;
  /** what a user would agree the driver does */
  readonly sentence: string;
  readonly run: () => Promise<void>;
  readonly timeoutMs?: number;
}

export class KitHarness {
  private current: StorageDriver | undefined;
  private secondInstance: StorageDriver | undefined;
  private readonly created = new Set<string>();
  private readonly registered = new Set<string>();

  constructor(
    readonly sizes: ConformanceSizes,
    private readonly skipped: ReadonlySet<string>,
  ) {}

  get driver(): StorageDriver {
    if (!this.current) throw new Error('stowage/testing: the driver was not created (did create() fail?)');
    return this.current;
  }

  set driver(driver: StorageDriver | undefined) {
    this.current = driver;
  }

  get driverIfCreated(): StorageDriver | undefined {
    return this.current;
  }

  /** A second instance on the same backend (as another process has), or the driver itself when the run gave none. */
  get peer(): StorageDriver {
    return this.secondInstance ?? this.driver;
  }

  set peer(driver: StorageDriver | undefined) {
    this.secondInstance = driver;
  }

  get peerIfCreated(): StorageDriver | undefined {
    return this.secondInstance;
  }

  /** Registers a test with vitest, as skipped when the caller's `skip` names it. */
  test({ id, sentence, run, timeoutMs }: KitTest): void {
    this.registered.add(id);
    const title = `${sentence} [${id}]`;
    if (this.skipped.has(id)) it.skip(title, run);
    else it(title, run, timeoutMs);
  }

  /** `skip` ids that name no test: a typo would otherwise silently run what was meant to be skipped. */
  unknownSkips(): string[] {
    return [...this.skipped].filter((id) => !this.registered.has(id));
  }

  /**
   * A fresh path `/<random>/<random>...` with `depth` segments; its first segment is deleted after the
   * test. Names are lowercase letters and digits, as in distribution's suite.
   */
  path(depth = 3): string {
    const segments = Array.from({ length: depth }, (_, i) => randomName(i === 0 ? 16 : 8));
    this.track(`/${segments[0]}`);
    return `/${segments.join('/')}`;
  }

  /** Deletes this path's first segment after the test. */
  track(path: string): string {
    const first = path.split('/')[1];
    if (first) this.created.add(`/${first}`);
    return path;
  }

  /** Deletes what the test created, then checks that nothing is left at the root. */
  async cleanUp(): Promise<void> {
    const paths = [...this.created];
    this.created.clear();
    if (!this.current) return;
    for (const path of paths) {
      try {
        await this.current.delete(path);
      } catch (err) {
        if (errorCode(err) !== 'PATH_NOT_FOUND') throw err;
      }
    }
    expect(await this.current.list('/'), 'list("/") after the test deleted what it created').toEqual([]);
  }

  /** Asserts that `action` fails with `code`, naming the driver (and `path`, when given). */
  async expectError(action: Promise<unknown>, code: StorageErrorCode, path?: string): Promise<Error> {
    let failure: unknown;
    try {
      await action;
    } catch (err) {
      failure = err;
    }
    expect(failure, `expected a ${code} error`).toBeInstanceOf(Error);
    const err = failure as Error;
    expect(errorCode(err), `code of "${err.message}"`).toBe(code);
    expect(err.message).toContain(this.driver.name);
    if (path !== undefined) expect(err.message).toContain(path);
    return err;
  }
}

export const errorCode = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;

const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomName(length: number): string {
  const bytes = randomBytes(length);
  let name = '';
  for (const byte of bytes) name += alphabet[byte % alphabet.length];
  return name;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
