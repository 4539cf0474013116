import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import { Status } from '../../plugins/elliptics/src/protocol/constants.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EmulatorCluster, EmulatorNode } from './emulator.js';
import { quietLogger } from './context.js';

const clientFor = (nodes: EmulatorNode[], groups: number[], waitTimeoutMs = 2000): EllipticsClient =>
  new EllipticsClient({ nodes: nodes.map((n) => n.address), groups, waitTimeoutMs, checkTimeoutMs: 60_000, logger: quietLogger });

const stamp = { ioFlags: 0, offset: 0, num: 0, tsec: 1700000000, tnsec: 0 };

describe('the Elliptics protocol client', () => {
  let cluster: EmulatorCluster;
  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }], { idsPerBackend: 3 }).start();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('matches pipelined replies to their requests by trans when they come back in any order', async () => {
    const client = clientFor(cluster.nodes, [1, 2]);
    await client.connect();
    try {
      const keys = Array.from({ length: 40 }, (_, i) => keyId(`pipelined/${i}`, 'DOCKER'));
      await Promise.all(keys.map((id, i) => client.writeQuorum(id, stamp, Buffer.from(`value ${i}`))));
      for (const node of cluster.nodes) node.shuffleReplies = true;
      const read = await Promise.all(keys.map((id) => client.read(2, id, 0, 0)));
      expect(read.map((r) => r.data.toString())).toEqual(keys.map((_, i) => `value ${i}`));
      const sizes = await Promise.all(keys.map((id) => client.lookup(1, id)));
      expect(sizes.map((s) => s.size)).toEqual(keys.map((_, i) => `value ${i}`.length));
    } finally {
      for (const node of cluster.nodes) node.shuffleReplies = false;
      await client.close();
    }
  });

  it('reads ranges with offset and size, and reports ENOENT and E2BIG as the server does', async () => {
    const client = clientFor(cluster.nodes, [1]);
    await client.connect();
    try {
      const id = keyId('ranged', 'DOCKER');
      await client.writeQuorum(id, stamp, Buffer.from('hello world'));
      const part = await client.read(1, id, 6, 5);
      expect(part.data.toString()).toBe('world');
      expect(part.io).toMatchObject({ offset: 6, size: 5, totalSize: 11, tsec: 1700000000 });
      expect((await client.read(1, id, 6, 100)).data.toString()).toBe('world');
      await expect(client.read(1, id, 11, 0)).rejects.toMatchObject({ status: Status.E2BIG });
      await expect(client.read(1, keyId('missing', 'DOCKER'), 0, 0)).rejects.toMatchObject({ status: Status.ENOENT });
      expect(await client.newest(keyId('missing', 'DOCKER'))).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('fails locally with ENXIO for a group no node serves, sending nothing', async () => {
    const client = clientFor(cluster.nodes, [1, 9]);
    await client.connect();
    try {
      const before = cluster.nodes.map((n) => n.served.get('LOOKUP') ?? 0);
      await expect(client.lookup(9, keyId('x', 'DOCKER'))).rejects.toMatchObject({ status: Status.ENXIO });
      expect(cluster.nodes.map((n) => n.served.get('LOOKUP') ?? 0)).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('does not connect to a node of another Elliptics version', async () => {
    const node = new EmulatorNode({ groups: [1], version: [3, 0, 0, 0] });
    await node.start();
    const client = clientFor([node], [1]);
    try {
      await expect(client.connect()).rejects.toThrow(/no route to any of the groups 1 .*closed/);
    } finally {
      await client.close();
      await node.stop();
    }
  });

  it('reconnects to a node that went down once it is back, on the check timer', async () => {
    const node = new EmulatorNode({ groups: [1] });
    await node.start();
    const client = new EllipticsClient({ nodes: [node.address], groups: [1], waitTimeoutMs: 1000, checkTimeoutMs: 100, logger: quietLogger });
    await client.connect();
    try {
      const id = keyId('persisted', 'DOCKER');
      await client.writeQuorum(id, stamp, Buffer.from('kept'));
      await node.stop();
      await expect(client.read(1, id, 0, 0)).rejects.toThrow(/connect|closed/);
      const handshakes = node.served.get('REVERSE_LOOKUP') ?? 0;
      await node.start();
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(node.served.get('REVERSE_LOOKUP') ?? 0).toBeGreaterThan(handshakes);
      expect((await client.read(1, id, 0, 0)).data.toString()).toBe('kept');
    } finally {
      await client.close();
      await node.stop();
    }
  });
});
