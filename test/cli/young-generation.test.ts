/**
 * `stowage serve` keeps V8's young generation at its starting size, unless node's own options chose it.
 * Checked in a node process of its own (the setting is process-wide), made to allocate the way uploads
 * do: many short-lived objects with a few thousand alive at any time, which grows a default young
 * generation to 16 MiB semi-spaces. Needs the build (`npm run build`), like the other process tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { youngGenerationChosen } from '../../src/cli/young-generation.js';
import { PROJECT_ROOT } from '../support/stowage.js';

const MODULE = path.join(PROJECT_ROOT, 'dist', 'cli', 'young-generation.js');

/** Runs keepYoungGenerationSmall in a fresh node process, allocates, and answers what it did and the young generation's size. */
function youngGenerationAfterAllocating(nodeOptions: string): { kept: boolean; newSpaceBytes: number } {
  const script = `
    import v8 from 'node:v8';
    import { keepYoungGenerationSmall } from ${JSON.stringify(pathToFileURL(MODULE).href)};
    const kept = keepYoungGenerationSmall();
    let alive = [];
    for (let i = 0; i < 2_000_000; i++) {
      alive.push({ index: i, piece: Buffer.alloc(16) });
      if (alive.length > 2000) alive = [];
    }
    const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    process.stdout.write(JSON.stringify({ kept, newSpaceBytes: newSpace.space_size }));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' });
  return JSON.parse(output) as { kept: boolean; newSpaceBytes: number };
}

describe('the young generation of a serving process', () => {
  it.runIf(existsSync(MODULE))('stays at its starting size however much is allocated', () => {
    const result = youngGenerationAfterAllocating('');
    expect(result.kept).toBe(true);
    expect(result.newSpaceBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it.runIf(existsSync(MODULE))('is left to grow as node does when NODE_OPTIONS chose its size', () => {
    const result = youngGenerationAfterAllocating('--max-semi-space-size=16');
    expect(result.kept).toBe(false);
    expect(result.newSpaceBytes).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('counts every node option that sizes it, written with dashes or underscores, and no other', () => {
    expect(youngGenerationChosen(['--max-semi-space-size=2'], '')).toBe(true);
    expect(youngGenerationChosen([], '--enable-source-maps --max_semi_space_size=4')).toBe(true);
    expect(youngGenerationChosen(['--min-semi-space-size=1'], '')).toBe(true);
    expect(youngGenerationChosen(['--max-old-space-size=512', '--enable-source-maps'], '  ')).toBe(false);
  });
});
