import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImageTo } from '../support/push-by-url.js';
import { startStowageProcess, type StowageProcess } from '../support/stowage.js';

/**
 * What a request leaves behind once answered must be garbage the young generation collects: anything that
 * outlives two scavenges is copied into the old generation and waits there for a mark-compact, which under
 * many connections is the pause in the latency tail (docs/bench.md, "Manifest GET tail, fourth pass"). An
 * object literal with a getter made per request did exactly that: V8 keeps the accessor's closure, and with
 * it the whole request, until the next mark-compact. V8 reports each scavenge with --trace-gc-nvp, the
 * bytes it promoted among them.
 */
const GETS = 3000;
const CONNECTIONS = 16;

describe('a manifest GET over many connections', () => {
  let stowage: StowageProcess;
  let promotedBytes = 0;
  let scavenges = 0;
  let counting = false;

  beforeAll(async () => {
    stowage = await startStowageProcess({ logLevel: 'error', nodeArgs: ['--max-semi-space-size=1', '--trace-gc-nvp'] });
    let pending = '';
    stowage.server.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!counting || !/\bgc=s\b/.test(line)) continue;
        scavenges++;
        promotedBytes += Number(/\bpromoted=(\d+)/.exec(line)?.[1] ?? Number.NaN);
      }
    });
    await pushImageTo(stowage.url, 'garbage/image', 'latest');
  }, 60_000);
  afterAll(async () => {
    await stowage?.close();
  });

  async function getManifests(pool: Pool, count: number): Promise<void> {
    let next = 0;
    const connection = async (): Promise<void> => {
      while (next++ < count) {
        const answer = await pool.request({ method: 'GET', path: '/v2/garbage/image/manifests/latest', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
        await answer.body.dump();
        if (answer.statusCode !== 200) throw new Error(`GET answered ${answer.statusCode}`);
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  }

  it('leaves nothing behind that the young generation promotes', async () => {
    const pool = new Pool(stowage.url, { connections: CONNECTIONS });
    try {
      // warm up: the code compiled, the links and the manifest's bytes kept, the young generation grown
      await getManifests(pool, 500);
      counting = true;
      await getManifests(pool, GETS);
      counting = false;
    } finally {
      await pool.close();
    }
    expect(scavenges, 'the GETs allocate enough for several scavenges of a 1 MiB semi-space').toBeGreaterThan(5);
    // measured: 35-73 bytes per GET; 3,547 while each request's context had its own getter
    expect(promotedBytes / GETS, `${promotedBytes} bytes promoted by ${scavenges} scavenges`).toBeLessThan(512);
  }, 120_000);
});
