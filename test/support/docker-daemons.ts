/**
 * A containerd and a dockerd of a test's own, on sockets and folders under one work folder: no engine runs on
 * this machine, and the real-client tests must not touch the system's. dockerd runs on vfs with no iptables or
 * bridge, which is what works inside this sandbox; ctr talks to the containerd directly.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DebianTool } from './debian.js';
import { spawnServer, waitForOutput, type ServerProcess } from './server-process.js';

export const CONTAINERD: DebianTool = { package: 'containerd', binary: 'containerd' };
export const DOCKERD: DebianTool = { package: 'docker.io', binary: 'dockerd' };

export interface DockerDaemons {
  /** containerd's gRPC socket, for `ctr -a` */
  readonly containerdSocket: string;
  /** DOCKER_HOST for the docker CLI */
  readonly dockerHost: string;
  close(): Promise<void>;
}

export interface DockerDaemonOptions {
  /** dockerd's `--registry-mirror`s: where it asks first for docker.io images */
  readonly registryMirrors?: readonly string[];
}

/** Starts both under `work` (the caller installs CONTAINERD and DOCKERD and removes `work`). */
export async function startDockerDaemons(work: string, options: DockerDaemonOptions = {}): Promise<DockerDaemons> {
  const ctrd = path.join(work, 'containerd');
  await mkdir(ctrd, { recursive: true });
  await writeFile(
    path.join(ctrd, 'config.toml'),
    `version = 2\nroot = "${ctrd}/root"\nstate = "${ctrd}/state"\n[grpc]\n  address = "${ctrd}/sock"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n`,
  );
  const started: ServerProcess[] = [];
  const close = async (): Promise<void> => {
    for (const server of started.reverse()) await server.close(20_000);
  };
  try {
    const containerd = spawnServer('containerd', ['--config', path.join(ctrd, 'config.toml')]);
    started.push(containerd);
    await waitForOutput(containerd, /containerd successfully booted/, 60_000);
    const dockerd = spawnServer('dockerd', [
      '--data-root', path.join(work, 'docker-data'), '--exec-root', path.join(work, 'docker-exec'), '--pidfile', path.join(work, 'docker.pid'),
      '-H', `unix://${work}/docker.sock`, '--containerd', `${ctrd}/sock`, '--storage-driver', 'vfs', '--iptables=false', '--bridge=none',
      ...(options.registryMirrors ?? []).flatMap((mirror) => ['--registry-mirror', mirror]),
    ]);
    started.push(dockerd);
    await waitForOutput(dockerd, /API listen on/, 90_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { containerdSocket: path.join(ctrd, 'sock'), dockerHost: `unix://${work}/docker.sock`, close };
}
