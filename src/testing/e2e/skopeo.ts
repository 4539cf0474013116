import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianTools, SKOPEO } from './debian.js';

const run = promisify(execFile);

export interface SkopeoResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real skopeo against loopback registries over plain HTTP, isolated from the machine's
 * configuration: its own HOME, auth file, registries.conf, signature policy (accept anything) and TMPDIR.
 */
export class Skopeo {
  private constructor(private readonly home: string) {}

  static async create(): Promise<Skopeo> {
    ensureDebianTools(SKOPEO);
    const home = await mkdtemp(path.join(os.tmpdir(), 'stowage-skopeo-'));
    await mkdir(path.join(home, 'tmp'));
    await writeFile(path.join(home, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await writeFile(path.join(home, 'auth.json'), JSON.stringify({ auths: {} }));
    await writeFile(path.join(home, 'registries.conf'), 'unqualified-search-registries = []\n');
    return new Skopeo(home);
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      XDG_RUNTIME_DIR: this.home,
      XDG_CONFIG_HOME: path.join(this.home, '.config'),
      REGISTRY_AUTH_FILE: path.join(this.home, 'auth.json'),
      CONTAINERS_REGISTRIES_CONF: path.join(this.home, 'registries.conf'),
      TMPDIR: path.join(this.home, 'tmp'),
    };
  }

  async run(args: string[], timeoutMs = 10 * 60_000): Promise<SkopeoResult> {
    const fullArgs = ['--policy', path.join(this.home, 'policy.json'), ...args];
    try {
      const { stdout, stderr } = await run('skopeo', fullArgs, { env: this.env(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
      return { stdout, stderr };
    } catch (error) {
      const failure = error as Error & { stderr?: string; stdout?: string };
      throw new Error(`skopeo ${fullArgs.join(' ')} failed: ${failure.message}\n${failure.stderr ?? ''}`);
    }
  }

  /** `skopeo copy` between any two transports; plain-HTTP registries on both sides. */
  async copy(source: string, destination: string, extra: string[] = []): Promise<SkopeoResult> {
    return this.run(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, source, destination]);
  }

  async inspect(reference: string, extra: string[] = []): Promise<SkopeoResult> {
    return this.run(['inspect', '--tls-verify=false', ...extra, reference]);
  }

  async listTags(reference: string): Promise<string[]> {
    const { stdout } = await this.run(['list-tags', '--tls-verify=false', reference]);
    return (JSON.parse(stdout) as { Tags: string[] }).Tags;
  }

  async delete(reference: string): Promise<SkopeoResult> {
    return this.run(['delete', '--tls-verify=false', reference]);
  }

  async dispose(): Promise<void> {
    await rm(this.home, { recursive: true, force: true });
  }
}

export function dockerRef(host: string, repository: string, reference: string): string {
  const separator = reference.includes(':') ? '@' : ':';
  return `docker://${host}/${repository}${separator}${reference}`;
}

export function ociRef(dir: string, tag: string): string {
  return `oci:${dir}:${tag}`;
}
