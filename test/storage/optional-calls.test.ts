/**
 * Every wrapper stowage puts around a driver passes on every optional call of the contract the driver offers,
 * and offers none it lacks. The calls checked are read from the contract itself (the optional members of
 * StorageDriver and FileWriter in src/storage/driver.ts, parsed), not from the wrappers' own table: a call added
 * to the contract that some wrapper forgets fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { InProcessStore } from '../../src/registry/cache/memory-store.js';
import { cachedDriver } from '../../src/registry/cache/index.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { FileWriter, StorageDriver, StorageDriverV1 } from '../../src/storage/driver.js';
import { instrumentDriver } from '../../src/storage/instrumented.js';
import { withSignal } from '../../src/storage/signal.js';
import { adaptV1Driver } from '../../src/storage/v1-adapter.js';

const CONTRACT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/storage/driver.ts');

interface ContractCall {
  readonly name: string;
  /** the declared parameters' names */
  readonly parameters: readonly string[];
  /** it answers nothing (`Promise<void>`): there is no answer to pass on */
  readonly answersNothing: boolean;
}

/** The optional methods an interface of driver.ts declares (`name?(...)`), with their parameter names. */
function optionalCallsOf(interfaceName: string): ContractCall[] {
  const source = ts.createSourceFile(CONTRACT, readFileSync(CONTRACT, 'utf8'), ts.ScriptTarget.Latest, true);
  const declaration = source.statements.find((statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === interfaceName);
  if (!declaration) throw new Error(`no interface ${interfaceName} in ${CONTRACT}`);
  return declaration.members.flatMap((member) =>
    ts.isMethodSignature(member) && member.questionToken && ts.isIdentifier(member.name)
      ? [
          {
            name: member.name.text,
            parameters: member.parameters.map((parameter) => parameter.name.getText(source)),
            answersNothing: /^(Promise<void>|void)$/.test(member.type?.getText(source) ?? ''),
          },
        ]
      : [],
  );
}

const DRIVER_CALLS = optionalCallsOf('StorageDriver');
const WRITER_CALLS = optionalCallsOf('FileWriter');

/** a signal parameter is the contract's trailing `signal` */
const takesSignal = (call: ContractCall): boolean => call.parameters.at(-1) === 'signal';

const bytes = new TextEncoder().encode('content');
/** the caller's walk callback: what it is called with, to check that the driver's calls reach it */
const walkSeen: unknown[] = [];
const walkCallback = (info: unknown): void => void walkSeen.push(info);

/** Arguments a caller may pass each optional call, without the trailing signal (valid paths: base.ts checks them). */
const SAMPLE_ARGUMENTS: Readonly<Record<string, readonly unknown[]>> = {
  redirectURL: ['/repo/blob', { method: 'GET', expiresIn: 60 }],
  listAfter: ['/repo', '/repo/a', 10],
  prepareListing: ['/repo/_manifests/tags'],
  walk: ['/repo', walkCallback, { startAfter: '/repo/a' }],
  contentStampSync: ['/repo/link'],
  putContents: [
    [
      { path: '/repo/one', content: bytes },
      { path: '/repo/two', content: bytes },
    ],
  ],
  close: [],
  purgeTemporaries: [new Date(1_000), true],
  putVolatile: ['/repo/startedat', bytes],
  persist: ['/repo/startedat'],
  statIfPresent: ['/repo/blob'],
  uploadSizeIfPresent: ['/repo/upload'],
  commitTo: ['/repo/destination'],
  expectSize: [4096],
};

function argumentsFor(call: ContractCall, signal: AbortSignal | undefined): unknown[] {
  const sample = SAMPLE_ARGUMENTS[call.name];
  if (!sample) throw new Error(`the contract has an optional call ${call.name} this test has no sample arguments for: add them`);
  if (!takesSignal(call)) return [...sample];
  const args: unknown[] = [...sample];
  while (args.length < call.parameters.length - 1) args.push(undefined);
  return [...args, signal];
}

interface Recorded {
  readonly name: string;
  readonly args: readonly unknown[];
}

/** What a driver's call answers: a value of its own, so that a wrapper passing it on can be told from one making it up. */
const answers = new Map<string, { answer: string }>();
const answerOf = (name: string): { answer: string } => {
  if (!answers.has(name)) answers.set(name, { answer: name });
  return answers.get(name)!;
};

/**
 * A driver built by hand that records every call it gets. It offers the optional calls named in `offers` (of the
 * contract's, and its writers the writer calls in `offers`); `v1`: a contract version 1 driver (no uploadSize).
 */
function recordingDriver(offers: readonly string[], v1 = false): { driver: StorageDriver | StorageDriverV1; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const recorder =
    (name: string, answer: unknown) =>
    (...args: unknown[]): unknown => {
      calls.push({ name, args });
      return answer;
    };
  const asyncRecorder =
    (name: string, answer: unknown) =>
    async (...args: unknown[]): Promise<unknown> => {
      calls.push({ name, args });
      return answer;
    };
  const writer = (): FileWriter => {
    const recorded: Record<string, unknown> = {
      size: 0,
      write: asyncRecorder('write', undefined),
      close: asyncRecorder('writer.close', undefined),
      cancel: asyncRecorder('cancel', undefined),
      commit: asyncRecorder('commit', undefined),
    };
    for (const call of WRITER_CALLS) if (offers.includes(call.name)) recorded[call.name] = recorder(call.name, Promise.resolve(answerOf(call.name)));
    return recorded as unknown as FileWriter;
  };
  const driver: Record<string, unknown> = {
    name: 'recording',
    getContent: asyncRecorder('getContent', bytes),
    putContent: asyncRecorder('putContent', undefined),
    reader: asyncRecorder('reader', undefined),
    writer: async (...args: unknown[]) => {
      calls.push({ name: 'writer', args });
      return writer();
    },
    stat: asyncRecorder('stat', { path: '/repo', size: 0, modTime: new Date(0), isDir: true }),
    list: asyncRecorder('list', []),
    move: asyncRecorder('move', undefined),
    delete: asyncRecorder('delete', undefined),
  };
  if (!v1) driver['uploadSize'] = asyncRecorder('uploadSize', 0);
  for (const call of DRIVER_CALLS) {
    if (!offers.includes(call.name)) continue;
    // a call that takes no signal is synchronous (contentStampSync) or lets go of resources (close)
    driver[call.name] = recorder(call.name, takesSignal(call) || call.name === 'close' ? Promise.resolve(answerOf(call.name)) : answerOf(call.name));
  }
  return { driver: driver as unknown as StorageDriver, calls };
}

const requestSignal = new AbortController().signal;

function cached(driver: StorageDriver): StorageDriver {
  const store = new InProcessStore(1 << 20);
  return cachedDriver(driver, new StorageLayout('/'), { descriptors: store, smallObjects: store, close: () => store.close() });
}

interface Stack {
  readonly name: string;
  /** the driver every call goes to, built around the recording driver */
  readonly build: (inner: StorageDriver | StorageDriverV1) => StorageDriver;
  readonly v1?: true;
  /** base.ts is in it: it offers the contract's fallbacks */
  readonly base?: true;
  /** the request's signal replaces the caller's (signal.ts) */
  readonly boundSignal?: true;
}

/**
 * Each wrapper alone, and all of them stacked as `stowage serve` stacks them around a plugin's driver: the v1
 * adapter and base.ts when the plugin is loaded (src/plugins/load.ts), metrics (src/ops, `instrument`), then per
 * request the request's signal (Registry.forRequest) and the caches (the Registry's constructor).
 */
const STACKS: readonly Stack[] = [
  { name: 'the v1 adapter', build: (inner) => adaptV1Driver(inner), v1: true },
  { name: 'base.ts', build: (inner) => wrapDriver(inner as StorageDriver), base: true },
  { name: 'metrics', build: (inner) => instrumentDriver(inner as StorageDriver, { operation: () => undefined }) },
  { name: 'a request signal', build: (inner) => withSignal(inner as StorageDriver, requestSignal), boundSignal: true },
  { name: 'the caches', build: (inner) => cached(inner as StorageDriver) },
  {
    name: 'all of them as serve stacks them (v2 driver)',
    build: (inner) => cached(withSignal(instrumentDriver(wrapDriver(adaptV1Driver(inner)), { operation: () => undefined }), requestSignal)),
    base: true,
    boundSignal: true,
  },
  {
    name: 'all of them as serve stacks them (v1 driver)',
    build: (inner) => cached(withSignal(instrumentDriver(wrapDriver(adaptV1Driver(inner)), { operation: () => undefined }), requestSignal)),
    v1: true,
    base: true,
    boundSignal: true,
  },
];

/** the arguments the inner driver should get when the caller passes `args` through `stack` */
function expectForwarded(stack: Stack, call: ContractCall, callerArgs: readonly unknown[], received: readonly unknown[], settles: boolean): void {
  const expected = [...callerArgs];
  if (takesSignal(call) && stack.boundSignal && !settles) expected[call.parameters.length - 1] = requestSignal;
  // a wrapper may pad missing optional arguments with undefined, or leave them off
  const trimmed = (args: readonly unknown[]): unknown[] => {
    const copy = [...args];
    while (copy.length > 0 && copy.at(-1) === undefined) copy.pop();
    return copy;
  };
  const got = trimmed(received);
  const want = trimmed(expected);
  expect(got.length, `${call.name}: argument count`).toBe(want.length);
  want.forEach((value, index) => {
    if (typeof value === 'function') {
      // a wrapper may wrap the caller's callback (base.ts tells its errors apart): what it gets still reaches the caller's
      expect(typeof got[index], `${call.name}: argument ${index}`).toBe('function');
      const probe = { path: '/repo/probe' };
      walkSeen.length = 0;
      void (got[index] as (info: unknown) => unknown)(probe);
      expect(walkSeen, `${call.name}: the callback reaches the caller's`).toEqual([probe]);
    } else {
      expect(got[index], `${call.name}: argument ${index}`).toBe(value);
    }
  });
}

describe('the optional calls of the driver contract, through every wrapper', () => {
  it('reads the optional calls from the contract (the parse finds them, and what they answer)', () => {
    // the calls docs/driver-kit.md names as optional are among them: the parse is not silently empty
    for (const documented of ['putContents', 'putVolatile', 'persist', 'contentStampSync', 'purgeTemporaries']) expect(DRIVER_CALLS.map((call) => call.name)).toContain(documented);
    expect(WRITER_CALLS.map((call) => call.name)).toContain('commitTo');
    expect(DRIVER_CALLS.find((call) => call.name === 'putContents')?.answersNothing).toBe(true);
    expect(DRIVER_CALLS.find((call) => call.name === 'purgeTemporaries')?.answersNothing).toBe(false);
  });

  for (const stack of STACKS) {
    describe(stack.name, () => {
      const offered = [...DRIVER_CALLS, ...WRITER_CALLS].map((call) => call.name);

      it('offers every optional call the driver offers, passing the same arguments and answering what the driver answered', async () => {
        const { driver, calls } = recordingDriver(offered, stack.v1);
        const wrapped = stack.build(driver);
        const callerSignal = new AbortController().signal;
        for (const call of DRIVER_CALLS) {
          const member = (wrapped as unknown as Record<string, unknown>)[call.name];
          expect(typeof member, `${stack.name} offers ${call.name}`).toBe('function');
          const args = argumentsFor(call, callerSignal);
          calls.length = 0;
          const answer = await (member as (...args: unknown[]) => unknown).apply(wrapped, args);
          if (!call.answersNothing) expect(answer, `${call.name}'s answer`).toBe(answerOf(call.name));
          const forwarded = calls.filter((recorded) => recorded.name === call.name);
          expect(forwarded, `${call.name} reached the driver once`).toHaveLength(1);
          expectForwarded(stack, call, args, forwarded[0]!.args, false);
        }
        const writer = await wrapped.writer('/repo/upload', false);
        for (const call of WRITER_CALLS) {
          const member = (writer as unknown as Record<string, unknown>)[call.name];
          expect(typeof member, `${stack.name}'s writer offers ${call.name}`).toBe('function');
          const args = argumentsFor(call, callerSignal);
          calls.length = 0;
          const answer = await (member as (...args: unknown[]) => unknown).apply(writer, args);
          if (!call.answersNothing) expect(answer, `${call.name}'s answer`).toBe(answerOf(call.name));
          const forwarded = calls.filter((recorded) => recorded.name === call.name);
          expect(forwarded, `${call.name} reached the writer once`).toHaveLength(1);
          // signal.ts: what settles a writer (commit and its kin) does not take the request's signal
          expectForwarded(stack, call, args, forwarded[0]!.args, call.name.startsWith('commit'));
        }
      });

      it('offers none the driver lacks, except the fallbacks base.ts documents, which run on the required calls', async () => {
        const { driver, calls } = recordingDriver([], stack.v1);
        const wrapped = stack.build(driver) as unknown as Record<string, unknown>;
        // base.ts: walk from list + stat, listAfter from list, putContents from putContent, redirectURL answering
        // undefined, statIfPresent and uploadSizeIfPresent from stat and uploadSize
        const fallbacks = stack.base ? ['walk', 'listAfter', 'putContents', 'redirectURL', 'statIfPresent', 'uploadSizeIfPresent'] : [];
        for (const call of DRIVER_CALLS) {
          if (fallbacks.includes(call.name)) expect(typeof wrapped[call.name], `${stack.name}: the fallback ${call.name}`).toBe('function');
          else expect(wrapped[call.name], `${stack.name} lacks ${call.name}`).toBeUndefined();
        }
        const writer = (await (wrapped as unknown as StorageDriver).writer('/repo/upload', false)) as unknown as Record<string, unknown>;
        for (const call of WRITER_CALLS) expect(writer[call.name], `${stack.name}'s writer lacks ${call.name}`).toBeUndefined();
        if (!stack.base) return;

        const driverView = wrapped as unknown as StorageDriver;
        calls.length = 0;
        await driverView.putContents!([
          { path: '/repo/one', content: bytes },
          { path: '/repo/two', content: bytes },
        ]);
        expect(calls.map((recorded) => [recorded.name, recorded.args[0]])).toEqual([
          ['putContent', '/repo/one'],
          ['putContent', '/repo/two'],
        ]);
        calls.length = 0;
        expect(await driverView.listAfter!('/repo', undefined, 10)).toEqual({ children: [], more: false });
        expect(calls.map((recorded) => recorded.name)).toEqual(['list']);
        calls.length = 0;
        await driverView.walk!('/repo', () => undefined);
        expect(calls.map((recorded) => recorded.name)).toEqual(['list']);
        expect(await driverView.redirectURL!('/repo/blob', { method: 'GET' })).toBeUndefined();
        calls.length = 0;
        expect(await driverView.statIfPresent!('/repo')).toEqual({ path: '/repo', size: 0, modTime: new Date(0), isDir: true });
        expect(calls.map((recorded) => [recorded.name, recorded.args[0]])).toEqual([['stat', '/repo']]);
        calls.length = 0;
        // uploadSize: the recording driver's (answering 0), or the v1 adapter's through a writer
        expect(await driverView.uploadSizeIfPresent!('/repo/upload')).toBe(0);
        expect(calls.map((recorded) => recorded.name)).toEqual(stack.v1 ? ['writer', 'writer.close'] : ['uploadSize']);
      });

      it('offers putVolatile and persist only together, as the contract offers them', () => {
        for (const alone of ['putVolatile', 'persist']) {
          const wrapped = stack.build(recordingDriver([alone], stack.v1).driver);
          expect(wrapped.putVolatile, `${stack.name} over a driver with only ${alone}`).toBeUndefined();
          expect(wrapped.persist, `${stack.name} over a driver with only ${alone}`).toBeUndefined();
        }
      });
    });
  }
});

describe("the registry's ordered puts", () => {
  it('use the driver’s putContents when it has one, once for all objects', async () => {
    const { driver, calls } = recordingDriver(['putContents']);
    const objects = [
      { path: '/repo/one', content: bytes },
      { path: '/repo/two', content: bytes },
    ];
    await new RegistryStorage(driver as StorageDriver).putInOrder(objects);
    expect(calls.map((recorded) => recorded.name)).toEqual(['putContents']);
    expect(calls[0]!.args[0]).toBe(objects);
  });

  it('put one object after the other, in order, on a bare driver without putContents', async () => {
    const { driver, calls } = recordingDriver([]);
    await new RegistryStorage(driver as StorageDriver).putInOrder([
      { path: '/repo/one', content: bytes },
      { path: '/repo/two', content: bytes },
    ]);
    expect(calls.map((recorded) => [recorded.name, recorded.args[0]])).toEqual([
      ['putContent', '/repo/one'],
      ['putContent', '/repo/two'],
    ]);
  });
});
