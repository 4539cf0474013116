import net from 'node:net';

/** A loopback TCP port that was free a moment ago (for servers that cannot be told to listen on port 0). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `GET <url>/v2/` until the registry answers (any HTTP status) or the deadline passes. */
export async function waitForRegistry(url: string, timeoutMs = 30_000, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`the registry process for ${url} exited before it answered`);
    try {
      const response = await fetch(`${url}/v2/`);
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no registry answered at ${url}/v2/ within ${timeoutMs} ms: ${String(lastError)}`);
}
