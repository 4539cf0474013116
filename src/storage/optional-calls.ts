/**
 * The optional calls of the driver contract (driver.ts), in one table every driver wrapper builds its optional
 * members from: base.ts (checks and error stamps), instrumented.ts (metrics), signal.ts (a request's signal),
 * the registry's caches (src/registry/cache) and the version-1 adapter. Each wrapper says once how it treats a
 * kind of call; `optionalDriverCalls` then gives it a member for every optional call the driver it wraps
 * offers, and none for a call that driver lacks, so the registry takes its fallback.
 *
 * Why a table: wrappers that listed the calls by hand each forgot some, and a forgotten call silently lost its
 * fast path (with metrics on, upload purging never removed a driver's temporaries). The table's type is built
 * from the contract's optional members, so a call added to driver.ts does not compile until it has its line
 * here, and from that line every wrapper passes it on.
 */
import type { FileInfo, FileWriter, ObjectContent, StorageDriver } from './driver.js';
import { undefinedIfNotFound } from './errors.js';
import { listAfterFromListing } from './list-after.js';
import { walkFromListing } from './walk.js';

/** The names of the optional members of `T`. */
type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
/** What every optional call is: a function (of arguments the table knows by position). */
type Call = (...args: never[]) => unknown;
type CallOf<T, K extends keyof T> = Extract<NonNullable<T[K]>, Call>;

export type OptionalDriverCallName = OptionalKeys<StorageDriver>;
export type OptionalWriterCallName = OptionalKeys<FileWriter>;

/**
 * How a call runs, which decides what a wrapper may do around it:
 * - `async`: resolves later and takes the caller's signal as its last parameter (measured, signal-bound,
 *   errors stamped);
 * - `sync`: taken synchronously, a cheap local check or a hint that starts work in the background (never measured,
 *   no signal); one that fails gives no answer;
 * - `release`: lets go of the driver's connections and timers at shutdown (no signal, not measured).
 */
export type CallRuns = 'async' | 'sync' | 'release';

/** How the wrappers treat one optional call `F` of `Owner` (a driver or a writer). */
export interface OptionalCallSpec<Owner, F extends Call> {
  readonly runs: CallRuns;
  /** the number of parameters the contract declares; an async call's signal is the last of them */
  readonly parameters: Required<Parameters<F>>['length'];
  /** object paths among the arguments: base.ts refuses an invalid one (INVALID_PATH), the first names the call in errors */
  readonly objectPaths?: (...args: Parameters<F>) => readonly string[];
  /** a directory path among the arguments (`/` allowed), checked and named as `objectPaths` */
  readonly directoryPath?: (...args: Parameters<F>) => string;
  /** `objectPaths` must be distinct (INVALID_PATH naming them all when not) */
  readonly distinctPaths?: true;
  /** the paths whose content the call changes: caches forget what they hold of them */
  readonly writes?: (...args: Parameters<F>) => readonly string[];
  /** the position of the caller's callback: what it throws is the caller's own error, passed on unstamped */
  readonly callbackAt?: number;
  /** it settles what a writer holds, so it runs even when the request that began the upload has gone (no request signal) */
  readonly settles?: true;
  /** offered only together with these: a wrapper has it only when the driver it wraps has all of them */
  readonly together?: readonly OptionalKeys<Owner>[];
  /** the operation metrics count it under, when not its own name */
  readonly measuredAs?: string;
  /** what stowage does when a driver lacks the call (base.ts offers it then; the registry calls it on a bare driver) */
  readonly fallback?: (owner: Owner, ...args: Parameters<F>) => ReturnType<F>;
}

type SpecTable<Owner> = { readonly [K in OptionalKeys<Owner>]-?: OptionalCallSpec<Owner, CallOf<Owner, K>> };

/** One `putContent` after the other, in order: `putContents` for a driver without its own. */
async function putContentsOneByOne(driver: StorageDriver, objects: readonly ObjectContent[], signal?: AbortSignal): Promise<void> {
  for (const { path, content } of objects) await driver.putContent(path, content, signal);
}

/** `statIfPresent` for a driver without its own. */
const statOrUndefined = (driver: StorageDriver, path: string, signal?: AbortSignal): Promise<FileInfo | undefined> =>
  undefinedIfNotFound(() => driver.stat(path, signal));

/** `uploadSizeIfPresent` for a driver without its own. */
const uploadSizeOrUndefined = (driver: StorageDriver, path: string, signal?: AbortSignal): Promise<number | undefined> =>
  undefinedIfNotFound(() => driver.uploadSize(path, signal));

const objectsPaths = (objects: readonly ObjectContent[]): string[] => objects.map(({ path }) => path);

/** The optional calls of StorageDriver: one line each (driver.ts documents what each does). */
export const OPTIONAL_DRIVER_CALLS = {
  redirectURL: { runs: 'async', parameters: 3, objectPaths: (path) => [path], fallback: async () => undefined },
  listAfter: { runs: 'async', parameters: 4, directoryPath: (path) => path, fallback: listAfterFromListing },
  prepareListing: { runs: 'async', parameters: 2, directoryPath: (path) => path },
  walk: { runs: 'async', parameters: 4, directoryPath: (path) => path, callbackAt: 1, fallback: walkFromListing },
  contentStampSync: { runs: 'sync', parameters: 1, objectPaths: (path) => [path] },
  putContents: { runs: 'async', parameters: 2, objectPaths: objectsPaths, distinctPaths: true, writes: objectsPaths, fallback: putContentsOneByOne },
  close: { runs: 'release', parameters: 0 },
  purgeTemporaries: { runs: 'async', parameters: 3 },
  putVolatile: { runs: 'async', parameters: 3, objectPaths: (path) => [path], writes: (path) => [path], together: ['persist'] },
  // the content stays what putVolatile wrote: nothing cached goes stale
  persist: { runs: 'async', parameters: 2, objectPaths: (path) => [path], together: ['putVolatile'] },
  // measured as the calls they stand for: a miss answered without an error is still a stat
  statIfPresent: { runs: 'async', parameters: 2, directoryPath: (path) => path, measuredAs: 'stat', fallback: statOrUndefined },
  uploadSizeIfPresent: { runs: 'async', parameters: 2, objectPaths: (path) => [path], measuredAs: 'uploadSize', fallback: uploadSizeOrUndefined },
} as const satisfies SpecTable<StorageDriver>;

/** The optional calls of FileWriter. */
export const OPTIONAL_WRITER_CALLS: SpecTable<FileWriter> = {
  commitTo: { runs: 'async', parameters: 2, objectPaths: (path) => [path], writes: (path) => [path], settles: true, measuredAs: 'commit' },
  // a hint: it changes no content and answers nothing
  expectSize: { runs: 'sync', parameters: 1 },
};

/** The table's spec with its arguments seen as a list (how the helpers below hold it). */
interface ErasedSpec {
  readonly runs: CallRuns;
  readonly parameters: number;
  readonly objectPaths?: (...args: unknown[]) => readonly string[];
  readonly directoryPath?: (...args: unknown[]) => string;
  readonly distinctPaths?: true;
  readonly writes?: (...args: unknown[]) => readonly string[];
  readonly callbackAt?: number;
  readonly settles?: true;
  readonly together?: readonly string[];
  readonly measuredAs?: string;
  readonly fallback?: (owner: unknown, ...args: unknown[]) => unknown;
}

/** One call of an optional member, as a wrapper sees it. */
export class OptionalCallInvocation<Result> {
  constructor(
    /** the call's name in the contract (`putContents`) */
    readonly name: string,
    private readonly spec: ErasedSpec,
    /** the arguments the caller passed */
    readonly args: readonly unknown[],
    /** the inner driver (or writer) whose call runs; with a fallback, the wrapper the fallback runs on */
    private readonly target: object,
    private readonly call: (...args: unknown[]) => Result,
    /** `call` is the contract's fallback, which takes the driver first */
    private readonly isFallback: boolean,
  ) {}

  /** the operation metrics count it under */
  get measuredAs(): string {
    return this.spec.measuredAs ?? this.name;
  }

  get settles(): boolean {
    return this.spec.settles === true;
  }

  /** the caller's signal: an async call's last argument */
  get signal(): AbortSignal | undefined {
    return this.spec.runs === 'async' ? (this.args[this.spec.parameters - 1] as AbortSignal | undefined) : undefined;
  }

  objectPaths(): readonly string[] {
    return this.spec.objectPaths?.(...this.args) ?? [];
  }

  directoryPath(): string | undefined {
    return this.spec.directoryPath?.(...this.args);
  }

  get distinctPaths(): boolean {
    return this.spec.distinctPaths === true;
  }

  /** the path errors name: the first object path, else the directory, else the root */
  subjectPath(): string {
    return this.objectPaths()[0] ?? this.directoryPath() ?? '/';
  }

  writes(): readonly string[] {
    return this.spec.writes?.(...this.args) ?? [];
  }

  /** the position of the caller's callback among the arguments, if the call takes one */
  get callbackAt(): number | undefined {
    return this.spec.callbackAt;
  }

  /** runs the wrapped call (the inner driver's, or the fallback) with the caller's arguments, or with `args` */
  proceed(args: readonly unknown[] = this.args): Result {
    return this.isFallback ? this.call(this.target, ...args) : this.call.apply(this.target, args as unknown[]);
  }

  /** runs the wrapped call with `signal` in place of the caller's (an async call's last parameter) */
  proceedWithSignal(signal: AbortSignal | undefined): Result {
    const args = this.args.slice(0, this.spec.parameters - 1);
    while (args.length < this.spec.parameters - 1) args.push(undefined);
    args.push(signal);
    return this.proceed(args);
  }
}

/**
 * What a wrapper does around each kind of optional call; a kind it leaves out is passed on as it is (the inner
 * driver's own function, bound to it).
 */
export interface OptionalCallWrapping {
  /** `self`: the object the member was called on (the wrapper, or an object whose prototype holds the member) */
  async?(call: OptionalCallInvocation<Promise<unknown>>, self: unknown): Promise<unknown>;
  sync?(call: OptionalCallInvocation<unknown>, self: unknown): unknown;
  release?(call: OptionalCallInvocation<Promise<unknown>>, self: unknown): Promise<unknown>;
}

type SpecEntries = readonly (readonly [string, ErasedSpec])[];
type AnyCall = (...args: unknown[]) => unknown;

/** Kept lean: the caches build their members for every request, one closure per member offered. */
function optionalMembers(inner: object, entries: SpecEntries, wrapping: OptionalCallWrapping, fallbacksOn: object | undefined): Record<string, unknown> {
  const own = inner as Readonly<Record<string, unknown>>;
  const members: Record<string, unknown> = {};
  for (const [name, spec] of entries) {
    const ownCall = own[name];
    let offered = typeof ownCall === 'function';
    if (offered && spec.together) for (const partner of spec.together) offered &&= typeof own[partner] === 'function';
    const around = wrapping[spec.runs] as ((invocation: OptionalCallInvocation<unknown>, self: unknown) => unknown) | undefined;
    if (offered) {
      const call = ownCall as AnyCall;
      members[name] = around
        ? function (this: unknown, ...args: unknown[]) {
            return around(new OptionalCallInvocation(name, spec, args, inner, call, false), this);
          }
        : call.bind(inner);
    } else if (fallbacksOn !== undefined && spec.fallback) {
      const fallback = spec.fallback as AnyCall;
      members[name] = around
        ? function (this: unknown, ...args: unknown[]) {
            return around(new OptionalCallInvocation(name, spec, args, fallbacksOn, fallback, true), this);
          }
        : (...args: unknown[]) => fallback(fallbacksOn, ...args);
    }
  }
  return members;
}

const DRIVER_ENTRIES: SpecEntries = Object.entries(OPTIONAL_DRIVER_CALLS as unknown as Record<string, ErasedSpec>);
const WRITER_ENTRIES: SpecEntries = Object.entries(OPTIONAL_WRITER_CALLS as unknown as Record<string, ErasedSpec>);

/** The optional calls of the driver contract. */
export const OPTIONAL_DRIVER_CALL_NAMES = Object.keys(OPTIONAL_DRIVER_CALLS) as readonly OptionalDriverCallName[];

/**
 * A wrapper's optional members: for each optional call `inner` offers (with the calls it comes `together`
 * with), one that runs `wrapping` around it; none for a call `inner` lacks. With `fallbacksOn` (the wrapper
 * itself), a call `inner` lacks that has a fallback gets a member running the fallback on it instead.
 */
export function optionalDriverCalls(
  inner: Partial<Pick<StorageDriver, OptionalDriverCallName>>,
  wrapping: OptionalCallWrapping,
  fallbacksOn?: StorageDriver,
): Partial<Pick<StorageDriver, OptionalDriverCallName>> {
  return optionalMembers(inner, DRIVER_ENTRIES, wrapping, fallbacksOn) as Partial<Pick<StorageDriver, OptionalDriverCallName>>;
}

/** `optionalDriverCalls` for a writer's optional calls. */
export function optionalWriterCalls(inner: FileWriter, wrapping: OptionalCallWrapping): Partial<Pick<FileWriter, OptionalWriterCallName>> {
  return optionalMembers(inner, WRITER_ENTRIES, wrapping, undefined) as Partial<Pick<FileWriter, OptionalWriterCallName>>;
}

/** The optional calls stowage can do without the driver's help: those the table gives a fallback. */
export type DriverCallWithFallback = { [K in OptionalDriverCallName]: (typeof OPTIONAL_DRIVER_CALLS)[K] extends { readonly fallback: Call } ? K : never }[OptionalDriverCallName];

/**
 * The driver's own `name` call, or the contract's fallback for it on this driver: for the registry, whose
 * driver has every fallback when base.ts wrapped it, but not always (a test's bare plugin driver).
 */
export function callOrFallback<K extends DriverCallWithFallback>(driver: StorageDriver, name: K): CallOf<StorageDriver, K> {
  const own = driver[name];
  if (own) return own.bind(driver) as CallOf<StorageDriver, K>;
  const fallback = (OPTIONAL_DRIVER_CALLS as unknown as Record<string, ErasedSpec>)[name]!.fallback!;
  return ((...args: unknown[]) => fallback(driver, ...args)) as CallOf<StorageDriver, K>;
}
