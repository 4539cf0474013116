/** A real redis-server (Debian's) on a free loopback port, for the cache tests; no persistence. */
import { ensureDebianTools } from './debian.js';
import { freeLoopbackPort } from './ports.js';
import { spawnServer, waitForOutput, type ServerProcess } from './server-process.js';

export const REDIS = { package: 'redis-server', binary: 'redis-server' } as const;

export interface RunningRedis {
  readonly port: number;
  readonly addr: string;
  readonly server: ServerProcess;
  /** stops the server; `start` again brings one up on the same port, empty */
  stop(): Promise<void>;
  close(): Promise<void>;
}

async function spawnRedis(port: number, password?: string): Promise<ServerProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...(password ? ['--requirepass', password] : [])];
  const server = spawnServer('redis-server', args);
  try {
    await waitForOutput(server, /Ready to accept connections/, 30_000);
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

export async function startRedis(password?: string): Promise<RunningRedis> {
  ensureDebianTools(REDIS);
  // a free port may be taken again before redis binds it: try a few
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    try {
      const server = await spawnRedis(port, password);
      return { port, addr: `127.0.0.1:${port}`, server, stop: () => server.close(), close: () => server.close() };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}
