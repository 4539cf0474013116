/**
 * The driver's options as the schema admits them (seed spellings mapped by the manifest's legacyOptions),
 * normalised into what the client needs. The schema catches malformed values; this module catches what a
 * pattern cannot say (an IPv6 literal with family 2) and applies defaults when the factory is called directly.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { durationMs } from '@stowage/backend-kit';
import { AF_INET, AF_INET6 } from './protocol/constants.js';
import type { NodeAddress } from './protocol/structs.js';

export interface EllipticsOptions {
  nodes: string[] | string;
  groups?: number[] | string;
  waittimeout?: number | string;
  checktimeout?: number | string;
  iothreadnum?: number | string;
  netthreadnum?: number | string;
  nonblockingiothreadnum?: number | string;
  verbosity?: number | string;
  loglevel?: string;
  logfile?: string;
  namespace?: string;
  nodeflags?: number | string;
  chunksize?: number;
}

export type ClientLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ResolvedOptions {
  nodes: NodeAddress[];
  groups: number[];
  waitTimeoutMs: number;
  checkTimeoutMs: number;
  namespace: string;
  chunkSize: number;
  logLevel: ClientLogLevel;
  /** undefined: log through stowage's logger */
  logFile?: string;
}

/** A bad option value, with the option's name (the config error names the file and its place in it). */
export class EllipticsOptionError extends Error {
  override readonly name = 'EllipticsOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`elliptics option ${option}: ${message}`);
  }
}

export function parseNode(text: string, option: string): NodeAddress {
  const match = /^(.+):(\d{1,5}):(\d+)$/.exec(text.trim());
  if (!match) throw new EllipticsOptionError(option, `${JSON.stringify(text)} is not host:port:family (e.g. 127.0.0.1:1025:2)`);
  const [, rawHost, rawPort, rawFamily] = match as unknown as [string, string, string, string];
  const port = Number(rawPort);
  const family = Number(rawFamily);
  if (port < 1 || port > 65535) throw new EllipticsOptionError(option, `${JSON.stringify(text)}: port ${port} is not in 1..65535`);
  if (family !== AF_INET && family !== AF_INET6) {
    throw new EllipticsOptionError(option, `${JSON.stringify(text)}: family ${family} is neither 2 (IPv4) nor 10 (IPv6)`);
  }
  const host = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  if (family === AF_INET && isIPv6(host)) {
    throw new EllipticsOptionError(option, `${JSON.stringify(text)}: ${host} is an IPv6 address, so the family must be 10`);
  }
  if (family === AF_INET6 && isIPv4(host)) {
    throw new EllipticsOptionError(option, `${JSON.stringify(text)}: ${host} is an IPv4 address, so the family must be 2`);
  }
  if (!isIPv4(host) && !isIPv6(host) && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) {
    throw new EllipticsOptionError(option, `${JSON.stringify(text)}: ${JSON.stringify(host)} is not a host name or address`);
  }
  return { host, port, family };
}

function parseNodes(value: EllipticsOptions['nodes']): NodeAddress[] {
  if (value === undefined) throw new EllipticsOptionError('nodes', 'is required: list the Elliptics remotes as host:port:family');
  const list = Array.isArray(value) ? value : value.trim().split(/\s+/).filter((s) => s !== '');
  if (list.length === 0) throw new EllipticsOptionError('nodes', 'lists no remote');
  return list.map((text, i) => parseNode(text, Array.isArray(value) ? `nodes[${i}]` : 'nodes'));
}

function parseGroups(value: EllipticsOptions['groups']): number[] {
  if (value === undefined) return [1];
  const list = Array.isArray(value)
    ? value
    : (() => {
        if (!/^\s*\[?\s*[0-9]+(?:\s*[,:\s]\s*[0-9]+)*\s*\]?\s*$/.test(value)) {
          throw new EllipticsOptionError('groups', `${JSON.stringify(value)} is not a list of group numbers such as [1, 2, 3]`);
        }
        return value.replace(/[[\]]/g, ' ').trim().split(/[\s,:]+/).map(Number);
      })();
  if (list.length === 0) throw new EllipticsOptionError('groups', 'lists no group');
  list.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0 || g > 0xffffffff) throw new EllipticsOptionError(`groups[${i}]`, `${g} is not a group number`);
  });
  if (new Set(list).size !== list.length) throw new EllipticsOptionError('groups', `${JSON.stringify(list)} names a group twice`);
  return list;
}

function positiveInt(value: number | string | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^[1-9][0-9]*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new EllipticsOptionError(option, `${JSON.stringify(value)} is not a positive whole number`);
  return n;
}

const VERBOSITY: Record<string, ClientLogLevel> = {
  '0': 'debug',
  '1': 'info',
  '2': 'info',
  '3': 'warn',
  '4': 'error',
  debug: 'debug',
  notice: 'info',
  info: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
};

function logLevel(options: EllipticsOptions): ClientLogLevel {
  const option = options.loglevel !== undefined ? 'loglevel' : 'verbosity';
  const raw = String(options.loglevel ?? options.verbosity ?? 'error');
  const level = VERBOSITY[raw];
  if (!level) throw new EllipticsOptionError(option, `${JSON.stringify(raw)} is not 0..4 or one of debug, notice, info, warning, error`);
  return level;
}

export function resolveOptions(options: EllipticsOptions, baseDir: string): ResolvedOptions {
  const namespace = options.namespace ?? 'DOCKER';
  if (namespace.includes('\0')) throw new EllipticsOptionError('namespace', 'must not contain NUL');
  const chunkSize = options.chunksize ?? 1024 * 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 4096 || chunkSize > 64 * 1024 * 1024) {
    throw new EllipticsOptionError('chunksize', `${chunkSize} is not a whole number of bytes in 4096..67108864`);
  }
  for (const option of ['iothreadnum', 'netthreadnum', 'nonblockingiothreadnum'] as const) positiveInt(options[option], 2, option);
  const logfile = options.logfile ?? '/dev/stderr';
  return {
    nodes: parseNodes(options.nodes),
    groups: parseGroups(options.groups),
    waitTimeoutMs: durationMs(options.waittimeout, { option: 'waittimeout', defaultMs: 60_000, minMs: 1000 }),
    checkTimeoutMs: durationMs(options.checktimeout, { option: 'checktimeout', defaultMs: 60_000, minMs: 1000 }),
    namespace,
    chunkSize,
    logLevel: logLevel(options),
    logFile: logfile === '/dev/stderr' ? undefined : isAbsolute(logfile) ? logfile : resolve(baseDir, logfile),
  };
}
