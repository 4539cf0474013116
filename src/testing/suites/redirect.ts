/** A driver that hands out URLs: they must serve the object's bytes (GET) and its length (HEAD). */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';

export function redirectTests(kit: KitHarness): void {
  kit.test({
    id: 'RedirectURL',
    sentence: 'a redirect URL, when the driver gives one, serves the bytes on GET and 200 with Content-Length on HEAD',
    run: async () => {
      const path = kit.path();
      const content = randomBytes(32);
      await kit.driver.putContent(path, content);

      const getURL = await kit.driver.redirectURL!(path, { method: 'GET' });
      if (getURL === undefined || getURL === '') return;
      const got = await request(getURL, { method: 'GET' });
      expect(got.statusCode).toBe(200);
      expect(Buffer.from(await got.body.arrayBuffer()).equals(content)).toBe(true);

      const headURL = await kit.driver.redirectURL!(path, { method: 'HEAD' });
      if (headURL === undefined || headURL === '') return;
      const head = await request(headURL, { method: 'HEAD' });
      await head.body.dump();
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(content.length));
    },
  });
}
