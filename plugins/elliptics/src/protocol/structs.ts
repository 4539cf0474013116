/**
 * Encoders and decoders for the packed structs of the Elliptics 2.26 wire protocol. Sizes and offsets are
 * the ones a real 2.26.11.1 server puts on the wire (dnet_cmd 120, dnet_io_attr 208, dnet_addr 32,
 * dnet_file_info 112); see docs/elliptics.md.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ADDR_SIZE, AF_INET, AF_INET6, CMD_HEADER_SIZE, FILE_INFO_SIZE, ID_SIZE, IO_ATTR_SIZE } from './constants.js';

export class ProtocolError extends Error {
  override readonly name = 'EllipticsProtocolError';
}

const ZERO_ID = Buffer.alloc(ID_SIZE);

function readU64(buf: Buffer, offset: number): number {
  const value = buf.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`u64 at ${offset} exceeds 2^53: ${value}`);
  return Number(value);
}

const writeU64 = (buf: Buffer, value: number | bigint, offset: number): void => {
  buf.writeBigUInt64LE(BigInt(value), offset);
};

function copyId(target: Buffer, id: Uint8Array | undefined, offset: number): void {
  if (id === undefined) return;
  if (id.length !== ID_SIZE) throw new ProtocolError(`an id is ${ID_SIZE} bytes, got ${id.length}`);
  target.set(id, offset);
}

// ---------------------------------------------------------------- dnet_cmd

export interface CmdHeader {
  id: Buffer;
  groupId: number;
  status: number;
  cmd: number;
  backendId: number;
  traceId: bigint;
  flags: number;
  trans: number;
  size: number;
}

export type CmdHeaderInit = Partial<CmdHeader> & Pick<CmdHeader, 'cmd'>;

export function encodeCmdHeader(init: CmdHeaderInit): Buffer {
  const buf = Buffer.alloc(CMD_HEADER_SIZE);
  copyId(buf, init.id ?? ZERO_ID, 0);
  buf.writeUInt32LE(init.groupId ?? 0, 64);
  writeU64(buf, 0, 68);
  buf.writeInt32LE(init.status ?? 0, 76);
  buf.writeInt32LE(init.cmd, 80);
  buf.writeInt32LE(init.backendId ?? 0, 84);
  writeU64(buf, init.traceId ?? 0n, 88);
  writeU64(buf, init.flags ?? 0, 96);
  writeU64(buf, init.trans ?? 0, 104);
  writeU64(buf, init.size ?? 0, 112);
  return buf;
}

export function decodeCmdHeader(buf: Buffer, offset = 0): CmdHeader {
  if (buf.length - offset < CMD_HEADER_SIZE) throw new ProtocolError(`dnet_cmd needs ${CMD_HEADER_SIZE} bytes`);
  return {
    id: Buffer.from(buf.subarray(offset, offset + ID_SIZE)),
    groupId: buf.readUInt32LE(offset + 64),
    status: buf.readInt32LE(offset + 76),
    cmd: buf.readInt32LE(offset + 80),
    backendId: buf.readInt32LE(offset + 84),
    traceId: buf.readBigUInt64LE(offset + 88),
    flags: readU64(buf, offset + 96),
    trans: readU64(buf, offset + 104),
    size: readU64(buf, offset + 112),
  };
}

// ---------------------------------------------------------------- dnet_io_attr

export interface IoAttr {
  parent: Buffer;
  id: Buffer;
  start: number;
  num: number;
  tsec: number;
  tnsec: number;
  userFlags: bigint;
  totalSize: number;
  recordFlags: number;
  reserved2: number;
  flags: number;
  offset: number;
  size: number;
}

export type IoAttrInit = Partial<IoAttr> & Pick<IoAttr, 'id'>;

export function encodeIoAttr(init: IoAttrInit): Buffer {
  const buf = Buffer.alloc(IO_ATTR_SIZE);
  copyId(buf, init.parent ?? init.id, 0);
  copyId(buf, init.id, 64);
  writeU64(buf, init.start ?? 0, 128);
  writeU64(buf, init.num ?? 0, 136);
  writeU64(buf, init.tsec ?? 0, 144);
  writeU64(buf, init.tnsec ?? 0, 152);
  writeU64(buf, init.userFlags ?? 0n, 160);
  writeU64(buf, init.totalSize ?? 0, 168);
  writeU64(buf, init.recordFlags ?? 0, 176);
  buf.writeUInt32LE(init.reserved2 ?? 0, 184);
  buf.writeUInt32LE(init.flags ?? 0, 188);
  writeU64(buf, init.offset ?? 0, 192);
  writeU64(buf, init.size ?? 0, 200);
  return buf;
}

export function decodeIoAttr(buf: Buffer, offset = 0): IoAttr {
  if (buf.length - offset < IO_ATTR_SIZE) throw new ProtocolError(`dnet_io_attr needs ${IO_ATTR_SIZE} bytes, got ${buf.length - offset}`);
  return {
    parent: Buffer.from(buf.subarray(offset, offset + 64)),
    id: Buffer.from(buf.subarray(offset + 64, offset + 128)),
    start: readU64(buf, offset + 128),
    num: readU64(buf, offset + 136),
    tsec: readU64(buf, offset + 144),
    tnsec: readU64(buf, offset + 152),
    userFlags: buf.readBigUInt64LE(offset + 160),
    totalSize: readU64(buf, offset + 168),
    recordFlags: readU64(buf, offset + 176),
    reserved2: buf.readUInt32LE(offset + 184),
    flags: buf.readUInt32LE(offset + 188),
    offset: readU64(buf, offset + 192),
    size: readU64(buf, offset + 200),
  };
}

// ---------------------------------------------------------------- dnet_addr

export interface NodeAddress {
  host: string;
  port: number;
  family: typeof AF_INET | typeof AF_INET6;
}

export const formatAddress = (addr: NodeAddress): string => `${addr.host}:${addr.port}:${addr.family}`;

/** dnet_addr holds a numeric sockaddr; a host name must be resolved before it can be encoded. */
export function encodeAddr(addr: NodeAddress): Buffer {
  const buf = Buffer.alloc(ADDR_SIZE);
  if (addr.family === AF_INET) {
    if (!isIPv4(addr.host)) throw new ProtocolError(`not an IPv4 address: ${addr.host}`);
    buf.writeUInt16LE(AF_INET, 0);
    buf.writeUInt16BE(addr.port, 2);
    addr.host.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), 4 + i));
    buf.writeUInt16LE(16, 28);
  } else {
    if (!isIPv6(addr.host)) throw new ProtocolError(`not an IPv6 address: ${addr.host}`);
    buf.writeUInt16LE(AF_INET6, 0);
    buf.writeUInt16BE(addr.port, 2);
    ipv6Bytes(addr.host).copy(buf, 8);
    buf.writeUInt16LE(28, 28);
  }
  buf.writeUInt16LE(addr.family, 30);
  return buf;
}

export function decodeAddr(buf: Buffer, offset = 0): NodeAddress {
  if (buf.length - offset < ADDR_SIZE) throw new ProtocolError(`dnet_addr needs ${ADDR_SIZE} bytes`);
  const family = buf.readUInt16LE(offset + 30);
  const port = buf.readUInt16BE(offset + 2);
  if (family === AF_INET) {
    const host = [0, 1, 2, 3].map((i) => buf.readUInt8(offset + 4 + i)).join('.');
    return { host, port, family: AF_INET };
  }
  if (family === AF_INET6) {
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(offset + 8 + 2 * i).toString(16));
    return { host: compressIPv6(groups), port, family: AF_INET6 };
  }
  throw new ProtocolError(`dnet_addr with unknown family ${family}`);
}

function ipv6Bytes(host: string): Buffer {
  const [head = '', tail] = host.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, 2 * i));
  return buf;
}

function compressIPv6(groups: string[]): string {
  const text = groups.join(':');
  const zeros = /(^|:)0(:0)+(:|$)/.exec(text);
  return zeros ? `${text.slice(0, zeros.index)}::${text.slice(zeros.index + zeros[0].length)}` : text;
}

// ---------------------------------------------------------------- dnet_file_info (LOOKUP / WRITE replies)

export interface FileInfo {
  addr: NodeAddress;
  checksum: Buffer;
  recordFlags: number;
  size: number;
  /** where the data sits in the server's blob file: informative only */
  blobOffset: number;
  mtime: { tsec: number; tnsec: number };
  /** the server's blob file path: informative only */
  path: string;
}

export function encodeFileInfo(info: FileInfo): Buffer {
  const pathBytes = Buffer.from(`${info.path}\0`, 'utf8');
  const buf = Buffer.alloc(ADDR_SIZE + FILE_INFO_SIZE + pathBytes.length);
  encodeAddr(info.addr).copy(buf, 0);
  const o = ADDR_SIZE;
  buf.writeInt32LE(pathBytes.length, o);
  copyId(buf, info.checksum, o + 4);
  writeU64(buf, info.recordFlags, o + 72);
  writeU64(buf, info.size, o + 80);
  writeU64(buf, info.blobOffset, o + 88);
  writeU64(buf, info.mtime.tsec, o + 96);
  writeU64(buf, info.mtime.tnsec, o + 104);
  pathBytes.copy(buf, o + FILE_INFO_SIZE);
  return buf;
}

export function decodeFileInfo(buf: Buffer): FileInfo {
  if (buf.length < ADDR_SIZE + FILE_INFO_SIZE) throw new ProtocolError(`file info reply needs ${ADDR_SIZE + FILE_INFO_SIZE} bytes, got ${buf.length}`);
  const o = ADDR_SIZE;
  const flen = buf.readInt32LE(o);
  const pathEnd = Math.min(buf.length, o + FILE_INFO_SIZE + Math.max(flen, 0));
  return {
    addr: decodeAddr(buf, 0),
    checksum: Buffer.from(buf.subarray(o + 4, o + 68)),
    recordFlags: readU64(buf, o + 72),
    size: readU64(buf, o + 80),
    blobOffset: readU64(buf, o + 88),
    mtime: { tsec: readU64(buf, o + 96), tnsec: readU64(buf, o + 104) },
    path: buf.subarray(o + FILE_INFO_SIZE, pathEnd).toString('utf8').replace(/\0+$/, ''),
  };
}

// ---------------------------------------------------------------- routes (REVERSE_LOOKUP / ROUTE_LIST)

export interface BackendRoute {
  backendId: number;
  groupId: number;
  flags: number;
  ids: Buffer[];
}

export interface RoutePayload {
  /** addresses per node (node_addr_num); the payload lists addr_num addresses in all */
  nodeAddrNum: number;
  addrs: NodeAddress[];
  /** absent in ROUTE_LIST replies */
  backends?: BackendRoute[];
}

export function encodeRoutePayload(route: RoutePayload): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeInt32LE(route.nodeAddrNum, 0);
  head.writeInt32LE(route.addrs.length, 4);
  parts.push(head, ...route.addrs.map(encodeAddr));
  if (route.backends) {
    const count = Buffer.alloc(4);
    count.writeInt32LE(route.backends.length, 0);
    parts.push(count);
    for (const backend of route.backends) {
      const b = Buffer.alloc(16);
      b.writeInt32LE(backend.backendId, 0);
      b.writeInt32LE(backend.groupId, 4);
      b.writeUInt32LE(backend.flags, 8);
      b.writeUInt32LE(backend.ids.length, 12);
      parts.push(b, ...backend.ids);
    }
  }
  return Buffer.concat(parts);
}

export function decodeRoutePayload(buf: Buffer): RoutePayload {
  if (buf.length < 8) throw new ProtocolError('dnet_addr_container needs 8 bytes');
  const nodeAddrNum = buf.readInt32LE(0);
  const addrNum = buf.readInt32LE(4);
  if (addrNum < 0 || 8 + addrNum * ADDR_SIZE > buf.length) throw new ProtocolError(`dnet_addr_container claims ${addrNum} addresses`);
  const addrs: NodeAddress[] = [];
  for (let i = 0; i < addrNum; i++) addrs.push(decodeAddr(buf, 8 + i * ADDR_SIZE));
  let o = 8 + addrNum * ADDR_SIZE;
  if (o === buf.length) return { nodeAddrNum, addrs };
  const backendsCount = buf.readInt32LE(o);
  o += 4;
  const backends: BackendRoute[] = [];
  for (let i = 0; i < backendsCount; i++) {
    if (o + 16 > buf.length) throw new ProtocolError('truncated dnet_backend_ids');
    const idsCount = buf.readUInt32LE(o + 12);
    const backend: BackendRoute = { backendId: buf.readInt32LE(o), groupId: buf.readInt32LE(o + 4), flags: buf.readUInt32LE(o + 8), ids: [] };
    o += 16;
    if (o + idsCount * ID_SIZE > buf.length) throw new ProtocolError('truncated route ids');
    for (let j = 0; j < idsCount; j++, o += ID_SIZE) backend.ids.push(Buffer.from(buf.subarray(o, o + ID_SIZE)));
    backends.push(backend);
  }
  return { nodeAddrNum, addrs, backends };
}

// ---------------------------------------------------------------- handshake id

export interface HandshakeId {
  version: [number, number, number, number];
  indexesShardCount: number;
}

export function encodeHandshakeId(hs: HandshakeId): Buffer {
  const id = Buffer.alloc(ID_SIZE);
  hs.version.forEach((v, i) => id.writeInt32LE(v, 4 * i));
  id.writeInt32LE(hs.indexesShardCount, 20);
  return id;
}

export function decodeHandshakeId(id: Buffer): HandshakeId {
  return {
    version: [id.readInt32LE(0), id.readInt32LE(4), id.readInt32LE(8), id.readInt32LE(12)],
    indexesShardCount: id.readInt32LE(20),
  };
}

// ---------------------------------------------------------------- small service structs

export interface NodeStatus {
  nflags: number;
  statusFlags: number;
  logLevel: number;
}

export function encodeNodeStatus(st: NodeStatus): Buffer {
  const buf = Buffer.alloc(12);
  buf.writeInt32LE(st.nflags, 0);
  buf.writeInt32LE(st.statusFlags, 4);
  buf.writeUInt32LE(st.logLevel >>> 0, 8);
  return buf;
}

export const decodeNodeStatus = (buf: Buffer): NodeStatus => {
  if (buf.length < 12) throw new ProtocolError('dnet_node_status needs 12 bytes');
  return { nflags: buf.readInt32LE(0), statusFlags: buf.readInt32LE(4), logLevel: buf.readUInt32LE(8) };
};

export function encodeAuth(cookie: string): Buffer {
  const buf = Buffer.alloc(64);
  const bytes = Buffer.from(cookie, 'utf8');
  if (bytes.length > 32) throw new ProtocolError('an auth cookie is at most 32 bytes');
  bytes.copy(buf, 0);
  return buf;
}

export const decodeAuthCookie = (buf: Buffer): string => {
  if (buf.length < 64) throw new ProtocolError('dnet_auth needs 64 bytes');
  return buf.subarray(0, 32).toString('utf8').replace(/\0.*$/s, '');
};

export interface BackendStatus {
  backendId: number;
  state: number;
  defragState: number;
  lastStart: { tsec: number; tnsec: number };
  lastStartErr: number;
  readOnly: boolean;
  delay: number;
}

export const BACKEND_STATUS_SIZE = 96;

export function encodeBackendStatusList(list: BackendStatus[], slots = list.length): Buffer {
  const buf = Buffer.alloc(4 + slots * BACKEND_STATUS_SIZE);
  buf.writeUInt32LE(list.length, 0);
  list.forEach((b, i) => {
    const o = 4 + i * BACKEND_STATUS_SIZE;
    buf.writeUInt32LE(b.backendId, o);
    buf.writeInt32LE(b.state, o + 4);
    buf.writeUInt32LE(b.defragState, o + 8);
    writeU64(buf, b.lastStart.tsec, o + 12);
    writeU64(buf, b.lastStart.tnsec, o + 20);
    buf.writeInt32LE(b.lastStartErr, o + 28);
    buf.writeUInt8(b.readOnly ? 1 : 0, o + 32);
    buf.writeUInt32LE(b.delay, o + 40);
  });
  return buf;
}

export function decodeBackendStatusList(buf: Buffer): BackendStatus[] {
  if (buf.length < 4) throw new ProtocolError('dnet_backend_status_list needs 4 bytes');
  const count = buf.readUInt32LE(0);
  if (4 + count * BACKEND_STATUS_SIZE > buf.length) throw new ProtocolError(`backend status list claims ${count} entries`);
  const out: BackendStatus[] = [];
  for (let i = 0; i < count; i++) {
    const o = 4 + i * BACKEND_STATUS_SIZE;
    out.push({
      backendId: buf.readUInt32LE(o),
      state: buf.readInt32LE(o + 4),
      defragState: buf.readUInt32LE(o + 8),
      lastStart: { tsec: readU64(buf, o + 12), tnsec: readU64(buf, o + 20) },
      lastStartErr: buf.readInt32LE(o + 28),
      readOnly: buf.readUInt8(o + 32) !== 0,
      delay: buf.readUInt32LE(o + 40),
    });
  }
  return out;
}

export interface IndexesReply {
  entries: { id: Buffer; status: number }[];
}

/** dnet_indexes_reply (48) + entries (84): the INDEXES_UPDATE reply. */
export function decodeIndexesReply(buf: Buffer): IndexesReply {
  if (buf.length < 48) throw new ProtocolError('dnet_indexes_reply needs 48 bytes');
  const count = readU64(buf, 40);
  if (48 + count * 84 > buf.length) throw new ProtocolError(`indexes reply claims ${count} entries`);
  const entries: IndexesReply['entries'] = [];
  for (let i = 0; i < count; i++) {
    const o = 48 + i * 84;
    entries.push({ id: Buffer.from(buf.subarray(o, o + 64)), status: buf.readInt32LE(o + 64) });
  }
  return { entries };
}
