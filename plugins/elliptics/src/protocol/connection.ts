/**
 * One TCP connection to one Elliptics node: transaction numbering, reply matching by `trans` (replies to
 * pipelined requests come back in any order), per-request timeouts, and failing every pending request
 * when the connection drops.
 */
import { EventEmitter } from 'node:events';
import { Socket, connect } from 'node:net';
import { CmdFlags, Command, Status } from './constants.js';
import { type Frame, FrameDecoder } from './framer.js';
import { handshakeRequest, type Request } from './messages.js';
import { type NodeAddress, type RoutePayload, decodeHandshakeId, decodeRoutePayload, encodeCmdHeader, formatAddress } from './structs.js';

export class EllipticsNetworkError extends Error {
  override readonly name = 'EllipticsNetworkError';
  constructor(
    message: string,
    readonly node: string,
    options?: { cause?: unknown; dropped?: boolean },
  ) {
    super(message, options);
    this.dropped = options?.dropped ?? false;
  }

  /** true when the connection went away under the request (as opposed to a timeout or a refused connect) */
  readonly dropped: boolean;
}

/** A reply with a negative status: `status` is -errno as the server sent it. */
export class EllipticsStatusError extends Error {
  override readonly name = 'EllipticsStatusError';
  constructor(
    readonly status: number,
    readonly command: string,
    readonly node: string,
    readonly groupId: number,
  ) {
    super(`elliptics ${command} on ${node} group ${groupId} failed with status ${status}`);
  }
}

interface Pending {
  frames: Frame[];
  resolve: (frames: Frame[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectionOptions {
  connectTimeoutMs: number;
  /** largest reply payload accepted (the driver asks for bounded ranges) */
  maxPayload?: number;
}

export interface HandshakeResult {
  serverVersion: [number, number, number, number];
  route: RoutePayload;
}

export class NodeConnection extends EventEmitter {
  readonly label: string;
  private socket: Socket | undefined;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private nextTrans = 1;
  private closedError: Error | undefined;

  constructor(
    readonly address: NodeAddress,
    private readonly options: ConnectionOptions,
  ) {
    super();
    this.label = formatAddress(address);
    this.decoder = new FrameDecoder(options.maxPayload ?? 256 * 1024 * 1024);
  }

  get isOpen(): boolean {
    return this.socket !== undefined && this.closedError === undefined;
  }

  /** Connects and performs the REVERSE_LOOKUP handshake; the server closes the socket on a version mismatch. */
  async open(): Promise<HandshakeResult> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.address.host, port: this.address.port, family: this.address.family === 10 ? 6 : 4 });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new EllipticsNetworkError(`connect to ${this.label} timed out after ${this.options.connectTimeoutMs} ms`, this.label));
      }, this.options.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new EllipticsNetworkError(`cannot connect to ${this.label}: ${err.message}`, this.label, { cause: err }));
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.fail(new EllipticsNetworkError(`connection to ${this.label} failed: ${err.message}`, this.label, { cause: err, dropped: true })),
    );
    socket.on('close', () => this.fail(new EllipticsNetworkError(`connection to ${this.label} closed`, this.label, { dropped: true })));

    const frames = await this.send(handshakeRequest(), this.options.connectTimeoutMs, 0);
    const reply = frames[frames.length - 1]!;
    if (reply.header.status !== Status.OK) {
      throw new EllipticsStatusError(reply.header.status, 'REVERSE_LOOKUP', this.label, 0);
    }
    return { serverVersion: decodeHandshakeId(reply.header.id).version, route: decodeRoutePayload(reply.payload) };
  }

  /**
   * Sends one request and resolves with every frame of its transaction (the last one lacks MORE).
   * A negative status is not an error here: callers interpret it.
   */
  send(request: Request, timeoutMs: number, trans = this.nextTrans++, signal?: AbortSignal): Promise<Frame[]> {
    if (this.closedError || !this.socket) {
      return Promise.reject(this.closedError ?? new EllipticsNetworkError(`not connected to ${this.label}`, this.label, { dropped: true }));
    }
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const socket = this.socket;
    const payload = request.payload ?? [];
    const size = payload.reduce((n, part) => n + part.length, 0);
    const header = encodeCmdHeader({ ...request.header, trans, size });
    return new Promise<Frame[]>((resolve, reject) => {
      // Whichever ends the transaction first (reply, timeout, abort, a dropped connection) settles it; the
      // others find it gone, and a reply that comes later is skipped like one to a timed-out request.
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(trans);
      };
      const onAbort = (): void => {
        done();
        reject(signal!.reason as Error);
      };
      const timer = setTimeout(() => {
        done();
        reject(new EllipticsNetworkError(`${commandLabel(request)} to ${this.label} timed out after ${timeoutMs} ms`, this.label));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(trans, {
        frames: [],
        resolve: (frames) => {
          done();
          resolve(frames);
        },
        reject: (err) => {
          done();
          reject(err);
        },
        timer,
      });
      // One frame goes out in one piece: cork so header and payload leave together.
      socket.cork();
      socket.write(header);
      for (const part of payload) socket.write(part);
      socket.uncork();
    });
  }

  close(): void {
    this.fail(new EllipticsNetworkError(`connection to ${this.label} closed by the client`, this.label));
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.fail(new EllipticsNetworkError(`bad frame from ${this.label}: ${(err as Error).message}`, this.label, { cause: err }));
      return;
    }
    for (const frame of frames) {
      const pending = this.pending.get(frame.header.trans);
      if (!pending) continue; // a late reply to a request that timed out or whose caller went away
      pending.frames.push(frame);
      if ((frame.header.flags & CmdFlags.MORE) === 0) {
        clearTimeout(pending.timer);
        this.pending.delete(frame.header.trans);
        pending.resolve(pending.frames);
      }
    }
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(err);
    }
    this.pending.clear();
    this.socket?.destroy();
    this.emit('closed', err);
  }
}

const commandLabel = (request: Request): string =>
  Object.entries(Command).find(([, v]) => v === request.header.cmd)?.[0] ?? `command ${request.header.cmd}`;
