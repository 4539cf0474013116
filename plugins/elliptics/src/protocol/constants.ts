/**
 * Numbers of the Elliptics 2.26 native protocol, as observed on the wire (see docs/elliptics.md and the
 * captures in test/fixtures/elliptics). Everything on the wire is little-endian.
 */

export const CMD_HEADER_SIZE = 120;
export const IO_ATTR_SIZE = 208;
export const ADDR_SIZE = 32;
export const FILE_INFO_SIZE = 112;
export const ID_SIZE = 64;

export const Command = {
  LOOKUP: 1,
  REVERSE_LOOKUP: 2,
  JOIN: 3,
  WRITE: 4,
  READ: 5,
  ROUTE_LIST: 8,
  DEL: 11,
  STATUS: 13,
  AUTH: 16,
  INDEXES_UPDATE: 20,
  INDEXES_INTERNAL: 21,
  INDEXES_FIND: 22,
  BACKEND_STATUS: 26,
} as const;

export const commandName = (cmd: number): string =>
  Object.entries(Command).find(([, value]) => value === cmd)?.[0] ?? `CMD_${cmd}`;

/** dnet_cmd.flags */
export const CmdFlags = {
  NEED_ACK: 0x1,
  MORE: 0x2,
  DESTROY: 0x4,
  DIRECT: 0x8,
  NOLOCK: 0x10,
  CHECKSUM: 0x20,
  NOCACHE: 0x40,
  DIRECT_BACKEND: 0x80,
  TRACE_BIT: 0x100,
  REPLY: 0x200,
} as const;

/** dnet_io_attr.flags */
export const IoFlags = {
  APPEND: 0x2,
  PREPARE: 0x10,
  COMMIT: 0x20,
  OVERWRITE: 0x80,
  NOCSUM: 0x100,
  PLAIN_WRITE: 0x200,
  CACHE: 0x400,
  /** DNET_IO_FLAGS_COMPARE_AND_SWAP: the WRITE applies only if the stored record's checksum is io.parent (library/dnet.c dnet_cas_local) */
  CAS: 0x2000,
  CHECKSUM: 0x4000,
} as const;

/** dnet_io_attr.record_flags and dnet_file_info.record_flags */
export const RecordFlags = {
  REMOVE: 0x1,
  NOCSUM: 0x2,
  APPEND: 0x10,
  EXTHDR: 0x40,
  UNCOMMITTED: 0x80,
  CHUNKED_CSUM: 0x100,
} as const;

/** Negative errno values carried in dnet_cmd.status. */
export const Status = {
  OK: 0,
  EPERM: -1,
  ENOENT: -2,
  ENXIO: -6,
  E2BIG: -7,
  EINVAL: -22,
  /** a compare-and-swap WRITE found other content than expected */
  EBADFD: -77,
  EOPNOTSUPP: -95,
  ETIMEDOUT: -110,
} as const;

/** Address families as written in `host:port:family` and in dnet_addr. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** The version this client announces in its handshake (major.minor must match the server's). */
export const CLIENT_VERSION: readonly [number, number, number, number] = [2, 26, 11, 1];
/** The indexes shard count the reference C++ client announces; servers ignore it. */
export const CLIENT_INDEXES_SHARD_COUNT = 10;
