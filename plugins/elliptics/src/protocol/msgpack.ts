/**
 * The slice of msgpack (old spec, as msgpack-c 0.5.9 writes it: raw types, no str8/bin) that Elliptics 2.26
 * uses in INDEXES_FIND replies and stored index tables. Decoding only: this client writes no indexes.
 */
import { ProtocolError } from './structs.js';

export type MsgpackValue = number | bigint | boolean | null | Buffer | MsgpackValue[] | Map<MsgpackValue, MsgpackValue>;

export function decodeMsgpack(buf: Buffer): { value: MsgpackValue; used: number } {
  let o = 0;
  const need = (n: number): void => {
    if (o + n > buf.length) throw new ProtocolError(`msgpack: truncated at byte ${o}`);
  };
  const raw = (n: number): Buffer => {
    need(n);
    const out = Buffer.from(buf.subarray(o, o + n));
    o += n;
    return out;
  };
  const array = (n: number): MsgpackValue[] => Array.from({ length: n }, () => next());
  const map = (n: number): Map<MsgpackValue, MsgpackValue> => {
    const m = new Map<MsgpackValue, MsgpackValue>();
    for (let i = 0; i < n; i++) m.set(next(), next());
    return m;
  };
  const u = (size: 1 | 2 | 4): number => {
    need(size);
    const v = size === 1 ? buf.readUInt8(o) : size === 2 ? buf.readUInt16BE(o) : buf.readUInt32BE(o);
    o += size;
    return v;
  };
  function next(): MsgpackValue {
    need(1);
    const b = buf.readUInt8(o++);
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return array(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return raw(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xcc: return u(1);
      case 0xcd: return u(2);
      case 0xce: return u(4);
      case 0xcf: { need(8); const v = buf.readBigUInt64BE(o); o += 8; return v; }
      case 0xd0: { need(1); const v = buf.readInt8(o); o += 1; return v; }
      case 0xd1: { need(2); const v = buf.readInt16BE(o); o += 2; return v; }
      case 0xd2: { need(4); const v = buf.readInt32BE(o); o += 4; return v; }
      case 0xd3: { need(8); const v = buf.readBigInt64BE(o); o += 8; return v; }
      case 0xd9: case 0xc4: return raw(u(1));
      case 0xda: case 0xc5: return raw(u(2));
      case 0xdb: case 0xc6: return raw(u(4));
      case 0xdc: return array(u(2));
      case 0xdd: return array(u(4));
      case 0xde: return map(u(2));
      case 0xdf: return map(u(4));
      default: throw new ProtocolError(`msgpack: unsupported type byte 0x${b.toString(16)} at ${o - 1}`);
    }
  }
  const value = next();
  return { value, used: o };
}

export interface FoundObject {
  version: number;
  objectId: Buffer;
  /** index-table ids (not index-name ids) with the data stored for the object */
  indexes: { indexId: Buffer; data: Buffer }[];
}

/** An INDEXES_FIND result frame: `[[1, object_id, [[index_table_id, data], ...]], ...]`. */
export function decodeFindIndexesResult(buf: Buffer): FoundObject[] {
  const { value } = decodeMsgpack(buf);
  if (!Array.isArray(value)) throw new ProtocolError('INDEXES_FIND result is not an array');
  return value.map((entry) => {
    if (!Array.isArray(entry) || entry.length < 3) throw new ProtocolError('INDEXES_FIND entry is not [version, id, indexes]');
    const [version, objectId, indexes] = entry;
    if (typeof version !== 'number' || !Buffer.isBuffer(objectId) || !Array.isArray(indexes)) {
      throw new ProtocolError('INDEXES_FIND entry has the wrong types');
    }
    return {
      version,
      objectId,
      indexes: indexes.map((ix) => {
        if (!Array.isArray(ix) || !Buffer.isBuffer(ix[0]) || !Buffer.isBuffer(ix[1])) throw new ProtocolError('INDEXES_FIND index entry is not [id, data]');
        return { indexId: ix[0], data: ix[1] };
      }),
    };
  });
}
