/**
 * The README's Operations examples (health, metrics, access log, notifications, CORS), read from README.md at
 * test time: each YAML block that is a stowage config loads as written (a storage section added where the
 * example leaves it out), and means what the README says it means.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/index.js';
import type { StowageConfig } from '../../src/config/types.js';
import { PROJECT_ROOT } from '../support/stowage.js';
import { tempFolder } from './support.js';

/** the ```yaml blocks between `### Health and readiness` and the next `## ` heading */
async function operationsExamples(): Promise<string[]> {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Health and readiness');
  const end = readme.indexOf('\n## ', start);
  expect(start).toBeGreaterThan(0);
  return [...readme.slice(start, end).matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => !block.startsWith('# prometheus.yml'));
}

describe("the README's Operations examples", () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let configs: StowageConfig[];
  beforeAll(async () => {
    work = await tempFolder('readme-ops');
    configs = [];
    for (const [index, block] of (await operationsExamples()).entries()) {
      const document = parseYaml(block) as Record<string, unknown>;
      const text = document.storage === undefined ? `${block}storage: inmemory\n` : block;
      await writeFile(path.join(work.dir, `example-${index}.yml`), text);
      configs.push(await loadConfig({ cwd: work.dir, configFile: `example-${index}.yml`, env: {} }));
    }
  });
  afterAll(() => work?.remove());

  it('has an example for health, metrics, the access log, notifications and CORS, each a valid config without warnings', () => {
    expect(configs.length).toBe(5);
    for (const config of configs) expect(config.warnings).toEqual([]);
    const [health, metrics, accessLog, notifications, cors] = configs.map((c) => c.ops!);
    expect(health!.health.storagedriver).toEqual({ enabled: true, intervalMs: 10_000, threshold: 3 });
    expect(health!.http.debug?.listen).toEqual({ host: '127.0.0.1', port: 5001 });
    expect(metrics!.http.debug?.prometheus).toEqual({ enabled: true, path: '/metrics' });
    expect(accessLog!.log).toEqual({ formatter: 'text', accesslog: { disabled: false } });
    expect(accessLog!.http.trustedproxies).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(notifications!.notifications).toMatchObject({ queuedir: '/var/lib/stowage/notifications', queuelimit: 10_000 });
    expect(notifications!.notifications.endpoints[0]).toMatchObject({ name: 'ci', ignoredMediaTypes: ['application/octet-stream'], ignoredActions: ['pull'] });
    expect(cors!.http.cors).toMatchObject({ origins: ['https://registry-ui.example.com'], methods: ['GET', 'HEAD'], maxageSeconds: 600 });
  });
});
