/**
 * Splits a TCP byte stream into Elliptics frames: a 120-byte dnet_cmd header followed by `cmd.size` payload
 * bytes, with nothing in between. Each frame's payload is held in memory, so callers keep frames bounded
 * (the driver reads and writes in ranged chunks).
 */
import { CMD_HEADER_SIZE } from './constants.js';
import { type CmdHeader, ProtocolError, decodeCmdHeader } from './structs.js';

export interface Frame {
  header: CmdHeader;
  payload: Buffer;
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: CmdHeader | undefined;

  constructor(private readonly maxPayload: number) {}

  /** Feeds bytes; returns the frames they complete, in stream order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (!this.header) {
        if (this.buffered < CMD_HEADER_SIZE) break;
        const header = decodeCmdHeader(this.take(CMD_HEADER_SIZE));
        if (header.size > this.maxPayload) {
          throw new ProtocolError(`frame of ${header.size} bytes exceeds the limit of ${this.maxPayload}`);
        }
        this.header = header;
      }
      if (this.buffered < this.header.size) break;
      frames.push({ header: this.header, payload: this.take(this.header.size) });
      this.header = undefined;
    }
    return frames;
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = Buffer.from(joined.subarray(0, n));
    const rest = joined.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
