/**
 * An Elliptics 2.26 node emulator: it speaks the native wire protocol on a loopback TCP port and answers the
 * way the captured 2.26.11.1 server does (test/fixtures/elliptics, replayed in emulator.test.ts): the same
 * frames, flags, statuses and struct sizes, the write rules of the eblob backend (offset writes, APPEND,
 * PREPARE/PLAIN_WRITE/COMMIT, zero-size records invisible to LOOKUP), and the reply rules (who answers without
 * NEED_ACK, -95 for a group the node does not serve, the handshake version check).
 *
 * Beyond the capture: several nodes form a cluster whose ROUTE_LIST names every node, each backend announces
 * its own route id, and with `enforceRouting` a node refuses (-6 ENXIO) a data request for a key another
 * node owns, so a client's routing is checked. INDEXES_* answer -95 (the driver does not use them; they are
 * gone from Elliptics 3.0).
 *
 * Standalone:  node --import tsx test/elliptics/emulator.ts --port 1025 --group 1 [--group 2] [--nodes 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Server, type Socket, createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import { AF_INET, CmdFlags, Command, IO_ATTR_SIZE, IoFlags, RecordFlags, Status } from '../../plugins/elliptics/src/protocol/constants.js';
import { type Frame, FrameDecoder } from '../../plugins/elliptics/src/protocol/framer.js';
import { compareIds } from '../../plugins/elliptics/src/protocol/ids.js';
import {
  type CmdHeader,
  type NodeAddress,
  decodeAuthCookie,
  decodeHandshakeId,
  decodeIoAttr,
  encodeBackendStatusList,
  encodeCmdHeader,
  encodeFileInfo,
  encodeHandshakeId,
  encodeIoAttr,
  encodeNodeStatus,
  encodeRoutePayload,
  formatAddress,
} from '../../plugins/elliptics/src/protocol/structs.js';

const SERVER_VERSION: [number, number, number, number] = [2, 26, 11, 1];
const SERVER_SHARD_COUNT = 2;
const NORMAL_RECORD = RecordFlags.EXTHDR | RecordFlags.CHUNKED_CSUM;
/** bytes a record takes in the blob file besides its data: disk control header, extended header, footer */
export const RECORD_OVERHEAD = 171;
/** where the first record of a blob file starts */
const BLOB_START = 144;

interface StoredRecord {
  /** bytes on "disk": never shrinks while the record lives, so an offset write past the end shows old bytes */
  disk: Buffer;
  size: number;
  uncommitted: boolean;
  recordFlags: number;
  tsec: number;
  tnsec: number;
  userFlags: bigint;
  blobOffset: number;
  /** data bytes the record's place in the blob file holds (eblob's disk_size less the overhead) */
  capacity: number;
}

interface Backend {
  backendId: number;
  groupId: number;
  ids: Buffer[];
  records: Map<string, StoredRecord>;
  /** the blob file's size: every record ever placed, live or removed, until a defragmentation */
  nextBlobOffset: number;
  startedAt: { tsec: number; tnsec: number };
}

export interface EmulatorNodeOptions {
  port?: number;
  groups: number[];
  /** route ids per backend (the captured server announced one) */
  idsPerBackend?: number;
  authCookie?: string;
  enforceRouting?: boolean;
  cluster?: EmulatorCluster;
  /** the version announced in the handshake; a client of another major.minor is hung up on */
  version?: [number, number, number, number];
}

export class EmulatorNode {
  readonly backends: Backend[];
  /** when set, replies to requests that arrived together go out in random order (a busy real server does) */
  shuffleReplies = false;
  /** commands answered with -5 EIO (a failing disk), by name */
  readonly failing = new Set<string>();
  /** when set, requests are read and never answered (a hung node) */
  stalled = false;
  /** commands whose requests are read and never answered, by name (a node hung in its disk reads) */
  readonly stalledCommands = new Set<string>();
  /** requests read while stalled, left unanswered */
  unanswered = 0;
  /** requests served, by command name: lets tests see where traffic went */
  readonly served = new Map<string, number>();
  /**
   * Called after a data request (LOOKUP, READ, WRITE, DEL) is carried out, before its reply goes out: a
   * test's hook to change storage between two requests of one client, as another client would.
   */
  afterData: ((command: string, groupId: number, id: Buffer) => void) | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private addr: NodeAddress | undefined;

  constructor(private readonly options: EmulatorNodeOptions) {
    this.backends = options.groups.map((groupId, i) => ({
      backendId: i + 1,
      groupId,
      ids: Array.from({ length: options.idsPerBackend ?? 1 }, () => randomBytes(64)),
      records: new Map(),
      nextBlobOffset: BLOB_START,
      startedAt: nowTime(),
    }));
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  get address(): NodeAddress {
    if (!this.addr) throw new Error('emulator node not started');
    return this.addr;
  }

  /** `127.0.0.1:port:2`, the form the driver's `nodes` option takes */
  get remote(): string {
    return formatAddress(this.address);
  }

  async start(): Promise<NodeAddress> {
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.addr?.port ?? this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('emulator: no TCP address');
    this.server = server;
    this.addr = { host: '127.0.0.1', port: bound.port, family: AF_INET };
    return this.addr;
  }

  /** Closes the listening socket and every connection (a node going down). Its data stays for a restart. */
  async stop(): Promise<void> {
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Client connections still open (each one's frames are applied as they arrive, so a closed one was applied whole). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Cuts every client connection, as a network failure would; the node keeps listening. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * Bytes the node's blob files take: every record placed since the last defragmentation, removed and
   * superseded ones included (eblob only marks them removed), plus each file's header.
   */
  storageBytes(groupId?: number): number {
    return this.backendsOf(groupId).reduce((total, b) => total + b.nextBlobOffset, 0);
  }

  /** Bytes of the records still live: what a defragmentation leaves (see `defragment`). */
  liveBytes(groupId?: number): number {
    return this.backendsOf(groupId).reduce((total, b) => total + BLOB_START + [...b.records.values()].reduce((sum, r) => sum + RECORD_OVERHEAD + r.capacity, 0), 0);
  }

  private backendsOf(groupId: number | undefined): Backend[] {
    return this.backends.filter((b) => groupId === undefined || b.groupId === groupId);
  }

  /**
   * eblob's defragmentation (library/defrag.c, run by `dnet_client backend defrag` or when removed records
   * pass the backend's `defrag_percentage`): live records are copied into new blob files, the rest dropped.
   */
  defragment(): void {
    for (const backend of this.backends) {
      let at = BLOB_START;
      for (const record of backend.records.values()) {
        record.blobOffset = at;
        at += RECORD_OVERHEAD + record.capacity;
      }
      backend.nextBlobOffset = at;
    }
  }

  /**
   * Replaces the bytes of a stored record in a group this node serves, keeping its time, as another client's
   * rewrite of it would (for tests); false when the node does not hold it.
   */
  rewrite(groupId: number, id: Buffer, data: Buffer): boolean {
    const record = this.backends.find((b) => b.groupId === groupId)?.records.get(id.toString('hex'));
    if (!record || record.uncommitted) return false;
    record.disk = Buffer.from(data);
    record.size = data.length;
    record.capacity = Math.max(record.capacity, data.length);
    return true;
  }

  /** The stored object for a key id in a group, as the client would read it (for tests). */
  stored(groupId: number, id: Buffer): Buffer | undefined {
    const record = this.backends.find((b) => b.groupId === groupId)?.records.get(id.toString('hex'));
    return record && !record.uncommitted ? Buffer.from(record.disk.subarray(0, record.size)) : undefined;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(512 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      const batch: Buffer[][] = [];
      for (const frame of frames) {
        if (this.stalled || this.stalledCommands.has(Object.entries(Command).find(([, v]) => v === frame.header.cmd)?.[0] ?? '')) {
          this.unanswered += 1;
          continue;
        }
        const replies = this.handle(frame);
        if (replies === 'close') {
          socket.destroy();
          return;
        }
        batch.push(replies);
      }
      if (this.shuffleReplies) {
        for (let i = batch.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [batch[i], batch[j]] = [batch[j]!, batch[i]!];
        }
      }
      for (const replies of batch) for (const reply of replies) socket.write(reply);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** The reply frames for one request frame, or 'close' when the server hangs up. */
  handle(frame: Frame): Buffer[] | 'close' {
    const h = frame.header;
    const name = Object.entries(Command).find(([, v]) => v === h.cmd)?.[0] ?? `CMD_${h.cmd}`;
    this.served.set(name, (this.served.get(name) ?? 0) + 1);
    const base = (h.flags & ~CmdFlags.NEED_ACK) | CmdFlags.REPLY;
    const reply = (init: Partial<CmdHeader>, payload?: Buffer): Buffer => {
      const header = encodeCmdHeader({
        id: h.id,
        groupId: h.groupId,
        cmd: h.cmd,
        traceId: h.traceId,
        trans: h.trans,
        flags: base,
        backendId: h.backendId,
        ...init,
        size: payload?.length ?? 0,
      });
      return payload && payload.length > 0 ? Buffer.concat([header, payload]) : header;
    };
    const error = (status: number, backendId: number): Buffer[] => [reply({ status, backendId })];
    if (this.failing.has(name)) return error(-5, h.backendId);

    switch (h.cmd) {
      case Command.REVERSE_LOOKUP: {
        const version = this.options.version ?? SERVER_VERSION;
        const [major, minor] = decodeHandshakeId(h.id).version;
        if (major !== version[0] || minor !== version[1]) return 'close';
        const id = encodeHandshakeId({ version, indexesShardCount: SERVER_SHARD_COUNT });
        const payload = encodeRoutePayload({
          nodeAddrNum: 1,
          addrs: [this.address],
          backends: this.backends.map((b) => ({ backendId: b.backendId, groupId: b.groupId, flags: 0, ids: b.ids })),
        });
        return [reply({ id, flags: CmdFlags.NOLOCK | CmdFlags.REPLY, backendId: 0 }, payload)];
      }
      case Command.ROUTE_LIST: {
        const addrs = this.options.cluster ? this.options.cluster.nodes.filter((n) => n.listening).map((n) => n.address) : [this.address];
        return [reply({ flags: CmdFlags.NOLOCK | CmdFlags.REPLY, backendId: 0 }, encodeRoutePayload({ nodeAddrNum: 1, addrs }))];
      }
      case Command.STATUS:
        return [
          reply({ flags: base | CmdFlags.MORE, backendId: -1 }, encodeNodeStatus({ nflags: 5, statusFlags: 0, logLevel: 2 })),
          reply({ backendId: -1 }),
        ];
      case Command.BACKEND_STATUS: {
        const list = this.backends.map((b) => ({
          backendId: b.backendId,
          state: 1,
          defragState: 0,
          lastStart: b.startedAt,
          lastStartErr: 0,
          readOnly: false,
          delay: 0,
        }));
        // The captured server sends one all-zero entry more than backends_count.
        return [reply({ backendId: -1 }, encodeBackendStatusList(list, list.length + 1))];
      }
      case Command.AUTH: {
        const ok = frame.payload.length >= 64 && decodeAuthCookie(frame.payload) === (this.options.authCookie ?? 'qwerty');
        return [reply({ backendId: -1, status: ok ? Status.OK : Status.EPERM })];
      }
      case Command.LOOKUP:
      case Command.READ:
      case Command.WRITE:
      case Command.DEL: {
        const replies = this.data(frame, reply, error);
        const id = h.cmd === Command.LOOKUP ? h.id : frame.payload.length >= IO_ATTR_SIZE ? decodeIoAttr(frame.payload).id : undefined;
        if (id) this.afterData?.(name, h.groupId, id);
        return replies;
      }
      default:
        return error(Status.EOPNOTSUPP, -1);
    }
  }

  private data(frame: Frame, reply: (init: Partial<CmdHeader>, payload?: Buffer) => Buffer, error: (status: number, backendId: number) => Buffer[]): Buffer[] {
    const h = frame.header;
    const backend = this.backends.find((b) => b.groupId === h.groupId);
    if (!backend) return error(Status.EOPNOTSUPP, -1);
    const be = backend.backendId;
    const needsIo = h.cmd !== Command.LOOKUP;
    if (needsIo && frame.payload.length < IO_ATTR_SIZE) return error(Status.EINVAL, be);
    const io = needsIo ? decodeIoAttr(frame.payload) : undefined;
    const id = io ? io.id : h.id;
    if (this.options.enforceRouting && this.options.cluster && !this.options.cluster.owns(this, h.groupId, id)) {
      return error(Status.ENXIO, be);
    }
    const key = id.toString('hex');
    const record = backend.records.get(key);
    const visible = record && !record.uncommitted ? record : undefined;

    const fileInfo = (rec: StoredRecord, size: number): Buffer =>
      encodeFileInfo({
        addr: this.address,
        checksum: (h.flags & CmdFlags.CHECKSUM) !== 0 ? sha512(rec.disk.subarray(0, rec.size)) : Buffer.alloc(64),
        recordFlags: rec.recordFlags,
        size,
        blobOffset: rec.blobOffset,
        mtime: { tsec: rec.tsec, tnsec: rec.tnsec },
        path: `/tmp/elliptics-emu/eblob.${be}/data-0.0`,
      });

    switch (h.cmd) {
      case Command.LOOKUP:
        // Zero-size records are invisible to LOOKUP on a 2.26 server.
        if (!visible || visible.size === 0) return error(Status.ENOENT, be);
        return [reply({ backendId: be }, fileInfo(visible, visible.size))];

      case Command.READ: {
        if (!io) return error(Status.EINVAL, be);
        if (!visible) return error(Status.ENOENT, be);
        const total = visible.size;
        if (io.offset >= total && !(io.offset === 0 && total === 0)) return error(Status.E2BIG, be);
        const size = io.size === 0 ? total - io.offset : Math.min(io.size, total - io.offset);
        const data = visible.disk.subarray(io.offset, io.offset + size);
        const attr = encodeIoAttr({
          parent: (io.flags & IoFlags.CHECKSUM) !== 0 ? sha512(visible.disk.subarray(0, total)) : io.parent,
          id: io.id,
          start: io.start,
          num: io.num,
          tsec: visible.tsec,
          tnsec: visible.tnsec,
          userFlags: visible.userFlags,
          totalSize: total,
          recordFlags: visible.recordFlags,
          flags: io.flags,
          offset: io.offset,
          size,
        });
        // READ replies carry io.id as cmd.id, whatever the request's cmd.id was.
        return [reply({ id: io.id, backendId: be }, Buffer.concat([attr, data]))];
      }

      case Command.DEL: {
        if (!record) return error(Status.ENOENT, be);
        backend.records.delete(key);
        return (h.flags & CmdFlags.NEED_ACK) !== 0 ? [reply({ backendId: be })] : [];
      }

      case Command.WRITE: {
        if (!io) return error(Status.EINVAL, be);
        const data = frame.payload.subarray(IO_ATTR_SIZE);
        if (data.length !== io.size) return error(Status.EINVAL, be);
        const plain = (io.flags & IoFlags.PLAIN_WRITE) !== 0;
        const prepare = (io.flags & IoFlags.PREPARE) !== 0;
        const commit = (io.flags & IoFlags.COMMIT) !== 0;
        const append = (io.flags & IoFlags.APPEND) !== 0;
        if (data.length === 0 && !(prepare && commit)) return error(Status.ENOENT, be);
        /**
         * Compare-and-swap, checked before the backend sees the write and under the key's lock
         * (elliptics library/dnet.c: dnet_process_cmd_raw -> dnet_cas_local): the backend's checksum of the
         * stored record (sha512 of its data) must equal io.parent, else -EBADFD; a key the backend does not
         * have passes (dnet_cas_local lets -ENOENT through). The flag combines with APPEND and the others.
         */
        if ((io.flags & IoFlags.CAS) !== 0 && visible && !sha512(visible.disk.subarray(0, visible.size)).equals(io.parent)) {
          return error(Status.EBADFD, be);
        }

        const stamp = (rec: StoredRecord): StoredRecord => Object.assign(rec, { tsec: io.tsec, tnsec: io.tnsec, userFlags: io.userFlags });
        const fresh = (): StoredRecord => ({
          disk: Buffer.alloc(0),
          size: 0,
          uncommitted: false,
          recordFlags: NORMAL_RECORD,
          tsec: 0,
          tnsec: 0,
          userFlags: 0n,
          blobOffset: backend.nextBlobOffset,
          capacity: 0,
        });
        const place = (rec: StoredRecord, at: number): void => {
          const end = at + data.length;
          if (rec.disk.length < end) {
            // Grow geometrically: uploads arrive as many offset writes to one record.
            const grown = Buffer.alloc(Math.max(end, Math.min(rec.disk.length * 2, end + 64 * 1024 * 1024)));
            rec.disk.copy(grown);
            rec.disk = grown;
          }
          data.copy(rec.disk, at);
        };
        const store = (rec: StoredRecord): void => {
          backend.records.set(key, rec);
        };
        /**
         * eblob's space rule (library/blob.c): a write that fits the record's place is done in place
         * (eblob_try_overwritev); one that does not gets a new place at the end of the blob file, the old
         * record's bytes copied there and the old place left as a removed record until defragmentation
         * (eblob_write_prepare_disk_ll with EBLOB_COPY_RECORD, then eblob_mark_entry_removed_purge).
         */
        const placeFor = (rec: StoredRecord, capacity: number): void => {
          rec.capacity = capacity;
          rec.blobOffset = backend.nextBlobOffset;
          backend.nextBlobOffset += RECORD_OVERHEAD + capacity;
        };
        const keepOrMove = (rec: StoredRecord, previous: StoredRecord | undefined, needed: number, grownTo: number): void => {
          if (previous && previous.capacity >= needed) {
            rec.capacity = previous.capacity;
            rec.blobOffset = previous.blobOffset;
          } else {
            placeFor(rec, grownTo);
          }
        };

        if (plain && (prepare || record?.uncommitted)) {
          // The multi-part write: invisible until COMMIT, which fixes the size to io.num.
          const rec = prepare ? fresh() : record!;
          const end = io.offset + data.length;
          if (prepare) {
            // eblob_write_prepare: the reservation is io.num bytes (reusing the old place when it is big enough)
            rec.disk = Buffer.alloc(Math.max(io.num, 0));
            keepOrMove(rec, record, Math.max(io.num, end), Math.max(io.num, end));
          } else if (end > rec.capacity) {
            // eblob_plain_writev: a plain write never grows the record it writes into
            return error(Status.E2BIG, be);
          }
          place(rec, io.offset);
          stamp(rec);
          if (commit) {
            rec.size = io.num;
            rec.uncommitted = false;
            rec.recordFlags = NORMAL_RECORD;
          } else {
            rec.uncommitted = true;
            rec.recordFlags = NORMAL_RECORD | RecordFlags.UNCOMMITTED;
          }
          store(rec);
          return [reply({ backendId: be }, fileInfo(rec, rec.uncommitted ? 0 : rec.size))];
        }

        if (append) {
          const rec = visible ?? fresh();
          const existed = visible !== undefined;
          const at = rec.size;
          // eblob_write_prepare_disk_ll: an append that does not fit doubles the new place; the first one
          // of a key reserves four times its size
          if (existed) keepOrMove(rec, visible, at + data.length, 2 * (at + data.length));
          else keepOrMove(rec, record, Number.POSITIVE_INFINITY, 4 * data.length);
          place(rec, at);
          rec.size = at + data.length;
          if (existed) rec.recordFlags |= RecordFlags.APPEND;
          stamp(rec);
          store(rec);
          // The reply reports the size of this chunk; LOOKUP shows the total.
          return [reply({ backendId: be }, fileInfo(rec, data.length))];
        }

        // A plain write replaces the object with old[0:offset] + data.
        const rec = visible ?? fresh();
        keepOrMove(rec, visible, io.offset + data.length, io.offset + data.length);
        place(rec, io.offset);
        rec.size = commit && io.num > 0 ? io.num : io.offset + data.length;
        rec.recordFlags = NORMAL_RECORD;
        stamp(rec);
        store(rec);
        return [reply({ backendId: be }, fileInfo(rec, rec.size))];
      }
      default:
        return error(Status.EOPNOTSUPP, be);
    }
  }
}

/** Several nodes sharing groups: ROUTE_LIST lists them all, and keys are owned by route ids across them. */
export class EmulatorCluster {
  readonly nodes: EmulatorNode[] = [];

  constructor(specs: { groups: number[]; port?: number }[], options: { enforceRouting?: boolean; idsPerBackend?: number } = {}) {
    for (const spec of specs) {
      this.nodes.push(new EmulatorNode({ ...spec, cluster: this, enforceRouting: options.enforceRouting ?? true, idsPerBackend: options.idsPerBackend }));
    }
  }

  async start(): Promise<this> {
    for (const node of this.nodes) await node.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  /** Client connections open on any node. */
  get openConnections(): number {
    return this.nodes.reduce((total, n) => total + n.openConnections, 0);
  }

  /** The `nodes` option value naming every node. */
  get remotes(): string[] {
    return this.nodes.map((n) => n.remote);
  }

  /** Whether `node` owns `id` in `groupId`: the greatest route id <= id across the group, wrapping to the last. */
  owns(node: EmulatorNode, groupId: number, id: Buffer): boolean {
    const table = this.nodes
      .flatMap((n) => n.backends.filter((b) => b.groupId === groupId).flatMap((b) => b.ids.map((rid) => ({ rid, n }))))
      .sort((a, b) => compareIds(a.rid, b.rid));
    if (table.length === 0) return false;
    let owner = table[table.length - 1]!;
    for (const entry of table) {
      if (compareIds(entry.rid, id) <= 0) owner = entry;
      else break;
    }
    return owner.n === node;
  }

  /** Bytes the blob files of every node take (of one group's backends when given): see EmulatorNode.storageBytes. */
  storageBytes(groupId?: number): number {
    return this.nodes.reduce((total, n) => total + n.storageBytes(groupId), 0);
  }

  liveBytes(groupId?: number): number {
    return this.nodes.reduce((total, n) => total + n.liveBytes(groupId), 0);
  }

  defragment(): void {
    for (const node of this.nodes) node.defragment();
  }

  /** The stored object for a key id in a group, from whichever node holds it. */
  stored(groupId: number, id: Buffer): Buffer | undefined {
    for (const node of this.nodes) {
      const found = node.stored(groupId, id);
      if (found) return found;
    }
    return undefined;
  }
}

const sha512 = (data: Buffer): Buffer => createHash('sha512').update(data).digest();

function nowTime(): { tsec: number; tnsec: number } {
  const ms = Date.now();
  return { tsec: Math.floor(ms / 1000), tnsec: (ms % 1000) * 1_000_000 };
}

// In the node's own TypeScript entry the emulator runs standalone.
export interface StandaloneArgs {
  port: number;
  groups: number[];
  nodes: number;
}

export function parseArgs(argv: string[]): StandaloneArgs {
  const args: StandaloneArgs = { port: 1025, groups: [], nodes: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const int = (what: string): number => {
      if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${flag} needs a ${what}, got ${value ?? 'nothing'}`);
      i++;
      return Number(value);
    };
    if (flag === '--port') args.port = int('port number');
    else if (flag === '--group') args.groups.push(int('group number'));
    else if (flag === '--nodes') args.nodes = int('node count');
    else throw new Error(`unknown argument ${flag}; usage: emulator.ts --port 1025 --group 1 [--group 2] [--nodes 3]`);
  }
  if (args.groups.length === 0) args.groups.push(1);
  if (args.port < 1 || args.port + args.nodes - 1 > 65535 || args.nodes < 1) throw new Error('ports out of range');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cluster = new EmulatorCluster(
    Array.from({ length: args.nodes }, (_, i) => ({ groups: args.groups, port: args.port + i })),
    { enforceRouting: false },
  );
  await cluster.start();
  for (const node of cluster.nodes) {
    process.stdout.write(`elliptics emulator listening on ${node.remote} groups ${args.groups.join(',')}\n`);
  }
  const shutdown = (): void => void cluster.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  });
}
