import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import { EmulatorCluster } from './emulator.js';
import { encodeClaimRecord, newClaimRecord } from '../../packages/backend-kit/src/claim-lease.js';
import { IoFlags } from '../../plugins/elliptics/src/protocol/constants.js';
import { ellipticsDriver, quietLogger } from './context.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const readAll = async (stream: NodeJS.ReadableStream): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
};

describe('the Elliptics driver on three emulated nodes serving groups 1, 2 and 3', () => {
  let cluster: EmulatorCluster;
  let driver: StorageDriver;

  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1, 2, 3] }, { groups: [1, 2, 3] }, { groups: [1, 2, 3] }], { idsPerBackend: 4 }).start();
    // Only the first node is configured: the others are found through ROUTE_LIST.
    driver = await ellipticsDriver({ nodes: [cluster.remotes[0]!], groups: [1, 2, 3], chunksize: 4096 });
  });
  afterAll(async () => {
    await driver?.close?.();
    await cluster?.stop();
  });

  it('stores content in every group, routed to the node owning each key', async () => {
    for (let i = 0; i < 30; i++) await driver.putContent(`/spread/f${i}`, Buffer.from(`content ${i}`));
    for (const node of cluster.nodes) expect(node.served.get('WRITE') ?? 0).toBeGreaterThan(0);
    const id = keyId('/spread/f7', 'DOCKER');
    for (const group of [1, 2, 3]) expect(cluster.stored(group, id)?.toString()).toBe('content 7');
    expect(text(await driver.getContent('/spread/f7'))).toBe('content 7');
  });

  it('stores an empty object as zero bytes, not as a placeholder text', async () => {
    await driver.putContent('/empty/file', new Uint8Array());
    expect(await driver.getContent('/empty/file')).toHaveLength(0);
    expect((await driver.stat('/empty/file')).size).toBe(0);
    expect(cluster.stored(1, keyId('/empty/file', 'DOCKER'))).toEqual(Buffer.alloc(0));
    expect(await driver.list('/empty')).toEqual(['/empty/file']);
  });

  it('streams objects larger than a chunk in both directions and reads from an offset', async () => {
    const data = randomBytes(4096 * 5 + 123);
    await driver.putContent('/big/blob', data);
    expect(Buffer.from(await driver.getContent('/big/blob')).equals(data)).toBe(true);
    expect((await readAll(await driver.reader('/big/blob', 5000))).equals(data.subarray(5000))).toBe(true);
    expect(await readAll(await driver.reader('/big/blob', data.length))).toHaveLength(0);
    await expect(driver.reader('/big/blob', data.length + 1)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
  });

  it('writes nothing for writers closed unwritten: appending to committed content stages it only at the first write', async () => {
    const writes = (): number => cluster.nodes.reduce((sum, node) => sum + (node.served.get('WRITE') ?? 0) + (node.served.get('DEL') ?? 0), 0);
    const data = randomBytes(4096 * 2 + 10);
    await driver.putContent('/idle/committed', data);
    const staged = await driver.writer('/idle/staged', false);
    await staged.write(Buffer.from('staged'));
    await staged.close();
    const before = writes();
    for (const [path, append] of [['/idle/committed', true], ['/idle/staged', false], ['/idle/staged', true], ['/idle/fresh', false]] as const) {
      const idle = await driver.writer(path, append);
      await idle.close();
    }
    expect(writes(), 'WRITE and DEL commands sent for idle writers').toBe(before);
    expect(await driver.uploadSize('/idle/staged')).toBe(6);
    const appending = await driver.writer('/idle/committed', true);
    expect(appending.size).toBe(data.length);
    await appending.write(Buffer.from('more'));
    await appending.commit();
    await appending.close();
    expect(Buffer.from(await driver.getContent('/idle/committed')).equals(Buffer.concat([data, Buffer.from('more')]))).toBe(true);
  });

  it('ends a reader and stops a writer between chunks when the signal aborts', async () => {
    await driver.putContent('/abort/blob', randomBytes(4096 * 20));
    const client = new AbortController();
    const stream = await driver.reader('/abort/blob', 0, client.signal);
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    await new Promise((resolve) => stream.once('readable', resolve));
    client.abort();
    expect((await failed).name).toBe('AbortError');
    expect(stream.destroyed).toBe(true);

    const writer = await driver.writer('/abort/upload', false);
    await writer.write(Buffer.alloc(4096, 1), client.signal).then(
      () => expect.fail('a write with an aborted signal resolved'),
      (err: Error) => expect(err.name).toBe('AbortError'),
    );
    await writer.close();
    await expect(driver.uploadSize('/abort/upload')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('abandons a LOOKUP or READ still waiting for its reply when the signal aborts, and serves the next call', async () => {
    const data = randomBytes(4096 * 3);
    await driver.putContent('/abort/pending', data);
    const unanswered = (): number => cluster.nodes.reduce((sum, node) => sum + node.unanswered, 0);
    const untilStalledRequest = async (before: number): Promise<void> => {
      while (unanswered() === before) await new Promise((resolve) => setImmediate(resolve));
    };
    try {
      // getContent: its LOOKUPs hang on stalled nodes; the abort ends the call with the abort, not a timeout
      let before = unanswered();
      for (const node of cluster.nodes) node.stalled = true;
      const looking = new AbortController();
      const content = driver.getContent('/abort/pending', looking.signal);
      await untilStalledRequest(before);
      looking.abort();
      await expect(content).rejects.toMatchObject({ name: 'AbortError' });

      // LOOKUPs answered, the READ of the content hangs: the abort ends it too
      for (const node of cluster.nodes) {
        node.stalled = false;
        node.stalledCommands.add('READ');
      }
      before = unanswered();
      const reading = new AbortController();
      const read = driver.getContent('/abort/pending', reading.signal);
      await untilStalledRequest(before);
      reading.abort();
      await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      for (const node of cluster.nodes) {
        node.stalled = false;
        node.stalledCommands.clear();
      }
    }
    // the abandoned transactions do not stand in the way of the next calls on the same connections
    expect(Buffer.from(await driver.getContent('/abort/pending')).equals(data)).toBe(true);
    expect((await readAll(await driver.reader('/abort/pending', 4096))).equals(data.subarray(4096))).toBe(true);
  });

  it('keeps an upload invisible until commit and resumes it with a new writer', async () => {
    const first = await driver.writer('/up/data', false);
    await first.write(Buffer.from('a'.repeat(5000)));
    await first.close();
    await expect(driver.stat('/up/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    const second = await driver.writer('/up/data', true);
    expect(second.size).toBe(5000);
    await second.write(Buffer.from('b'.repeat(10)));
    await second.commit();
    await second.close();
    const stored = text(await driver.getContent('/up/data'));
    expect(stored).toBe('a'.repeat(5000) + 'b'.repeat(10));
  });

  it('leaves a writer\'s chunks out of the upload until it closes, and refuses another writer while the first one lives', async () => {
    const first = await driver.writer('/claimed/data', false);
    await first.write(Buffer.from('a'.repeat(4096)));
    await first.close();
    const holder = await driver.writer('/claimed/data', true);
    await holder.write(Buffer.from('b'.repeat(8192)));
    expect(await driver.uploadSize('/claimed/data'), 'chunks of a writer not closed are not acknowledged').toBe(4096);
    const other = await driver.writer('/claimed/data', true);
    expect(other.size).toBe(4096);
    await expect(other.write(Buffer.from('c'.repeat(4096)))).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await holder.close();
    expect(await driver.uploadSize('/claimed/data')).toBe(4096 + 8192);
  });

  it('takes over, once, the claim of a writer whose process was killed, leaving its chunks out', async () => {
    const first = await driver.writer('/orphan/data', false);
    await first.write(Buffer.from('a'.repeat(4096)));
    await first.close();
    // a writer of a process killed after staging two chunks of its PATCH
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', [
      `const { createDriver } = await import(${JSON.stringify(new URL('../../plugins/elliptics/src/index.ts', import.meta.url).pathname)});`,
      `const { driverErrors } = await import(${JSON.stringify(new URL('../../src/storage/errors.ts', import.meta.url).pathname)});`,
      `const logger = { debug() {}, info() {}, warn() {}, error() {} };`,
      `const driver = await createDriver({ nodes: ${JSON.stringify([cluster.remotes[0]])}, groups: [1, 2, 3], chunksize: 4096 }, { logger, errors: driverErrors('elliptics'), baseDir: process.cwd() });`,
      `const writer = await driver.writer('/orphan/data', true);`,
      `await writer.write(Buffer.alloc(8192, 98));`,
      `console.log('staged'); setInterval(() => {}, 1000);`,
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString().trim()).toBe('staged');
    const live = await driver.writer('/orphan/data', true);
    await expect(live.write(Buffer.from('x'.repeat(4096))), 'refused while the holder lives').rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    expect(await driver.uploadSize('/orphan/data')).toBe(4096);
    const [one, two] = [await driver.writer('/orphan/data', true), await driver.writer('/orphan/data', true)];
    await one.write(Buffer.from('c'.repeat(4096)));
    await expect(two.write(Buffer.from('d'.repeat(4096))), 'one writer takes the claim over').rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await one.commit();
    expect(text(await driver.getContent('/orphan/data'))).toBe('a'.repeat(4096) + 'c'.repeat(4096));
  }, 60_000);

  it('lists direct children, deletes recursively and prunes emptied directories', async () => {
    await driver.putContent('/tree/a/one', Buffer.from('1'));
    await driver.putContent('/tree/a/two', Buffer.from('2'));
    await driver.putContent('/tree/ab/three', Buffer.from('3'));
    await driver.putContent('/tree/b/c/d', Buffer.from('4'));
    expect((await driver.list('/tree')).sort()).toEqual(['/tree/a', '/tree/ab', '/tree/b']);
    expect((await driver.stat('/tree/b/c')).isDir).toBe(true);
    await driver.delete('/tree/a');
    await expect(driver.getContent('/tree/a/one')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(text(await driver.getContent('/tree/ab/three'))).toBe('3');
    await driver.delete('/tree/b/c/d');
    expect((await driver.list('/tree')).sort()).toEqual(['/tree/ab']);
    await expect(driver.list('/tree/b')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(driver.delete('/tree/nothing')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('moves an object, overwriting the destination, and leaves nothing at the source', async () => {
    await driver.putContent('/mv/src', Buffer.from('moving'));
    await driver.putContent('/mv/dst', Buffer.from('old'));
    await driver.move('/mv/src', '/mv/dst');
    expect(text(await driver.getContent('/mv/dst'))).toBe('moving');
    await expect(driver.stat('/mv/src')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await driver.list('/mv')).toEqual(['/mv/dst']);
  });

  it('reconnects and carries on when a node drops its connections', async () => {
    await driver.putContent('/drop/x', Buffer.from('before'));
    for (const node of cluster.nodes) node.dropConnections();
    expect(text(await driver.getContent('/drop/x'))).toBe('before');
    await driver.putContent('/drop/x', Buffer.from('after'));
    expect(text(await driver.getContent('/drop/x'))).toBe('after');
  });
});

describe('replication across groups on separate emulated nodes', () => {
  let cluster: EmulatorCluster;
  let driver: StorageDriver;

  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1] }, { groups: [2] }, { groups: [3] }]).start();
    driver = await ellipticsDriver({ nodes: cluster.remotes.join(' '), groups: '[1, 2,3]', waittimeout: 1 });
  });
  afterAll(async () => {
    await driver?.close?.();
    await cluster?.stop();
  });

  it('reads the newest replica when the groups disagree', async () => {
    const client = new EllipticsClient({ nodes: cluster.nodes.map((n) => n.address), groups: [1, 2, 3], waitTimeoutMs: 2000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
    try {
      const id = keyId('/replicas/obj', 'DOCKER');
      await client.write(1, id, { ioFlags: 0, offset: 0, num: 0, tsec: 100, tnsec: 0 }, Buffer.from('old'));
      await client.write(2, id, { ioFlags: 0, offset: 0, num: 0, tsec: 300, tnsec: 0 }, Buffer.from('newest'));
      await client.write(3, id, { ioFlags: 0, offset: 0, num: 0, tsec: 200, tnsec: 0 }, Buffer.from('middle'));
      expect(text(await driver.getContent('/replicas/obj'))).toBe('newest');
    } finally {
      await client.close();
    }
  });

  it('reads from another replica of the same version when the newest one fails', async () => {
    const content = Buffer.from('x'.repeat(10_000));
    await driver.putContent('/failover/obj', content);
    cluster.nodes[0]!.failing.add('READ');
    try {
      expect(Buffer.from(await driver.getContent('/failover/obj')).equals(content)).toBe(true);
    } finally {
      cluster.nodes[0]!.failing.delete('READ');
    }
    expect(cluster.nodes[1]!.served.get('READ') ?? 0).toBeGreaterThan(0);
  });

  it('writes with one group of three down (quorum 2) and refuses with two down', async () => {
    cluster.nodes[2]!.stalled = true;
    try {
      await driver.putContent('/quorum/ok', Buffer.from('two of three'));
      expect(cluster.nodes[0]!.stored(1, keyId('/quorum/ok', 'DOCKER'))?.toString()).toBe('two of three');
      expect(text(await driver.getContent('/quorum/ok'))).toBe('two of three');
      await cluster.nodes[1]!.stop();
      await expect(driver.putContent('/quorum/no', Buffer.from('one of three'))).rejects.toThrow(/1 of the groups succeeded, 2 needed/);
    } finally {
      cluster.nodes[2]!.stalled = false;
      await cluster.nodes[1]!.start();
    }
    await driver.putContent('/quorum/back', Buffer.from('all three'));
    for (const [i, g] of [[0, 1], [1, 2], [2, 3]] as const) {
      expect(cluster.nodes[i]!.stored(g, keyId('/quorum/back', 'DOCKER'))?.toString()).toBe('all three');
    }
  }, 30_000);

  it('times out a request after waittimeout seconds when a node hangs', async () => {
    const client = new EllipticsClient({ nodes: [cluster.nodes[0]!.address], groups: [1], waitTimeoutMs: 300, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
    cluster.nodes[0]!.stalled = true;
    try {
      const started = Date.now();
      await expect(client.lookup(1, keyId('/x', 'DOCKER'))).rejects.toThrow(/timed out after 300 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      cluster.nodes[0]!.stalled = false;
      await client.close();
    }
  });
});

describe('an upload journal whose groups disagree after a writer died between them', () => {
  it('is evened out by the next writer, which then appends to both groups', async () => {
    const cluster = await new EmulatorCluster([{ groups: [1] }, { groups: [2] }]).start();
    const driver = await ellipticsDriver({ nodes: cluster.remotes.join(' '), groups: '[1, 2]', chunksize: 4096 });
    const client = new EllipticsClient({ nodes: cluster.nodes.map((n) => n.address), groups: [1, 2], waitTimeoutMs: 2000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
    try {
      const first = await driver.writer('/diverged/data', false);
      await first.write(Buffer.from('a'.repeat(4096)));
      await first.close();
      // the claim line of a writer whose process exited, appended to group 1 only: its process was killed
      // before its append reached group 2
      const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      await once(gone, 'exit');
      const claim = Buffer.from(`claim ${encodeClaimRecord({ ...newClaimRecord(), pid: gone.pid! }).toString('utf8')}\n`, 'utf8');
      const id = keyId('upload:/diverged/data', 'DOCKER');
      const [one, two] = [await client.read(1, id, 0, 0), await client.read(2, id, 0, 0)];
      expect(one.data.equals(two.data), 'both groups hold the same journal before').toBe(true);
      const parent = createHash('sha512').update(one.data).digest();
      await client.write(1, id, { ioFlags: IoFlags.APPEND | IoFlags.CAS, offset: 0, num: 0, parent, tsec: Math.floor(Date.now() / 1000) + 1, tnsec: 0 }, claim);

      expect(await driver.uploadSize('/diverged/data')).toBe(4096);
      const resumed = await driver.writer('/diverged/data', true);
      await resumed.write(Buffer.from('c'.repeat(4096)));
      await resumed.commit();
      expect(text(await driver.getContent('/diverged/data'))).toBe('a'.repeat(4096) + 'c'.repeat(4096));
    } finally {
      await client.close();
      await driver.close?.();
      await cluster.stop();
    }
  }, 60_000);
});

describe('connecting to Elliptics', () => {
  it('fails with the remotes named when no node answers', async () => {
    const cluster = await new EmulatorCluster([{ groups: [1] }]).start();
    const remote = cluster.remotes[0]!;
    await cluster.stop();
    await expect(ellipticsDriver({ nodes: [remote], waittimeout: 1 })).rejects.toThrow(new RegExp(`no route to any of the groups 1 .*${remote}`));
  });

  it('connects through the remotes that answer when another name does not resolve', async () => {
    const cluster = await new EmulatorCluster([{ groups: [1] }]).start();
    try {
      const driver = await ellipticsDriver({ nodes: ['no-such-host.invalid:1025:2', cluster.remotes[0]!], waittimeout: 2 });
      await driver.putContent('/resolved', Buffer.from('ok'));
      expect(Buffer.from(await driver.getContent('/resolved')).toString()).toBe('ok');
      await driver.close?.();
      await expect(ellipticsDriver({ nodes: ['no-such-host.invalid:1025:2'], waittimeout: 2 })).rejects.toThrow(/cannot resolve no-such-host\.invalid:1025:2/);
    } finally {
      await cluster.stop();
    }
  });

  it('fails when the configured groups are served by no node', async () => {
    const cluster = await new EmulatorCluster([{ groups: [1] }]).start();
    try {
      await expect(ellipticsDriver({ nodes: cluster.remotes, groups: [7, 8] })).rejects.toThrow(/no route to any of the groups 7, 8/);
    } finally {
      await cluster.stop();
    }
  });
});
