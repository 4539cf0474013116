import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CMD_HEADER_SIZE, Command, IO_ATTR_SIZE } from '../../plugins/elliptics/src/protocol/constants.js';
import { FrameDecoder } from '../../plugins/elliptics/src/protocol/framer.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import {
  backendStatusRequest,
  handshakeRequest,
  lookupRequest,
  readRequest,
  removeRequest,
  routeListRequest,
  writeRequest,
  type Request,
} from '../../plugins/elliptics/src/protocol/messages.js';
import { decodeFindIndexesResult } from '../../plugins/elliptics/src/protocol/msgpack.js';
import {
  decodeAddr,
  decodeBackendStatusList,
  decodeCmdHeader,
  decodeFileInfo,
  decodeHandshakeId,
  decodeIndexesReply,
  decodeIoAttr,
  decodeNodeStatus,
  decodeRoutePayload,
  encodeAddr,
  encodeCmdHeader,
  formatAddress,
} from '../../plugins/elliptics/src/protocol/structs.js';
import { type CapturedFrame, allFrames, cxxSessions, frameBytes, record, session, transcripts } from './fixtures.js';

const hex = (b: Buffer): string => b.toString('hex');

function checkHeader(frame: CapturedFrame): void {
  const h = decodeCmdHeader(frameBytes(frame));
  expect({
    id: hex(h.id),
    group_id: h.groupId,
    status: h.status,
    cmd: h.cmd,
    backend_id: h.backendId,
    trace_id: Number(h.traceId),
    flags: h.flags,
    trans: h.trans,
    size: h.size,
  }).toEqual({
    id: frame.cmd.id,
    group_id: frame.cmd.group_id,
    status: frame.cmd.status,
    cmd: frame.cmd.cmd,
    backend_id: frame.cmd.backend_id,
    trace_id: frame.cmd.trace_id,
    flags: frame.cmd.flags,
    trans: frame.cmd.trans,
    size: frame.cmd.size,
  });
  expect(frame.wire_length).toBe(CMD_HEADER_SIZE + h.size);
}

function checkIoAttr(bytes: Buffer, expected: Record<string, any>): void {
  const io = decodeIoAttr(bytes, CMD_HEADER_SIZE);
  expect({
    parent: hex(io.parent),
    id: hex(io.id),
    start: io.start,
    num: io.num,
    timestamp: { tsec: io.tsec, tnsec: io.tnsec },
    user_flags: Number(io.userFlags),
    total_size: io.totalSize,
    record_flags: io.recordFlags,
    reserved2: io.reserved2,
    flags: io.flags,
    offset: io.offset,
    size: io.size,
  }).toEqual({
    parent: expected.parent,
    id: expected.id,
    start: expected.start,
    num: expected.num,
    timestamp: expected.timestamp,
    user_flags: expected.user_flags,
    total_size: expected.total_size,
    record_flags: expected.record_flags,
    reserved2: expected.reserved2,
    flags: expected.flags,
    offset: expected.offset,
    size: expected.size,
  });
}

/** Decodes a complete reply payload with the client's codec and compares it with the capture's decoding. */
function checkReplyPayload(frame: CapturedFrame): void {
  const bytes = frameBytes(frame);
  const payload = bytes.subarray(CMD_HEADER_SIZE);
  const p = frame.payload ?? {};
  const cmd = frame.cmd.cmd;
  if (frame.cmd.status < 0 || frame.cmd.size === 0) {
    expect(frame.cmd.size).toBe(0);
    return;
  }
  switch (cmd) {
    case Command.REVERSE_LOOKUP: {
      const hs = decodeHandshakeId(decodeCmdHeader(bytes).id);
      expect(hs.version.join('.')).toBe(p.id_decoded.version);
      expect(hs.indexesShardCount).toBe(p.id_decoded.indexes_shard_count_at_id_20_24);
      const route = decodeRoutePayload(payload);
      expect(route.addrs.map(formatAddress)).toEqual(p.dnet_addr_container.addrs.map((a: any) => a.text));
      expect(route.nodeAddrNum).toBe(p.dnet_addr_container.node_addr_num);
      expect(route.backends?.map((b) => ({ backend_id: b.backendId, group_id: b.groupId, flags: b.flags, ids: b.ids.map(hex) }))).toEqual(
        p.dnet_id_container.backends.map((b: any) => ({ backend_id: b.backend_id, group_id: b.group_id, flags: b.flags, ids: b.ids })),
      );
      return;
    }
    case Command.ROUTE_LIST: {
      const route = decodeRoutePayload(payload);
      expect(route.addrs.map(formatAddress)).toEqual(p.dnet_addr_container.addrs.map((a: any) => a.text));
      expect(route.backends).toBeUndefined();
      return;
    }
    case Command.WRITE:
    case Command.LOOKUP: {
      const info = decodeFileInfo(payload);
      const fi = p.dnet_file_info;
      expect(formatAddress(info.addr)).toBe(p.dnet_addr.text);
      expect({ size: info.size, record_flags: info.recordFlags, offset: info.blobOffset, mtime: info.mtime, checksum: hex(info.checksum) }).toEqual({
        size: fi.size,
        record_flags: fi.record_flags,
        offset: fi.offset,
        mtime: fi.mtime,
        checksum: fi.checksum,
      });
      expect(info.path).toBe(p.path.text);
      return;
    }
    case Command.READ: {
      checkIoAttr(bytes, p.dnet_io_attr);
      const data = payload.subarray(IO_ATTR_SIZE);
      if (frame.hex_complete) {
        expect(data.length).toBe(p.data.data_len);
        expect(createHash('sha256').update(data).digest('hex')).toBe(p.data.data_sha256);
      }
      return;
    }
    case Command.STATUS:
      expect(decodeNodeStatus(payload)).toEqual({
        nflags: p.dnet_node_status.nflags,
        statusFlags: p.dnet_node_status.status_flags,
        logLevel: p.dnet_node_status.log_level,
      });
      return;
    case Command.BACKEND_STATUS: {
      const list = decodeBackendStatusList(payload);
      const expected = p.dnet_backend_status_list;
      expect(list).toHaveLength(expected.backends_count);
      list.forEach((b, i) => {
        const e = expected.backends[i];
        expect({ id: b.backendId, state: b.state, defrag: b.defragState, lastStart: b.lastStart, err: b.lastStartErr, ro: b.readOnly ? 1 : 0, delay: b.delay }).toEqual({
          id: e.backend_id,
          state: e.state,
          defrag: e.defrag_state,
          lastStart: e.last_start,
          err: e.last_start_err,
          ro: e.read_only,
          delay: e.delay,
        });
      });
      return;
    }
    case Command.INDEXES_UPDATE: {
      const reply = decodeIndexesReply(payload);
      expect(reply.entries.map((e) => ({ id: hex(e.id), status: e.status }))).toEqual(
        p.dnet_indexes_reply.entries.map((e: any) => ({ id: e.id, status: e.status })),
      );
      return;
    }
    case Command.INDEXES_FIND: {
      const found = decodeFindIndexesResult(payload);
      expect(
        found.map((f) => [f.version, { hex: hex(f.objectId) }, f.indexes.map((ix) => [{ hex: hex(ix.indexId) }, { hex: hex(ix.data) }])]),
      ).toEqual(
        p.msgpack.map((e: any) => [e[0], { hex: e[1].hex }, e[2].map((ix: any) => [{ hex: ix[0].hex }, { hex: ix[1].hex }])]),
      );
      return;
    }
    default:
      throw new Error(`no decoder check for command ${cmd}`);
  }
}

describe('Elliptics codec against captured 2.26 traffic', () => {
  const frames = allFrames();

  it('decodes the dnet_cmd header of every captured frame, requests and replies', () => {
    expect(frames.length).toBeGreaterThan(150);
    for (const { frame } of frames) checkHeader(frame);
  });

  it('decodes every captured reply payload the same way the capture does', () => {
    let checked = 0;
    for (const { where, frame } of frames) {
      if (frame.dir !== 'reply') continue;
      try {
        checkReplyPayload(frame);
      } catch (err) {
        throw new Error(`${where} reply seq ${frame.seq}: ${(err as Error).message}`);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('decodes the dnet_io_attr of every captured READ, WRITE and DEL request', () => {
    for (const { frame } of frames) {
      if (frame.dir !== 'request' || !frame.payload?.dnet_io_attr) continue;
      checkIoAttr(frameBytes(frame), frame.payload.dnet_io_attr);
    }
  });

  it('splits a byte stream into frames whatever the chunking, including pipelined replies', () => {
    const rec = record('concurrent_two_small');
    const stream = Buffer.concat(rec.replies.map(frameBytes));
    for (const chunk of [1, 7, 120, 121, 4096]) {
      const decoder = new FrameDecoder(1 << 20);
      const out = [];
      for (let i = 0; i < stream.length; i += chunk) out.push(...decoder.push(stream.subarray(i, i + chunk)));
      expect(out.map((f) => f.header.trans)).toEqual([9101, 9102]);
      expect(out[1]!.payload.subarray(IO_ATTR_SIZE).toString()).toBe('hello world');
    }
  });

  it('derives key ids as sha512 of namespace, NUL and key, as the server stores them', () => {
    const cxx = session('cxx_write');
    expect(hex(keyId(cxx.key!.key, 'DOCKER'))).toBe(cxx.key!.id);
    for (const r of transcripts.records) if (r.key?.namespace === 'DOCKER') expect(hex(keyId(r.key.key, 'DOCKER'))).toBe(r.key.id);
    expect(hex(keyId('wire/small-ack', ''))).toBe(hex(decodeCmdHeader(frameBytes(record('read_small_plain_sha512_id').request[0]!)).id));
  });

  it('round-trips IPv4 and IPv6 dnet_addr', () => {
    const captured = Buffer.from('020004017f00000100000000000000000000000000000000000000001000020' + '0', 'hex');
    expect(decodeAddr(captured)).toEqual({ host: '127.0.0.1', port: 1025, family: 2 });
    expect(encodeAddr({ host: '127.0.0.1', port: 1025, family: 2 })).toEqual(captured);
    expect(decodeAddr(encodeAddr({ host: '::1', port: 1026, family: 10 }))).toEqual({ host: '::1', port: 1026, family: 10 });
    expect(decodeAddr(encodeAddr({ host: 'fe80::1:2', port: 1, family: 10 }))).toEqual({ host: 'fe80::1:2', port: 1, family: 10 });
  });
});

/** Encodes a request the way the connection does (trans and size filled in). */
function encode(request: Request, trans: number): Buffer {
  const payload = Buffer.concat(request.payload ?? []);
  return Buffer.concat([encodeCmdHeader({ ...request.header, trans, size: payload.length }), payload]);
}

describe('Elliptics requests match the reference C++ client byte for byte', () => {
  const requests = (name: string): CapturedFrame[] => session(name).connections[0]!.request;

  it('sends the handshake and ROUTE_LIST exactly as dnet_ioclient does', () => {
    // dnet_index announces 16 index shards instead of 10; the server ignores the value either way.
    for (const s of cxxSessions.sessions.filter((x) => x.argv[0] === 'dnet_ioclient')) {
      const [hs, rl] = s.connections[0]!.request;
      expect(hex(encode(handshakeRequest(), 0))).toBe(hs!.hex);
      expect(hex(encode(routeListRequest(), 1))).toBe(rl!.hex);
    }
  });

  it('encodes WRITE like session::write_file, given the same timestamp', () => {
    for (const name of ['cxx_write', 'cxx_write_two_groups']) {
      const captured = requests(name)[2]!;
      const io = captured.payload!.dnet_io_attr;
      const id = Buffer.from(session(name).key!.id, 'hex');
      const data = Buffer.from(captured.payload!.data.data_hex, 'hex');
      const ours = writeRequest(id, 1, 1, { ioFlags: 0, offset: 0, num: 0, tsec: io.timestamp.tsec, tnsec: io.timestamp.tnsec }, data);
      expect(hex(encode(ours, captured.cmd.trans))).toBe(captured.hex);
    }
  });

  it('encodes LOOKUP, READ (whole and ranged) and DEL like lookup, read_latest and remove', () => {
    const id = Buffer.from(session('cxx_lookup').key!.id, 'hex');
    expect(hex(encode(lookupRequest(id, 1), 2))).toBe(requests('cxx_lookup')[2]!.hex);
    expect(hex(encode(lookupRequest(id, 1), 2))).toBe(requests('cxx_read_latest')[2]!.hex);
    expect(hex(encode(readRequest(id, 1, 1, 0, 0), 3))).toBe(requests('cxx_read_latest')[3]!.hex);
    expect(hex(encode(readRequest(id, 1, 1, 6, 5), 3))).toBe(requests('cxx_read_latest_range')[3]!.hex);
    expect(hex(encode(removeRequest(id, 1, 1), 2))).toBe(requests('cxx_remove')[2]!.hex);
    expect(hex(encode(backendStatusRequest(), 2))).toBe(requests('cxx_backend_status')[2]!.hex);
  });
});
