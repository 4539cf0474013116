/**
 * Request frames as the reference C++ client (libelliptics 2.26) builds them, and typed views of replies.
 * The connection fills in `trans` and `size`.
 */
import { CLIENT_INDEXES_SHARD_COUNT, CLIENT_VERSION, CmdFlags, Command, IO_ATTR_SIZE } from './constants.js';
import type { Frame } from './framer.js';
import {
  type CmdHeaderInit,
  type FileInfo,
  type IoAttr,
  ProtocolError,
  type RoutePayload,
  decodeFileInfo,
  decodeIoAttr,
  decodeRoutePayload,
  encodeHandshakeId,
  encodeIoAttr,
} from './structs.js';

export interface Request {
  header: CmdHeaderInit;
  payload?: Buffer[];
}

export const handshakeRequest = (): Request => ({
  header: {
    cmd: Command.REVERSE_LOOKUP,
    flags: CmdFlags.DIRECT | CmdFlags.NOLOCK,
    id: encodeHandshakeId({ version: [...CLIENT_VERSION], indexesShardCount: CLIENT_INDEXES_SHARD_COUNT }),
  },
});

export const routeListRequest = (): Request => ({
  header: { cmd: Command.ROUTE_LIST, flags: CmdFlags.NEED_ACK | CmdFlags.DIRECT | CmdFlags.NOLOCK },
});

/** LOOKUP goes out with backend_id 0, as the C++ client sends it. */
export const lookupRequest = (id: Buffer, groupId: number): Request => ({
  header: { cmd: Command.LOOKUP, id, groupId, flags: CmdFlags.NEED_ACK },
});

export const readRequest = (id: Buffer, groupId: number, backendId: number, offset: number, size: number): Request => ({
  header: { cmd: Command.READ, id, groupId, backendId, flags: CmdFlags.NEED_ACK },
  payload: [encodeIoAttr({ id, offset, size })],
});

export interface WriteParams {
  /** dnet_io_attr.flags: 0, APPEND, PREPARE|PLAIN_WRITE, PLAIN_WRITE, COMMIT|PLAIN_WRITE, ... */
  ioFlags: number;
  offset: number;
  /** total size for PREPARE/COMMIT, offset+size for PLAIN_WRITE, 0 otherwise */
  num: number;
  tsec: number;
  tnsec: number;
  userFlags?: bigint;
  /** dnet_io_attr.parent: with IoFlags.CAS, the sha512 of the content the write expects to find */
  parent?: Buffer;
}

export const writeRequest = (id: Buffer, groupId: number, backendId: number, params: WriteParams, data: Uint8Array): Request => ({
  header: { cmd: Command.WRITE, id, groupId, backendId, flags: CmdFlags.NEED_ACK },
  payload: [
    encodeIoAttr({
      id,
      flags: params.ioFlags,
      offset: params.offset,
      num: params.num,
      tsec: params.tsec,
      tnsec: params.tnsec,
      userFlags: params.userFlags ?? 0n,
      ...(params.parent ? { parent: params.parent } : {}),
      size: data.length,
    }),
    Buffer.from(data.buffer, data.byteOffset, data.length),
  ],
});

export const removeRequest = (id: Buffer, groupId: number, backendId: number): Request => ({
  header: { cmd: Command.DEL, id, groupId, backendId, flags: CmdFlags.NEED_ACK },
  payload: [encodeIoAttr({ id })],
});

export const backendStatusRequest = (): Request => ({
  header: { cmd: Command.BACKEND_STATUS, flags: CmdFlags.NEED_ACK | CmdFlags.DIRECT },
});

// ---------------------------------------------------------------- replies

export interface ReadReply {
  io: IoAttr;
  data: Buffer;
}

export function decodeReadReply(frame: Frame): ReadReply {
  if (frame.payload.length < IO_ATTR_SIZE) throw new ProtocolError(`READ reply of ${frame.payload.length} bytes has no dnet_io_attr`);
  const io = decodeIoAttr(frame.payload);
  const data = frame.payload.subarray(IO_ATTR_SIZE);
  if (data.length !== io.size) throw new ProtocolError(`READ reply carries ${data.length} bytes, io.size says ${io.size}`);
  return { io, data };
}

export const decodeFileInfoReply = (frame: Frame): FileInfo => decodeFileInfo(frame.payload);

export const decodeRouteReply = (frame: Frame): RoutePayload => decodeRoutePayload(frame.payload);
