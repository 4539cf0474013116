/**
 * Durability of acknowledged pushes, read from the system calls themselves: `stowage serve` runs under
 * strace, clients push blobs (monolithic, small and large, and chunked, several at once so directory syncs are
 * shared between uploads), and the trace must show, for every blob, before the first byte of its 201 left the
 * server:
 * - the blob's data synced (fdatasync or fsync of the file that was then renamed, through the upload's data,
 *   into blobs/sha256/<xx>/<hex>/data) and its folder synced after that rename;
 * - the repository link likewise: its file synced before being renamed into `_layers/sha256/<hex>/link` (or
 *   before its folder, built beside with the link in it, was renamed into place), and that folder synced;
 * - every folder created on the way synced in its parent (a new folder is lost in a crash otherwise);
 * and, before each 202 to a chunk (PATCH), the upload's partial file synced after the chunk's last write, and
 * its folder after the partial file appeared in it; before the first, the session's startedat and every
 * folder above it, which a POST writes without a sync (its 202 promises no content). For manifests: the bytes, the revision link and both tag
 * links stored durably before the 201, a tag link placed only once the revision it names is durable, and a
 * link pushed again with the same bytes kept, its times advanced and synced (fsync) with its folder.
 * A crash test (crash.test.ts) kills the process, which leaves the page cache intact; this test is what shows
 * the bytes and names were on stable storage, not only in the kernel's cache.
 *
 * It runs twice: with `groupsync: off` every one of those syncs must be a sync of that file's or folder's own
 * descriptor. With the default (`auto`) a small file or folder may instead be covered by a filesystem sync:
 * a syncfs of the storage's filesystem that started after the change, then a sync of the same descriptor (on
 * ext4 without a journal syncfs flushes the disk's cache before its last metadata writes, and that second
 * sync's flush covers them), returned before the deadline; where the storage's filesystem is one stowage
 * trusts syncfs on (ext4, xfs, btrfs), the trace must show it used.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunksOf, imageManifest, pushBlobChunked, pushBlobInSession, pushBlobMonolithic, pushManifestTo, sha256 } from '../support/push-by-url.js';
import { deterministicBuffer, ensureDebianTools, freeLoopbackPort, PROJECT_ROOT, spawnServer, waitForRegistry, type ServerProcess } from '../support/index.js';

const STRACE = { package: 'strace', binary: 'strace' };
const REPOSITORY = 'durable/app';

interface Call {
  readonly name: string;
  readonly args: string;
  readonly result: string;
  /** index of the line where the call started, and of the one where it returned */
  readonly started: number;
  readonly returned: number;
}

/** Parses `strace -f -y -s N` output into calls, joining `<unfinished ...>` with its `<... resumed>`. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const pending = new Map<string, { name: string; args: string; started: number }>();
  text.split('\n').forEach((line, index) => {
    const match = /^(\d+)\s+(.*)$/.exec(line);
    if (!match) return;
    const [, pid, rest] = match as unknown as [string, string, string];
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished) {
      pending.set(pid, { name: unfinished[1]!, args: unfinished[2]!, started: index });
      return;
    }
    const resumed = /^<\.\.\. (\w+) resumed>(.*)\)\s+= (.*)$/.exec(rest);
    if (resumed) {
      const start = pending.get(pid);
      pending.delete(pid);
      if (start) calls.push({ name: start.name, args: start.args + resumed[2]!, result: resumed[3]!, started: start.started, returned: index });
      return;
    }
    const whole = /^(\w+)\((.*)\)\s+= (.*)$/.exec(rest);
    if (whole) calls.push({ name: whole[1]!, args: whole[2]!, result: whole[3]!, started: index, returned: index });
  });
  return calls;
}

/** The quoted paths of a call's arguments (`"..."`), and the paths strace -y prints for its descriptors (`<...>`). */
const quotedPaths = (call: Call): string[] => [...call.args.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
const descriptorPath = (call: Call): string | undefined => /^\d+<([^>]*)>/.exec(call.args)?.[1];
const succeeded = (call: Call): boolean => call.result.startsWith('0');
const isSync = (call: Call): boolean => call.name === 'fsync' || call.name === 'fdatasync';

/** A syncfs of the storage's filesystem and the sync of the same descriptor after it (the disk's cache flushed). */
interface FilesystemSync {
  readonly started: number;
  readonly flushed: number;
}

/** Checks what must have happened, completed, before `deadline` (the line where the 201 started). */
class Trace {
  /** every syncfs of a descriptor under the storage root that was followed by a successful sync of that descriptor */
  readonly filesystemSyncs: FilesystemSync[];

  constructor(
    private readonly calls: Call[],
    root: string,
  ) {
    this.filesystemSyncs = calls.flatMap((c) => {
      const on = descriptorPath(c);
      if (c.name !== 'syncfs' || !succeeded(c) || on === undefined || !(on === root || on.startsWith(`${root}/`))) return [];
      const flush = calls.find((f) => isSync(f) && succeeded(f) && f.started > c.returned && descriptorPath(f) === on);
      return flush ? [{ started: c.started, flushed: flush.returned }] : [];
    });
  }

  /** A filesystem sync that started after `after` and was flushed before `before`. */
  filesystemSyncBetween(after: number, before: number): FilesystemSync | undefined {
    return this.filesystemSyncs.find((s) => s.started > after && s.flushed < before);
  }

  /** the lines where each 201 naming `digest` started, in the order they were sent */
  responseLines(digest: string): number[] {
    return this.calls.filter((c) => /^(write|writev|sendmsg)$/.test(c.name) && c.args.includes('201 Created') && c.args.includes(digest)).map((c) => c.started);
  }

  responseLine(digest: string): number {
    const write = this.calls.find((c) => /^(write|writev|sendmsg)$/.test(c.name) && c.args.includes('201 Created') && c.args.includes(digest));
    expect(write, `the 201 for ${digest} is in the trace`).toBeDefined();
    return write!.started;
  }

  /**
   * The last successful rename before `deadline` that put `file` in place: a rename onto `file`, or onto a
   * folder above it (a folder built beside its place with the file in it, then renamed in).
   */
  renameOnto(file: string, deadline: number): Call {
    const renames = this.calls.filter((c) => /^rename/.test(c.name) && succeeded(c) && c.returned < deadline && (file === quotedPaths(c)[1] || file.startsWith(`${quotedPaths(c)[1]}/`)));
    expect(renames.length, `${file} was renamed into place before the answer`).toBeGreaterThan(0);
    return renames.reduce((last, call) => (call.returned > last.returned ? call : last));
  }

  /** A sync of the file `file` (by its descriptor) that returned before `before`. */
  expectFileSynced(file: string, before: number): void {
    const sync = this.calls.find((c) => isSync(c) && succeeded(c) && c.returned < before && descriptorPath(c) === file);
    const lastWrite = this.writesTo(file, before).at(-1);
    const filesystemSync = lastWrite && this.filesystemSyncBetween(lastWrite.returned, before);
    expect(sync ?? filesystemSync, `${file} was synced before it was renamed`).toBeDefined();
  }

  /** A sync of the folder `dir` that started after `after` and returned before `before`. */
  expectDirectorySynced(dir: string, after: number, before: number, why: string): void {
    expect(this.syncBetween(dir, after, before), `${dir} was synced (${why}) before the answer`).toBeDefined();
  }

  /** The 202 answers to chunks (PATCH): the upload each is for, the last byte it acknowledges, and its line. */
  acceptedChunks(): { upload: string; end: number; line: number }[] {
    return this.calls
      .filter((c) => /^(write|writev|sendmsg)$/.test(c.name) && c.args.includes('202 Accepted'))
      .map((c) => ({ upload: /Docker-Upload-UUID: ([A-Za-z0-9_-]+)/i.exec(c.args)?.[1] ?? '', end: Number(/Range: 0-(\d+)/i.exec(c.args)?.[1] ?? 0), line: c.started }))
      .filter((answer) => answer.upload !== '' && answer.end > 0);
  }

  /** The upload ids of the sessions POSTs started (202 with an empty Range), with the line of each answer. */
  startedSessions(): { upload: string; line: number }[] {
    return this.calls
      .filter((c) => /^(write|writev|sendmsg)$/.test(c.name) && c.args.includes('202 Accepted') && /Range: 0-0/i.test(c.args))
      .map((c) => ({ upload: /Docker-Upload-UUID: ([A-Za-z0-9_-]+)/i.exec(c.args)?.[1] ?? '', line: c.started }))
      .filter((answer) => answer.upload !== '');
  }

  /** Every successful sync of a file or folder whose path starts with `prefix`. */
  syncsUnder(prefix: string): Call[] {
    return this.calls.filter((c) => isSync(c) && succeeded(c) && (descriptorPath(c) ?? '').startsWith(prefix));
  }

  /** Writes to the file `file` (by its descriptor) that returned before `before`. */
  writesTo(file: string, before: number): Call[] {
    return this.calls.filter((c) => /^(write|pwrite64|writev|pwritev)$/.test(c.name) && /^[1-9]\d*/.test(c.result) && c.returned < before && descriptorPath(c) === file);
  }

  /**
   * A sync of the file or folder `target` (by its descriptor) that started after `after` and returned before
   * `before`, or a filesystem sync in that window.
   */
  syncBetween(target: string, after: number, before: number): Call | FilesystemSync | undefined {
    return this.calls.find((c) => isSync(c) && succeeded(c) && c.started > after && c.returned < before && descriptorPath(c) === target) ?? this.filesystemSyncBetween(after, before);
  }

  /**
   * `file` was stored between `after` and `before`, durably: renamed into place (see expectDurable), or, when
   * it held the same bytes already, its times advanced and then the file synced whole (fsync: a data sync may
   * leave the times out), and its folder synced. Answers the call that stored it (the rename, or the time update).
   */
  expectStoredDurably(file: string, after: number, before: number): Call {
    const touched = this.calls.find((c) => c.name === 'utimensat' && succeeded(c) && c.started > after && c.returned < before && descriptorPath(c) === file);
    if (!touched) {
      const placed = this.renameOnto(file, before);
      expect(placed.started, `${file} was renamed into place after ${after}`).toBeGreaterThan(after);
      this.expectDurable(file, before);
      return placed;
    }
    const synced = this.calls.find((c) => c.name === 'fsync' && succeeded(c) && c.started > touched.returned && c.returned < before && descriptorPath(c) === file);
    expect(synced ?? this.filesystemSyncBetween(touched.returned, before), `${file} was synced with its times before ${before}`).toBeDefined();
    this.expectDirectorySynced(path.dirname(file), after, before, `${path.basename(file)} was kept in it`);
    return touched;
  }

  /** Folders on the way to `file` that a successful mkdir created before `before`. */
  createdFolders(file: string, before: number): Call[] {
    return this.calls.filter((c) => c.name === 'mkdir' && succeeded(c) && c.returned < before && file.startsWith(`${quotedPaths(c)[0]}/`));
  }

  /**
   * `file` is durable before `deadline`: it reached its name by renames (each source synced before its
   * rename, the first one at least), its folder was synced after the last rename, and every folder created
   * for it was synced in its parent.
   */
  expectDurable(file: string, deadline: number): void {
    const last = this.renameOnto(file, deadline);
    const [from, onto] = quotedPaths(last) as [string, string];
    this.expectDirectorySynced(path.dirname(onto), last.returned, deadline, `after ${path.basename(onto)} was renamed into it`);
    let source = from;
    if (onto !== file) {
      // a staged folder renamed in: the file was written inside it, and the staged folders (which hold the
      // file and each other) were synced before the rename, or under their new names after it
      source = path.join(from, path.relative(onto, file));
      // what the staged folders hold was complete once the file in them was written
      const lastWrite = this.writesTo(source, last.started).at(-1);
      for (let folder = path.dirname(file), staged = path.dirname(source); ; folder = path.dirname(folder), staged = path.dirname(staged)) {
        const sync =
          this.calls.find(
            (c) => isSync(c) && succeeded(c) && c.returned < deadline && (descriptorPath(c) === staged ? c.returned < last.started : descriptorPath(c) === folder && c.started > last.returned),
          ) ??
          (lastWrite && this.filesystemSyncBetween(lastWrite.returned, last.started)) ??
          this.filesystemSyncBetween(last.returned, deadline);
        expect(sync, `${folder} (staged as ${staged}) was synced before the answer`).toBeDefined();
        if (folder === onto) break;
      }
    }
    // follow the renames back to the file that was written and synced
    let before = last.started;
    for (;;) {
      const earlier = this.calls.find((c) => /^rename/.test(c.name) && succeeded(c) && c.returned < before && quotedPaths(c)[1] === source);
      if (!earlier) break;
      source = quotedPaths(earlier)[0]!;
      before = earlier.started;
    }
    this.expectFileSynced(source, before);
    for (const mkdirCall of this.createdFolders(file, deadline)) {
      const created = quotedPaths(mkdirCall)[0]!;
      this.expectDirectorySynced(path.dirname(created), mkdirCall.returned, deadline, `it holds the new folder ${path.basename(created)}`);
    }
  }
}

interface Pushed {
  readonly digest: string;
  readonly size: number;
}

/** `content`, pushed by `push` (a push of push-by-url.ts, answering its status), which must be acknowledged with a 201 */
async function acknowledged(push: Promise<number>, content: Buffer): Promise<Pushed> {
  expect(await push).toBe(201);
  return { digest: sha256(content), size: content.length };
}

/** POST, then the bytes in the closing PUT */
const pushMonolithic = (url: string, content: Buffer): Promise<Pushed> => acknowledged(pushBlobInSession(url, REPOSITORY, content), content);
/** One request: POST ?digest= with the blob as body (no upload session for a small blob). */
const pushInOneRequest = (url: string, content: Buffer): Promise<Pushed> => acknowledged(pushBlobMonolithic(url, REPOSITORY, content), content);
const pushChunked = (url: string, content: Buffer, chunkSize: number): Promise<Pushed> => acknowledged(pushBlobChunked(url, REPOSITORY, chunksOf(content, chunkSize)), content);

async function pushManifest(url: string, tag: string, content: Buffer): Promise<void> {
  expect(await pushManifestTo(url, REPOSITORY, tag, content)).toBe(201);
}

/** The process strace started (the server), from /proc: strace is its parent. */
function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children ? Number(children.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** statfs magic numbers of ext4, xfs and btrfs: where stowage's `groupsync: auto` must use syncfs */
const SYNCFS_TRUSTED = new Set([0xef53, 0x58465342, 0x9123683e]);

describe.each(['off', 'auto'] as const)('pushes on the filesystem driver with groupsync %s, traced with strace', (groupsync) => {
  let workdir: string;
  let tracer: ServerProcess;
  let url: string;
  let root: string;
  const pushed: Pushed[] = [];
  let manifest: Buffer;
  const manifestPushes = ['v1', 'v2', 'v1'];
  /** pushed whole, each in one body of at most 64 KiB: stored with no session data (src/registry/small-body.ts) */
  const small: Pushed[] = [];
  let trace: Trace;

  beforeAll(async () => {
    ensureDebianTools(STRACE);
    // real path: strace prints descriptors by the kernel's path, without symlinks
    workdir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'stowage-durability-')));
    root = path.join(workdir, 'storage');
    await mkdir(root);
    const port = await freeLoopbackPort();
    const config = path.join(workdir, 'stowage.config.yaml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(root)}`,
        ...(groupsync === 'off' ? ['    groupsync: off'] : []),
        '',
      ].join('\n'),
    );
    const traceFile = path.join(workdir, 'trace.txt');
    const traced = ['fsync', 'fdatasync', 'syncfs', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'write', 'writev', 'pwrite64', 'pwritev', 'sendmsg', 'utimensat'].join(',');
    tracer = spawnServer(
      'strace',
      ['-f', '-y', '-qq', '-s', '4096', '-e', `trace=${traced}`, '-e', 'signal=none', '-o', traceFile, process.execPath, path.join(PROJECT_ROOT, 'bin', 'stowage.js'), 'serve', '--config', config],
      { PATH: process.env.PATH, HOME: workdir, NODE_ENV: 'production' },
      PROJECT_ROOT,
    );
    url = `http://127.0.0.1:${port}`;
    try {
      await waitForRegistry(url, 60_000, () => tracer.isRunning());
      // several at once, so uploads share folder syncs (a repository's _layers/sha256, _uploads)
      const smallContents = Array.from({ length: 12 }, (_, i) => deterministicBuffer(`durability-small-${i}`, i === 11 ? 64 * 1024 : 4096));
      small.push(
        ...(await Promise.all([
          ...smallContents.slice(0, 8).map((content) => pushMonolithic(url, content)),
          ...smallContents.slice(8).map((content) => pushInOneRequest(url, content)),
        ])),
      );
      pushed.push(...small);
      const [large, chunked] = await Promise.all([
        pushMonolithic(url, deterministicBuffer('durability-large', 3 * 1024 * 1024 + 17)),
        pushChunked(url, deterministicBuffer('durability-chunked', 2 * 1024 * 1024 + 5), 1024 * 1024),
      ]);
      pushed.push(large, chunked);
      // a manifest under a new tag (its bytes, revision and tag folder all new), the same manifest under a second
      // new tag (revision link rewritten, bytes already there), then the first tag again (both tag links rewritten
      // in their folders); one after the other, so the n-th 201 naming the manifest answers the n-th push
      manifest = imageManifest(smallContents[0]!, [smallContents[1]!]);
      for (const tag of manifestPushes) await pushManifest(url, tag, manifest);
    } finally {
      // strace only detaches on SIGTERM: stop the server itself, and strace ends with it
      const server = childOf(tracer.pid);
      if (server !== undefined) process.kill(server, 'SIGTERM');
      await tracer.close(10_000);
    }
    trace = new Trace(parseTrace(await readFile(traceFile, 'utf8')), root);
  }, 180_000);

  afterAll(async () => {
    if (tracer?.isRunning()) {
      const server = childOf(tracer.pid);
      if (server !== undefined) process.kill(server, 'SIGKILL');
      await tracer.close();
    }
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it(groupsync === 'off' ? 'never syncs the whole filesystem' : 'syncs small files and folders with syncfs where the filesystem is ext4, xfs or btrfs', () => {
    const trusted = SYNCFS_TRUSTED.has(statfsSync(root).type);
    expect(trace.filesystemSyncs.length > 0, `filesystem syncs with groupsync ${groupsync} on filesystem type 0x${statfsSync(root).type.toString(16)}`).toBe(groupsync === 'auto' && trusted);
  });

  it('syncs every blob, its folder and the folders made for it before answering 201', () => {
    expect(pushed).toHaveLength(14);
    for (const blob of pushed) {
      const hex = blob.digest.slice('sha256:'.length);
      const deadline = trace.responseLine(blob.digest);
      trace.expectDurable(path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), deadline);
    }
  });

  it("syncs every repository link, its folder and the folders made for it before answering 201", () => {
    for (const blob of pushed) {
      const hex = blob.digest.slice('sha256:'.length);
      const deadline = trace.responseLine(blob.digest);
      trace.expectDurable(path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_layers/sha256', hex, 'link'), deadline);
    }
  });

  it('syncs every chunk before answering 202 to it, and the folder of the partial file the first chunk made', () => {
    const accepted = trace.acceptedChunks();
    // the chunked push: 2 MiB + 5 bytes in 1 MiB chunks
    expect(accepted.map((answer) => answer.end)).toEqual([1024 * 1024 - 1, 2 * 1024 * 1024 - 1, 2 * 1024 * 1024 + 4]);
    for (const { upload, end, line } of accepted) {
      const folder = path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_uploads', upload);
      const partial = path.join(folder, 'data~partial');
      const writes = trace.writesTo(partial, line);
      expect(writes.length, `chunk up to byte ${end} was written to ${partial}`).toBeGreaterThan(0);
      const last = writes.at(-1)!;
      expect(trace.syncBetween(partial, last.returned, line), `${partial} was synced after its last write and before the 202 for byte ${end}`).toBeDefined();
      expect(trace.syncBetween(folder, writes[0]!.returned, line), `${folder} was synced after the partial file appeared in it, before the 202 for byte ${end}`).toBeDefined();
    }
  });

  it('syncs nothing of a session a POST started until a chunk is written to it (its 202 promises no content)', () => {
    const uploads = path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_uploads');
    const sessions = trace.startedSessions();
    // 8 small POST-then-PUT pushes, the 3 MiB one and the chunked one
    expect(sessions).toHaveLength(10);
    const received = sessions.filter(({ upload }) => trace.writesTo(path.join(uploads, upload, 'data~partial'), Number.MAX_SAFE_INTEGER).length > 0);
    expect(received).toHaveLength(2);
    for (const { upload } of sessions.filter((session) => !received.includes(session))) {
      // the session's folder, its startedat, and the folder staged for them (`<id>~<random>.tmp`)
      expect(trace.syncsUnder(path.join(uploads, upload)).map((c) => descriptorPath(c)), `syncs of session ${upload}`).toEqual([]);
    }
  });

  it("syncs a session's startedat, its folder and every folder above it before the 202 of its first chunk", () => {
    const [first] = trace.acceptedChunks();
    expect(first, 'the chunked push had a chunk accepted').toBeDefined();
    const folder = path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_uploads', first!.upload);
    const startedAt = path.join(folder, 'startedat');
    const placed = trace.renameOnto(startedAt, first!.line);
    expect(trace.syncBetween(startedAt, placed.returned, first!.line), `${startedAt} was synced before the first 202`).toBeDefined();
    for (let dir = folder; ; dir = path.dirname(dir)) {
      expect(trace.syncBetween(dir, placed.returned, first!.line), `${dir} was synced after the session was put in place, before the first 202`).toBeDefined();
      if (dir === root) break;
    }
  });

  it('writes a small blob beside its place in the blob store and renames it in, never through an upload session', () => {
    expect(small).toHaveLength(12);
    for (const blob of small) {
      const hex = blob.digest.slice('sha256:'.length);
      const file = path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
      const source = quotedPaths(trace.renameOnto(file, trace.responseLine(blob.digest)))[0]!;
      // the file itself, or the outermost folder it needed, built beside its place (`blobs~<random>.tmp` on a fresh storage)
      expect(source.startsWith(path.join(root, 'docker/registry/v2/blobs')), `${source} is in the blob store`).toBe(true);
      expect(source).not.toContain('_uploads');
    }
  });

  it('syncs a manifest\'s bytes, its revision link and its tag links, with the folders made for them, before answering 201', () => {
    const digest = sha256(manifest);
    const hex = digest.slice('sha256:'.length);
    const deadlines = trace.responseLines(digest);
    expect(deadlines).toHaveLength(manifestPushes.length);
    const repository = path.join(root, 'docker/registry/v2/repositories', REPOSITORY);
    const revision = path.join(repository, '_manifests/revisions/sha256', hex, 'link');
    for (const [i, tag] of manifestPushes.entries()) {
      const deadline = deadlines[i]!;
      // each push stored its links itself, after the answer before it
      const after = deadlines[i - 1] ?? -1;
      trace.expectDurable(path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), deadline);
      const revisionStored = trace.expectStoredDurably(revision, after, deadline);
      const current = trace.expectStoredDurably(path.join(repository, '_manifests/tags', tag, 'current/link'), after, deadline);
      trace.expectStoredDurably(path.join(repository, '_manifests/tags', tag, 'index/sha256', hex, 'link'), after, deadline);
      // a tag link that appeared did so with its revision (one folder renamed in) or once the revision was on stable storage
      if (current.name.startsWith('rename') && current !== revisionStored) trace.expectStoredDurably(revision, after, current.started);
      // and a revision link that appeared, once the manifest's bytes were on stable storage
      if (revisionStored.name.startsWith('rename')) trace.expectDurable(path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), revisionStored.started);
    }
  });

  it('keeps a link pushed again with the same bytes, advancing its times durably instead of renaming a new file over it', () => {
    const digest = sha256(manifest);
    const hex = digest.slice('sha256:'.length);
    const deadlines = trace.responseLines(digest);
    const repository = path.join(root, 'docker/registry/v2/repositories', REPOSITORY);
    // pushes 2 and 3 find the revision link there; push 3 (v1 again) finds both of v1's tag links too
    const unchanged: [number, string][] = [
      [1, path.join(repository, '_manifests/revisions/sha256', hex, 'link')],
      [2, path.join(repository, '_manifests/revisions/sha256', hex, 'link')],
      [2, path.join(repository, '_manifests/tags/v1/current/link')],
      [2, path.join(repository, '_manifests/tags/v1/index/sha256', hex, 'link')],
    ];
    for (const [i, link] of unchanged) {
      const stored = trace.expectStoredDurably(link, deadlines[i - 1]!, deadlines[i]!);
      expect(stored.name, `push ${i + 1} advanced the times of ${link}`).toBe('utimensat');
      expect(trace.renameOnto(link, deadlines[i]!).returned, `push ${i + 1} renamed nothing onto ${link}`).toBeLessThan(deadlines[i - 1]!);
    }
  });

  it('stores what it synced: every pushed blob reads back whole', async () => {
    for (const blob of pushed) {
      const hex = blob.digest.slice('sha256:'.length);
      const bytes = await readFile(path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'));
      expect(bytes.length).toBe(blob.size);
      expect(sha256(bytes)).toBe(blob.digest);
    }
  });
});
