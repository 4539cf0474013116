/**
 * The stamping probe on this host's filesystem: its answer holds for folders, which it does not probe (it
 * changes a file), checked here by changing a folder right after each stat; and it leaves nothing behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeStamping } from '../src/stamp-probe.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function freshRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'stowage-stamp-probe-'));
  roots.push(root);
  return root;
}

describe('filesystem: how the filesystem stamps times, probed', () => {
  it('answers what a folder changed right after a stat shows, and leaves no file behind', () => {
    const root = freshRoot();
    const stamping = probeStamping(root);
    expect(stamping).toBeDefined();
    expect(readdirSync(root)).toEqual([]);
    const folder = join(root, 'tags');
    mkdirSync(folder);
    // changes made right after a stat, each as soon as the last: how many left the change time the stat saw
    let unchanged = 0;
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const seen = statSync(folder, { bigint: true }).ctimeNs;
      mkdirSync(join(folder, `t${i}`));
      if (statSync(folder, { bigint: true }).ctimeNs === seen) unchanged++;
    }
    const elapsedMs = Date.now() - started;
    if (stamping!.kind === 'later after a stat') {
      expect(unchanged).toBe(0);
    } else {
      // a coarse clock moves once a tick: the 200 changes took far fewer ticks than that
      expect(stamping!.tickMs).toBeGreaterThanOrEqual(1);
      expect(stamping!.tickMs).toBeLessThanOrEqual(20);
      expect(unchanged).toBeGreaterThan(200 - (elapsedMs / stamping!.tickMs + 2));
    }
  });

  it('answers nothing where it cannot write (a folder not made yet)', () => {
    expect(probeStamping(join(freshRoot(), 'missing'))).toBeUndefined();
  });
});
