import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDR_SIZE, CMD_HEADER_SIZE, Command, FILE_INFO_SIZE, IO_ATTR_SIZE, Status } from '../../plugins/elliptics/src/protocol/constants.js';
import type { Frame } from '../../plugins/elliptics/src/protocol/framer.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { handshakeRequest, lookupRequest, routeListRequest, writeRequest } from '../../plugins/elliptics/src/protocol/messages.js';
import { decodeCmdHeader, decodeRoutePayload, encodeCmdHeader, formatAddress } from '../../plugins/elliptics/src/protocol/structs.js';
import { EmulatorCluster, EmulatorNode } from './emulator.js';
import { type CapturedFrame, type CapturedRecord, bigObject, frameBytes, transcripts } from './fixtures.js';
import { RawConnection } from './wire.js';

/**
 * Zeroes the fields the capture's README lists as free (the server's disk layout, clock and random route id)
 * plus the port of the node's own address (the emulator listens on a free port, the capture on 1025).
 */
function maskFree(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  const h = decodeCmdHeader(out);
  const p = CMD_HEADER_SIZE;
  const zero = (from: number, to: number): void => {
    out.fill(0, Math.min(from, out.length), Math.min(to, out.length));
  };
  if (h.status < 0 || h.size === 0) return out;
  switch (h.cmd) {
    case Command.REVERSE_LOOKUP:
      zero(p + 8 + 2, p + 8 + 4);
      zero(out.length - 64, out.length);
      break;
    case Command.ROUTE_LIST:
      zero(p + 8 + 2, p + 8 + 4);
      break;
    case Command.WRITE:
    case Command.LOOKUP:
      zero(p + 2, p + 4);
      zero(p + ADDR_SIZE, p + ADDR_SIZE + 4); // flen
      zero(p + ADDR_SIZE + 88, p + ADDR_SIZE + 96); // blob offset
      zero(p + ADDR_SIZE + FILE_INFO_SIZE, out.length); // blob path
      break;
    case Command.BACKEND_STATUS:
      zero(p + 4 + 12, p + 4 + 28); // last_start
      break;
  }
  return out;
}

const hexOf = (frame: Frame): Buffer =>
  Buffer.concat([encodeCmdHeader({ ...frame.header }), frame.payload]);

const isIndexRecord = (r: CapturedRecord): boolean =>
  r.request.some((f) => f.cmd.cmd === Command.INDEXES_UPDATE || f.cmd.cmd === Command.INDEXES_FIND) || r.name.startsWith('indexes_read_');

describe('the Elliptics emulator replays the captured 2.26 server', () => {
  let node: EmulatorNode;
  let big: Buffer;

  beforeAll(async () => {
    node = new EmulatorNode({ groups: [1] });
    await node.start();
    big = await bigObject();
  });
  afterAll(async () => {
    await node.stop();
  });

  /** The request as it went on the wire; the 25 MiB WRITE's data was truncated in the capture and is rebuilt. */
  function requestBytes(frame: CapturedFrame): Buffer {
    const bytes = frameBytes(frame);
    if (frame.hex_complete) return bytes;
    expect(frame.cmd.cmd).toBe(Command.WRITE);
    const head = bytes.subarray(0, CMD_HEADER_SIZE + IO_ATTR_SIZE);
    return Buffer.concat([head, big]);
  }

  function compareReply(record: CapturedRecord, captured: CapturedFrame, got: Frame): void {
    const ours = hexOf(got);
    expect(ours.length, `${record.name}: wire length`).toBe(captured.wire_length);
    if (captured.hex_complete) {
      let expected = maskFree(frameBytes(captured));
      let actual = maskFree(ours);
      if (record.name === 'read_after_offset_past_end' || record.name === 'concurrent_two_small' && got.header.trans === 9101) {
        // The gap between the old end (16) and the offset-20 write holds leftover disk bytes on a real server.
        const gap = CMD_HEADER_SIZE + IO_ATTR_SIZE + 16;
        expected = Buffer.from(expected).fill(0, gap, gap + 4);
        actual = Buffer.from(actual).fill(0, gap, gap + 4);
      }
      expect(actual.toString('hex'), `${record.name} reply trans ${captured.cmd.trans}`).toBe(expected.toString('hex'));
    } else {
      const n = captured.hex.length / 2;
      expect(ours.subarray(0, n).toString('hex'), `${record.name}: head of the big reply`).toBe(captured.hex);
      const data = ours.subarray(CMD_HEADER_SIZE + IO_ATTR_SIZE);
      expect(createHash('sha256').update(data).digest('hex')).toBe(captured.payload!.data.data_sha256);
    }
  }

  it('answers every captured request (except secondary indexes) exactly as the real server did', async () => {
    const connections = new Map<string, RawConnection>();
    let replayed = 0;
    try {
      for (const record of transcripts.records) {
        if (isIndexRecord(record)) continue;
        let conn = connections.get(record.connection);
        if (!conn) {
          conn = await RawConnection.open(node.address.port);
          connections.set(record.connection, conn);
        }
        for (const req of record.request) conn.send(requestBytes(req));
        const got = await conn.take(record.replies.length, 20_000);
        expect(got.length, `${record.name}: number of reply frames`).toBe(record.replies.length);
        if (record.replies.length === 0 && record.request[0]!.cmd.cmd === Command.REVERSE_LOOKUP) {
          await conn.take(1, 2000);
          expect(conn.closed, `${record.name}: the server hangs up`).toBe(true);
        }
        // Concurrent replies may arrive in any order: match them by trans.
        for (const captured of record.replies) {
          const mine = got.find((f) => f.header.trans === captured.cmd.trans && f.header.flags === captured.cmd.flags);
          expect(mine, `${record.name}: a reply for trans ${captured.cmd.trans}`).toBeDefined();
          compareReply(record, captured, mine!);
        }
        replayed++;
      }
      // A DEL without NEED_ACK must have produced nothing: the frames above were all accounted for.
      for (const conn of connections.values()) expect(await conn.take(1, 100)).toEqual([]);
    } finally {
      for (const conn of connections.values()) conn.close();
    }
    expect(replayed).toBeGreaterThan(70);
  }, 120_000);

  it('answers secondary-index commands with EOPNOTSUPP, as Elliptics 3.0 does', async () => {
    const conn = await RawConnection.open(node.address.port);
    try {
      const update = transcripts.records.find((r) => r.name === 'indexes_update')!;
      conn.send(frameBytes(update.request[0]!));
      const [reply] = await conn.take(1);
      expect(reply!.header.status).toBe(Status.EOPNOTSUPP);
    } finally {
      conn.close();
    }
  });
});

describe('an emulated Elliptics cluster', () => {
  let cluster: EmulatorCluster;
  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }, { groups: [1, 2] }]).start();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const frame = (req: { header: Parameters<typeof encodeCmdHeader>[0]; payload?: Buffer[] }, trans: number): Buffer => {
    const payload = Buffer.concat(req.payload ?? []);
    return Buffer.concat([encodeCmdHeader({ ...req.header, trans, size: payload.length }), payload]);
  };

  it('lists every node in ROUTE_LIST and announces each backend route in the handshake', async () => {
    const conn = await RawConnection.open(cluster.nodes[1]!.address.port);
    try {
      conn.send(frame(handshakeRequest(), 0));
      conn.send(frame(routeListRequest(), 1));
      const [hs, rl] = await conn.take(2);
      const route = decodeRoutePayload(hs!.payload);
      expect(route.addrs.map(formatAddress)).toEqual([cluster.nodes[1]!.remote]);
      expect(route.backends?.map((b) => [b.backendId, b.groupId, b.ids.length])).toEqual([
        [1, 1, 1],
        [2, 2, 1],
      ]);
      expect(decodeRoutePayload(rl!.payload).addrs.map(formatAddress)).toEqual(cluster.remotes);
    } finally {
      conn.close();
    }
  });

  it('refuses a data request for a key another node owns, so client routing is checked', async () => {
    const id = keyId('misrouted', 'DOCKER');
    const owner = cluster.nodes.find((n) => cluster.owns(n, 1, id))!;
    const other = cluster.nodes.find((n) => n !== owner)!;
    const data = Buffer.from('x');
    const write = writeRequest(id, 1, 1, { ioFlags: 0, offset: 0, num: 0, tsec: 1, tnsec: 0 }, data);
    for (const [target, status] of [
      [other, Status.ENXIO],
      [owner, Status.OK],
    ] as const) {
      const conn = await RawConnection.open(target.address.port);
      try {
        conn.send(frame(write, 1));
        conn.send(frame(lookupRequest(id, 1), 2));
        const [w, l] = await conn.take(2);
        expect(w!.header.status).toBe(status);
        expect(l!.header.status).toBe(status === Status.OK ? Status.OK : Status.ENXIO);
      } finally {
        conn.close();
      }
    }
  });
});

describe('the emulator started standalone', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  /** Two consecutive free loopback ports (another test may take one before the emulator binds: the caller retries). */
  async function freePortPair(): Promise<number> {
    for (;;) {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as { port: number }).port;
          probe.close(() => resolve(p));
        });
      });
      if (port >= 65535) continue;
      const nextFree = await new Promise<boolean>((resolve) => {
        const probe = createServer();
        probe.once('error', () => resolve(false));
        probe.listen(port + 1, '127.0.0.1', () => probe.close(() => resolve(true)));
      });
      if (nextFree) return port;
    }
  }

  function startStandalone(port: number): Promise<string> {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/elliptics/emulator.ts', '--port', String(port), '--group', '1', '--group', '2', '--nodes', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = child;
    return new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      started.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split('\n').length > 2) resolve(out);
      });
      started.stderr!.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      started.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${err}`)));
    });
  }

  it('starts with one documented command and serves the handshake on the port it was given', async () => {
    let port = 0;
    let banner = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePortPair();
      try {
        banner = await startStandalone(port);
        break;
      } catch (err) {
        if (attempt === 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
      }
    }
    expect(banner).toContain(`elliptics emulator listening on 127.0.0.1:${port}:2 groups 1,2`);
    expect(banner).toContain(`127.0.0.1:${port + 1}:2`);
    const conn = await RawConnection.open(port + 1);
    try {
      conn.send(frame2(handshakeRequest()));
      const [hs] = await conn.take(1);
      expect(decodeRoutePayload(hs!.payload).backends?.map((b) => b.groupId)).toEqual([1, 2]);
    } finally {
      conn.close();
    }
  }, 30_000);
});

const frame2 = (req: { header: Parameters<typeof encodeCmdHeader>[0] }): Buffer => encodeCmdHeader({ ...req.header, trans: 0, size: 0 });
