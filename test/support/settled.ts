import { stat } from 'node:fs/promises';

/**
 * Waits until each file's or folder's times are old enough for the filesystem driver to trust them (its
 * settled-times.ts: at most 100 ms for fine times, 2 s for whole seconds), so that a process keeps what it reads next:
 * a link under its content stamp, a folder's sorted listing.
 */
export async function settled(...paths: string[]): Promise<void> {
  for (const file of paths) {
    for (;;) {
      const info = await stat(file);
      const wholeSeconds = info.mtimeMs % 1000 === 0 && info.ctimeMs % 1000 === 0;
      if (Date.now() - Math.max(info.mtimeMs, info.ctimeMs) > (wholeSeconds ? 2_100 : 200)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
