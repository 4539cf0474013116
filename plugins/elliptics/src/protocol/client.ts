/**
 * A client for an Elliptics 2.26 cluster over the native protocol: it connects to every node, learns the
 * route table from the handshake replies (per group, the DHT ids of each backend), discovers further nodes
 * with ROUTE_LIST, sends each key to the backend that owns it, and reconnects dropped nodes.
 *
 * Replication follows the old driver's session: writes and removes go to every group and succeed on a
 * quorum (groups/2 + 1); reads pick the newest replica.
 */
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { currentSignal } from '@stowage/backend-kit';
import { IoFlags, Status, commandName } from './constants.js';
import type { Frame } from './framer.js';
import { EllipticsNetworkError, EllipticsStatusError, NodeConnection } from './connection.js';
import { compareIds } from './ids.js';
import {
  type ReadReply,
  type Request,
  type WriteParams,
  decodeFileInfoReply,
  decodeReadReply,
  decodeRouteReply,
  lookupRequest,
  readRequest,
  removeRequest,
  routeListRequest,
  writeRequest,
} from './messages.js';
import { type FileInfo, type NodeAddress, formatAddress } from './structs.js';

export interface ClientLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface ClientOptions {
  nodes: NodeAddress[];
  groups: number[];
  /** per-transaction timeout (the seed's wait_timeout) */
  waitTimeoutMs: number;
  /** how often dropped nodes are reconnected and routes refreshed (the seed's check_timeout) */
  checkTimeoutMs: number;
  logger: ClientLogger;
}

interface RouteEntry {
  id: Buffer;
  backendId: number;
  node: string;
}

interface NodeState {
  address: NodeAddress;
  connection?: NodeConnection;
  connecting?: Promise<NodeConnection>;
  /** route entries this node announced, per group */
  routes: Map<number, RouteEntry[]>;
}

export type GroupResult<T> = { groupId: number; ok: true; value: T } | { groupId: number; ok: false; error: Error };

/** Where a key's newest replica lives, and what it looks like. */
export interface ReplicaInfo {
  groupId: number;
  size: number;
  mtime: { tsec: number; tnsec: number };
  /** other groups holding the same version (same size and time), to read from when `groupId` fails */
  alternates: number[];
}

export class QuorumError extends Error {
  override readonly name = 'EllipticsQuorumError';
  constructor(
    readonly operation: string,
    readonly succeeded: number,
    readonly needed: number,
    readonly failures: Error[],
  ) {
    super(`elliptics ${operation}: ${succeeded} of the groups succeeded, ${needed} needed (${failures.map((e) => e.message).join('; ')})`);
  }
}

export const isStatus = (err: unknown, status: number): boolean => err instanceof EllipticsStatusError && err.status === status;

/** Whether `err` is the abort of the signal the current driver call runs under (its client went away). */
export const isCallerAbort = (err: unknown): boolean => {
  const signal = currentSignal();
  return signal?.aborted === true && err === signal.reason;
};

export class EllipticsClient {
  private readonly nodes = new Map<string, NodeState>();
  private checker: NodeJS.Timeout | undefined;
  private closed = false;

  /** address families of the configured remotes: a discovered node is reached the same way */
  private readonly families: Set<number>;

  constructor(private readonly options: ClientOptions) {
    this.families = new Set(options.nodes.map((n) => n.family));
  }

  /** Whether every group holds `replica`'s version (after every whole replicated write, all of them do). */
  heldByEveryGroup(replica: ReplicaInfo): boolean {
    return replica.alternates.length + 1 >= this.groups.length;
  }

  get groups(): readonly number[] {
    return this.options.groups;
  }

  get quorum(): number {
    return Math.floor(this.options.groups.length / 2) + 1;
  }

  /** Connects to every configured node; fails when none answers or no configured group has a route. */
  async connect(): Promise<void> {
    const resolved = await Promise.allSettled(this.options.nodes.map((n) => resolveAddress(n)));
    const failures: Error[] = [];
    resolved.forEach((r, i) => {
      if (r.status === 'fulfilled') this.addNode(r.value);
      else failures.push(new EllipticsNetworkError(`cannot resolve ${formatAddress(this.options.nodes[i]!)}: ${(r.reason as Error).message}`, formatAddress(this.options.nodes[i]!)));
    });
    const results = await Promise.allSettled([...this.nodes.keys()].map((key) => this.ensureConnected(key)));
    failures.push(...results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error));
    for (const err of failures) this.options.logger.warn({ err: err.message }, 'elliptics node unreachable');
    if (!this.options.groups.some((g) => this.routeTable(g).length > 0)) {
      throw new EllipticsNetworkError(
        `no route to any of the groups ${this.options.groups.join(', ')} after connecting to ${this.options.nodes.map(formatAddress).join(' ')}` +
          (failures.length > 0 ? `: ${failures.map((e) => e.message).join('; ')}` : ''),
        this.options.nodes.map(formatAddress).join(' '),
      );
    }
    this.checker = setInterval(() => void this.check(), this.options.checkTimeoutMs);
    this.checker.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.checker) clearInterval(this.checker);
    for (const state of this.nodes.values()) state.connection?.close();
  }

  /** The backend owning `id` in `groupId`: the greatest route id <= id, wrapping to the last (dnet_idc_search). */
  route(groupId: number, id: Buffer): RouteEntry | undefined {
    const table = this.routeTable(groupId);
    if (table.length === 0) return undefined;
    let owner = table[table.length - 1]!;
    for (const entry of table) {
      if (compareIds(entry.id, id) <= 0) owner = entry;
      else break;
    }
    return owner;
  }

  // ------------------------------------------------------------ single-group operations

  // LOOKUP and READ change nothing, so a caller that went away (the signal of the driver call they run
  // under, signal-scope in @stowage/backend-kit) abandons them at once and their replies are skipped.
  // WRITE and DEL run to their reply: the server carries them out anyway, and the driver must know.

  async lookup(groupId: number, id: Buffer): Promise<FileInfo> {
    const frame = await this.request(groupId, id, () => lookupRequest(id, groupId), true, currentSignal());
    return decodeFileInfoReply(frame);
  }

  async read(groupId: number, id: Buffer, offset: number, size: number): Promise<ReadReply> {
    const frame = await this.request(groupId, id, (route) => readRequest(id, groupId, route.backendId, offset, size), true, currentSignal());
    return decodeReadReply(frame);
  }

  async write(groupId: number, id: Buffer, params: WriteParams, data: Uint8Array): Promise<FileInfo> {
    const frame = await this.request(groupId, id, (route) => writeRequest(id, groupId, route.backendId, params, data), (params.ioFlags & IoFlags.APPEND) === 0);
    return decodeFileInfoReply(frame);
  }

  async remove(groupId: number, id: Buffer): Promise<void> {
    await this.request(groupId, id, (route) => removeRequest(id, groupId, route.backendId), true);
  }

  // ------------------------------------------------------------ replicated operations

  /** Runs `op` in every group at once and collects each group's outcome; a caller's abort is not a group's failure, and is thrown. */
  async eachGroup<T>(op: (groupId: number) => Promise<T>): Promise<GroupResult<T>[]> {
    const results = await Promise.all(
      this.options.groups.map(async (groupId): Promise<GroupResult<T>> => {
        try {
          return { groupId, ok: true, value: await op(groupId) };
        } catch (error) {
          return { groupId, ok: false, error: error as Error };
        }
      }),
    );
    const aborted = results.find((r) => !r.ok && isCallerAbort(r.error));
    if (aborted && !aborted.ok) throw aborted.error;
    return results;
  }

  /** Writes to every group; resolves when a quorum of groups stored it. */
  async writeQuorum(id: Buffer, params: WriteParams, data: Uint8Array): Promise<number[]> {
    const results = await this.eachGroup((g) => this.write(g, id, params, data));
    return this.requireQuorum('WRITE', results);
  }

  requireQuorum<T>(operation: string, results: GroupResult<T>[]): number[] {
    const ok = results.filter((r) => r.ok).map((r) => r.groupId);
    if (ok.length < this.quorum) {
      throw new QuorumError(operation, ok.length, this.quorum, results.flatMap((r) => (r.ok ? [] : [r.error])));
    }
    return ok;
  }

  /**
   * The newest replica of a key, or undefined when no group has it. LOOKUP does not see zero-size records
   * (a 2.26 server answers -2), so a key that every group misses is also probed with a READ, which does.
   */
  async newest(id: Buffer): Promise<ReplicaInfo | undefined> {
    const looked = await this.eachGroup((g) => this.lookup(g, id));
    const found = looked.flatMap((r) => (r.ok ? [{ groupId: r.groupId, size: r.value.size, mtime: r.value.mtime }] : []));
    if (found.length > 0) return pickNewest(found);
    this.throwUnlessAllMissing('LOOKUP', looked);
    const probed = await this.eachGroup((g) => this.read(g, id, 0, 0));
    const empty = probed.flatMap((r) =>
      r.ok ? [{ groupId: r.groupId, size: r.value.io.totalSize, mtime: { tsec: r.value.io.tsec, tnsec: r.value.io.tnsec } }] : [],
    );
    if (empty.length > 0) return pickNewest(empty);
    this.throwUnlessAllMissing('READ', probed);
    return undefined;
  }

  /** Removes a key from every group. Resolves true when some group had it; a quorum must answer. */
  async removeQuorum(id: Buffer): Promise<boolean> {
    const results = await this.eachGroup((g) => this.remove(g, id));
    const answered = results.filter((r) => r.ok || isStatus(r.error, Status.ENOENT));
    if (answered.length < this.quorum) {
      throw new QuorumError('DEL', answered.length, this.quorum, results.flatMap((r) => (r.ok ? [] : [r.error])));
    }
    return results.some((r) => r.ok);
  }

  /** A key is missing when every failure is ENOENT or a quorum of groups says ENOENT; otherwise the cluster could not tell. */
  private throwUnlessAllMissing<T>(operation: string, results: GroupResult<T>[]): void {
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    const missing = errors.filter((e) => isStatus(e, Status.ENOENT)).length;
    if (missing === errors.length || missing >= this.quorum) return;
    throw new QuorumError(operation, missing, this.quorum, errors.filter((e) => !isStatus(e, Status.ENOENT)));
  }

  // ------------------------------------------------------------ plumbing

  /**
   * Sends a request to the backend owning the key. A request lost with a dropped connection is sent once
   * more on a fresh connection when repeating it is harmless (everything but APPEND).
   */
  private async request(groupId: number, id: Buffer, build: (route: RouteEntry) => Request, idempotent: boolean, signal?: AbortSignal): Promise<Frame> {
    const route = this.route(groupId, id);
    const command = commandName(build({ id, backendId: 0, node: '' }).header.cmd);
    if (!route) throw new EllipticsStatusError(Status.ENXIO, command, 'no-route', groupId);
    let frames: Frame[];
    try {
      frames = await (await this.ensureConnected(route.node)).send(build(route), this.options.waitTimeoutMs, undefined, signal);
    } catch (err) {
      if (!(idempotent && err instanceof EllipticsNetworkError && err.dropped)) throw err;
      this.options.logger.info({ node: route.node, command }, 'elliptics request lost with its connection; resending');
      frames = await (await this.ensureConnected(route.node)).send(build(route), this.options.waitTimeoutMs, undefined, signal);
    }
    const last = frames[frames.length - 1]!;
    if (last.header.status < 0) throw new EllipticsStatusError(last.header.status, command, route.node, groupId);
    // WRITE, READ and LOOKUP answer with exactly one frame; DEL with NEED_ACK with a bare ACK.
    return frames[0]!;
  }

  private addNode(address: NodeAddress): string {
    const key = formatAddress(address);
    if (!this.nodes.has(key)) this.nodes.set(key, { address, routes: new Map() });
    return key;
  }

  private routeTable(groupId: number): RouteEntry[] {
    const entries: RouteEntry[] = [];
    for (const state of this.nodes.values()) entries.push(...(state.routes.get(groupId) ?? []));
    return entries.sort((a, b) => compareIds(a.id, b.id));
  }

  private ensureConnected(key: string): Promise<NodeConnection> {
    const state = this.nodes.get(key);
    if (!state) return Promise.reject(new EllipticsNetworkError(`unknown node ${key}`, key));
    if (state.connection?.isOpen) return Promise.resolve(state.connection);
    if (this.closed) return Promise.reject(new EllipticsNetworkError('client closed', key));
    state.connecting ??= this.openNode(state).finally(() => {
      state.connecting = undefined;
    });
    return state.connecting;
  }

  private async openNode(state: NodeState): Promise<NodeConnection> {
    const key = formatAddress(state.address);
    const connection = new NodeConnection(state.address, { connectTimeoutMs: this.options.waitTimeoutMs });
    connection.on('closed', (err: Error) => {
      if (!this.closed) this.options.logger.warn({ node: key, err: err.message }, 'elliptics connection dropped');
    });
    let hs;
    try {
      hs = await connection.open();
    } catch (err) {
      connection.close();
      throw err;
    }
    const [major, minor] = hs.serverVersion;
    if (major !== 2 || minor !== 26) {
      connection.close();
      throw new EllipticsNetworkError(`${key} runs Elliptics ${hs.serverVersion.join('.')}; this client speaks 2.26`, key);
    }
    const routes = new Map<number, RouteEntry[]>();
    for (const backend of hs.route.backends ?? []) {
      const list = routes.get(backend.groupId) ?? [];
      for (const id of backend.ids) list.push({ id, backendId: backend.backendId, node: key });
      routes.set(backend.groupId, list);
    }
    state.routes = routes;
    state.connection = connection;
    this.options.logger.debug({ node: key, groups: [...routes.keys()] }, 'elliptics node connected');
    await this.discover(connection);
    return connection;
  }

  /** ROUTE_LIST names the other nodes the server knows; connect to those not seen yet. */
  private async discover(connection: NodeConnection): Promise<void> {
    let frames: Frame[];
    try {
      frames = await connection.send(routeListRequest(), this.options.waitTimeoutMs);
    } catch (err) {
      this.options.logger.warn({ node: connection.label, err: (err as Error).message }, 'elliptics ROUTE_LIST failed');
      return;
    }
    const fresh: string[] = [];
    for (const frame of frames) {
      if (frame.header.status < 0 || frame.payload.length === 0) continue;
      const route = decodeRouteReply(frame);
      // Each node is listed with node_addr_num addresses (one per configured interface); one connection per node.
      const perNode = Math.max(1, route.nodeAddrNum);
      for (let i = 0; i < route.addrs.length; i += perNode) {
        const addresses = route.addrs.slice(i, i + perNode);
        if (addresses.some((a) => this.nodes.has(formatAddress(a)))) continue;
        const address = addresses.find((a) => this.families.has(a.family)) ?? addresses[0]!;
        fresh.push(this.addNode(address));
      }
    }
    await Promise.allSettled(fresh.map((key) => this.ensureConnected(key)));
  }

  private async check(): Promise<void> {
    for (const [key, state] of this.nodes) {
      if (state.connection?.isOpen || state.connecting) continue;
      try {
        await this.ensureConnected(key);
        this.options.logger.info({ node: key }, 'elliptics node reconnected');
      } catch (err) {
        this.options.logger.debug({ node: key, err: (err as Error).message }, 'elliptics node still unreachable');
      }
    }
  }
}

function pickNewest(found: Omit<ReplicaInfo, 'alternates'>[]): ReplicaInfo {
  let best = found[0]!;
  for (const replica of found) if (newer(replica.mtime, best.mtime)) best = replica;
  const alternates = found
    .filter((r) => r !== best && r.size === best.size && r.mtime.tsec === best.mtime.tsec && r.mtime.tnsec === best.mtime.tnsec)
    .map((r) => r.groupId);
  return { ...best, alternates };
}

/** Whether time `a` is later than time `b`. */
export const newer = (a: { tsec: number; tnsec: number }, b: { tsec: number; tnsec: number }): boolean =>
  a.tsec > b.tsec || (a.tsec === b.tsec && a.tnsec > b.tnsec);

/** The `parent` a compare-and-swap write names: the sha512 of the content it expects the group to hold. */
export const casParent = (expected: Uint8Array): Buffer => createHash('sha512').update(expected).digest();

async function resolveAddress(address: NodeAddress): Promise<NodeAddress> {
  const { address: host } = await dnsLookup(address.host, { family: address.family === 10 ? 6 : 4 });
  return { ...address, host };
}

