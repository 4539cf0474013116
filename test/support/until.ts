/**
 * Polls `probe` every 50 ms until it gives a value, and answers it: a condition another process brings about
 * (a worker's log line, a queue file), for which there is no event to wait on. Fails naming `what` after
 * `timeoutMs`.
 */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
