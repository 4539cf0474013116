/**
 * The running hash of an upload, computed off the request loop.
 *
 * A 256 MB push cost the main thread about 390 ms of CPU, of which sha256 was about 140 ms (docs/bench.md):
 * the one thread that reads every socket, parses HTTP and answers `GET /v2/` also hashed every byte. Here
 * the hashing goes to one long-lived worker thread shared by all uploads of the process. The batches it hashes
 * are the upload batches themselves (buffer-pool.ts backs them with SharedArrayBuffers), so nothing is
 * copied: the worker reads the batch in place while the thread pool writes it to the file, and the batch
 * goes back to the pool only when both are done (upload-body.ts).
 *
 * One thread, so the hashes of one upload are computed in the order they were asked (a thread reads its
 * messages in order). A hash whose thread died (killed, out of memory) is marked lost rather than failing
 * its upload: the upload goes on, and its commit re-hashes the stored bytes from storage as it does for an
 * upload whose earlier chunks another process received (uploads.ts). The next hash starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import { Digester, type DigestAlgorithm } from './digest.js';

/** The running hash of one upload. */
export interface UploadHash {
  readonly algorithm: DigestAlgorithm;
  /** bytes handed to `update` so far */
  readonly size: number;
  /** the hash can no longer give a digest (its thread died): the upload's commit hashes what storage holds */
  readonly lost: boolean;
  /**
   * Hashes `bytes`, which must stay unchanged until the returned promise settles (undefined: hashed
   * already). Never rejects: a hash that cannot be computed is marked `lost`.
   */
  update(bytes: Uint8Array): Promise<void> | undefined;
  /** The digest of everything updated so far (`algorithm:hex`); rejects when the hash is lost. */
  digest(): Promise<string>;
  /** Frees what the hash holds (the session is finished, cancelled or forgotten). */
  dispose(): void;
}

/** Where uploads' running hashes are computed. */
export interface UploadHasher {
  open(algorithm: DigestAlgorithm): UploadHash;
}

/** Hashes on the calling thread (the small-body path, and a process configured to stay on one thread). */
export const inlineHasher: UploadHasher = {
  open: (algorithm) => new InlineHash(algorithm),
};

/**
 * A class, so that `size` is a getter on its prototype: an object literal with a getter, made per upload, got a
 * hidden class of its own and kept its closure (the digester) alive through young-generation collections until
 * the next mark-compact (docs/bench.md, "Manifest GET tail, fourth pass").
 */
class InlineHash implements UploadHash {
  readonly lost = false;
  private readonly digester: Digester;

  constructor(readonly algorithm: DigestAlgorithm) {
    this.digester = new Digester(algorithm);
  }

  get size(): number {
    return this.digester.size;
  }

  update(bytes: Uint8Array): undefined {
    this.digester.update(bytes);
    return undefined;
  }

  async digest(): Promise<string> {
    return this.digester.digest();
  }

  dispose(): void {}
}

/**
 * The worker's program, evaluated as CommonJS: plain JavaScript rather than a compiled file beside this one,
 * so the same source runs from dist/ and under the test runner (which loads src/ directly).
 */
const HASH_THREAD_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
const memories = new Map();
parentPort.on('message', (message) => {
  try {
    if (message.op === 'open') hashes.set(message.stream, createHash(message.algorithm));
    else if (message.op === 'close') hashes.delete(message.stream);
    else if (message.op === 'memory') memories.set(message.memory, new Uint8Array(message.buffer));
    else if (message.op === 'forget') memories.delete(message.memory);
    else if (message.op === 'update') {
      const bytes = typeof message.memory === 'number' ? memories.get(message.memory) : new Uint8Array(message.memory);
      hashes.get(message.stream).update(bytes.subarray(message.offset, message.offset + message.length));
      parentPort.postMessage({ ticket: message.ticket });
    } else if (message.op === 'digest') {
      parentPort.postMessage({ ticket: message.ticket, hex: hashes.get(message.stream).copy().digest('hex') });
    }
  } catch (err) {
    parentPort.postMessage({ ticket: message.ticket, error: String((err && err.message) || err) });
  }
});
`;

/**
 * The thread's heap holds a hash state per upload and the small messages in flight. V8's default sizes let it
 * grow by about 20 MiB under 200 uploads at once (peak resident set 140 against 118 MiB without the thread,
 * docs/bench.md "Large uploads, eighth pass"); these keep it to a few MiB. A thread that outgrows them ends
 * like a crashed one: its hashes are lost and their uploads hashed from storage at the commit.
 */
const HASH_THREAD_HEAP = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 };

type Reply = { readonly ticket: number; readonly hex?: string; readonly error?: string };

interface Pending {
  resolve(hex: string | undefined): void;
  reject(error: Error): void;
}

/** One worker thread hashing every upload's batches; started when first needed, again after it died. */
export class HashThread implements UploadHasher {
  private worker: Worker | undefined;
  /** counts the threads started: a hash opened on an earlier one is lost */
  private generation = 0;
  private nextStream = 0;
  private nextTicket = 0;
  private readonly pending = new Map<number, Pending>();
  /** told when a running thread stops (a crash, a heap limit, `terminate`) */
  private readonly stopListeners = new Set<(exitCode: number) => void>();
  /**
   * The shared buffers the running thread knows, by number: each is sent to it once, and an update names
   * its buffer by number. A SharedArrayBuffer sent with every update would be a new object in the thread
   * each time, whose 256 KiB the thread's heap counts as external memory (and collects with mark-compacts).
   */
  private memories = new WeakMap<SharedArrayBuffer, number>();
  private nextMemory = 0;
  /** tells the thread to let go of a pool buffer the garbage collector took (a discarded one) */
  private readonly forgotten = new FinalizationRegistry<{ memory: number; generation: number }>(({ memory, generation }) => {
    if (this.generation === generation) this.tell({ op: 'forget', memory });
  });

  open(algorithm: DigestAlgorithm): UploadHash {
    const worker = this.running();
    const stream = this.nextStream++;
    worker.postMessage({ op: 'open', stream, algorithm });
    return new ThreadHash(this, this.generation, stream, algorithm);
  }

  /**
   * Starts the thread now rather than with the first hash opened: a server about to take uploads starts it while
   * idle, since a worker's start (its own isolate) cost the first large upload about 50 ms and 40-80 ms of CPU.
   */
  start(): void {
    this.running();
  }

  /** Stops the thread (as a crash would, for the hashes it held); the next hash opened starts another. */
  async terminate(): Promise<void> {
    const worker = this.worker;
    if (worker) await worker.terminate();
  }

  /**
   * Calls `listener` each time a running thread stops: its hashes are lost, and their uploads are hashed from
   * storage at their commit, which an operator should hear of. Answers a function that stops the calls.
   */
  onStopped(listener: (exitCode: number) => void): () => void {
    this.stopListeners.add(listener);
    return () => this.stopListeners.delete(listener);
  }

  /** Whether a thread is running now (started by a hash opened since the last one ended). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Whether hashes opened on thread `generation` can still be computed. */
  alive(generation: number): boolean {
    return this.worker !== undefined && this.generation === generation;
  }

  /** Sends `message` to the thread; resolves with its reply, rejects when the thread dies first. */
  ask(message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<string | undefined> {
    const worker = this.worker!;
    const ticket = this.nextTicket++;
    return new Promise<string | undefined>((resolve, reject) => {
      // a thread with questions pending keeps the process alive; an idle one does not
      if (this.pending.size === 0) worker.ref();
      this.pending.set(ticket, { resolve, reject });
      worker.postMessage({ ...message, ticket }, transfer);
    });
  }

  tell(message: Record<string, unknown>): void {
    this.worker?.postMessage(message);
  }

  /** The number under which the running thread knows `buffer`, sent to it the first time. */
  memoryOf(buffer: SharedArrayBuffer): number {
    let memory = this.memories.get(buffer);
    if (memory === undefined) {
      memory = this.nextMemory++;
      this.memories.set(buffer, memory);
      this.tell({ op: 'memory', memory, buffer });
      this.forgotten.register(buffer, { memory, generation: this.generation });
    }
    return memory;
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(HASH_THREAD_SOURCE, { eval: true, name: 'stowage upload hasher', resourceLimits: HASH_THREAD_HEAP });
    this.generation++;
    this.memories = new WeakMap();
    worker.on('message', (reply: Reply) => this.answered(reply));
    // an uncaught error in the thread ends it: 'exit' follows and settles what was pending
    worker.on('error', () => undefined);
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const failure = new Error(`the upload hash thread stopped (exit code ${code})`);
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const question of pending) question.reject(failure);
      for (const listener of this.stopListeners) listener(code);
    });
    // after the listeners: adding a 'message' listener refs the thread again, and an idle thread must not keep
    // the process alive (a thread started before any upload, `start`, would hold `stowage serve` after SIGTERM)
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private answered(reply: Reply): void {
    const question = this.pending.get(reply.ticket);
    if (!question) return;
    this.pending.delete(reply.ticket);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.error !== undefined) question.reject(new Error(reply.error));
    else question.resolve(reply.hex);
  }
}

class ThreadHash implements UploadHash {
  private bytes = 0;
  private failed = false;

  constructor(
    private readonly thread: HashThread,
    private readonly generation: number,
    private readonly stream: number,
    readonly algorithm: DigestAlgorithm,
  ) {}

  get size(): number {
    return this.bytes;
  }

  get lost(): boolean {
    return this.failed || !this.thread.alive(this.generation);
  }

  update(bytes: Uint8Array): Promise<void> | undefined {
    this.bytes += bytes.length;
    if (this.lost) return undefined;
    // bytes in shared memory are read in place; others (a caller's own buffer) are copied into the message
    let asked: Promise<string | undefined>;
    if (bytes.buffer instanceof SharedArrayBuffer) {
      asked = this.thread.ask({ op: 'update', stream: this.stream, memory: this.thread.memoryOf(bytes.buffer), offset: bytes.byteOffset, length: bytes.length });
    } else {
      const copy = new Uint8Array(bytes);
      asked = this.thread.ask({ op: 'update', stream: this.stream, memory: copy.buffer, offset: 0, length: copy.length }, [copy.buffer]);
    }
    return asked.then(
      () => undefined,
      () => {
        this.failed = true;
      },
    );
  }

  async digest(): Promise<string> {
    if (this.lost) throw new Error('the upload hash was lost with its thread');
    const hex = await this.thread.ask({ op: 'digest', stream: this.stream });
    return `${this.algorithm}:${hex}`;
  }

  dispose(): void {
    if (this.thread.alive(this.generation)) this.thread.tell({ op: 'close', stream: this.stream });
  }
}

/** The hash thread every upload of this process shares. */
export const uploadHashThread = new HashThread();
