/** The protocol client's log: stowage's logger, or a file of JSON lines, filtered to the configured level. */
import { createWriteStream } from 'node:fs';
import type { DriverLogger } from 'stowage';
import type { ClientLogLevel } from './options.js';
import type { ClientLogger } from './protocol/client.js';

const RANK: Record<ClientLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The logger, and a function that closes its file (if any) when the driver shuts down. */
export function clientLogger(base: DriverLogger, level: ClientLogLevel, file?: string): { logger: ClientLogger; close(): void } {
  const out = file ? createWriteStream(file, { flags: 'a' }) : undefined;
  out?.on('error', (err) => base.error({ err: err.message, logfile: file }, 'elliptics logfile is not writable'));
  const emit = (at: ClientLogLevel) => (obj: object | string, msg?: string): void => {
    if (RANK[at] < RANK[level]) return;
    if (!out) {
      base[at](obj, msg);
      return;
    }
    const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, msg };
    out.write(`${JSON.stringify({ time: new Date().toISOString(), level: at, ...fields })}\n`);
  };
  return {
    logger: { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') },
    close: () => out?.end(),
  };
}
