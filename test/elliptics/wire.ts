/** A raw frame-level TCP client for tests: sends bytes, collects reply frames, notices a closed socket. */
import { type Socket, connect } from 'node:net';
import { type Frame, FrameDecoder } from '../../plugins/elliptics/src/protocol/framer.js';

export class RawConnection {
  private readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    const decoder = new FrameDecoder(512 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...decoder.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for `n` frames (or the socket closing, or the timeout) and returns what arrived. */
  async take(n: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames.splice(0, n);
  }

  get pendingFrames(): number {
    return this.frames.length;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
