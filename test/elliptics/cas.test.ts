/**
 * The emulator's compare-and-swap WRITE, as elliptics library/dnet.c applies it (dnet_process_cmd_raw ->
 * dnet_cas_local): the sha512 of the stored record must be io.parent, else -EBADFD and nothing changes; a
 * key the backend does not have passes; the flag combines with APPEND. Checked through the raw client with
 * checksums computed here, not with the driver's journal code.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import { IoFlags, Status } from '../../plugins/elliptics/src/protocol/constants.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { parseNode } from '../../plugins/elliptics/src/options.js';
import { quietLogger } from './context.js';
import { EmulatorCluster } from './emulator.js';

const sha512 = (data: string): Buffer => createHash('sha512').update(data).digest();
const stamp = { offset: 0, num: 0, tsec: 1, tnsec: 0 };

describe('WRITE with DNET_IO_FLAGS_COMPARE_AND_SWAP on the emulator', () => {
  let cluster: EmulatorCluster;
  let client: EllipticsClient;
  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1] }]).start();
    client = new EllipticsClient({ nodes: cluster.remotes.map((r) => parseNode(r, 'nodes')), groups: [1], waitTimeoutMs: 10_000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await cluster.stop();
  });
  const read = async (key: string): Promise<string> => (await client.read(1, keyId(key, 'CAS'), 0, 0)).data.toString('utf8');

  it('passes on a missing key and when the parent is the checksum of what is stored', async () => {
    const id = keyId('fresh', 'CAS');
    await client.write(1, id, { ...stamp, ioFlags: IoFlags.APPEND | IoFlags.CAS, parent: sha512('anything') }, Buffer.from('a\n'));
    await client.write(1, id, { ...stamp, ioFlags: IoFlags.APPEND | IoFlags.CAS, parent: sha512('a\n') }, Buffer.from('b\n'));
    expect(await read('fresh')).toBe('a\nb\n');
  });

  it('refuses with -EBADFD and keeps the record when the stored content is not the expected one', async () => {
    const id = keyId('taken', 'CAS');
    await client.write(1, id, { ...stamp, ioFlags: IoFlags.APPEND }, Buffer.from('first\n'));
    await expect(client.write(1, id, { ...stamp, ioFlags: IoFlags.APPEND | IoFlags.CAS, parent: sha512('') }, Buffer.from('rival\n'))).rejects.toMatchObject({ status: Status.EBADFD });
    await expect(client.write(1, id, { ...stamp, ioFlags: IoFlags.CAS, parent: sha512('other\n') }, Buffer.from('overwrite\n'))).rejects.toMatchObject({ status: Status.EBADFD });
    expect(await read('taken')).toBe('first\n');
  });
});
