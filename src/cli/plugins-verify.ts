/**
 * `stowage plugins verify <package or folder>`: the checks stowage makes when it loads a plugin (manifest,
 * options schema, entry module, driver shape), then the driver conformance kit, on a third-party plugin.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { importFactory } from '../plugins/entry.js';
import { readOptionsSchema } from '../plugins/options.js';
import { STOWAGE_ROOT } from '../plugins/index.js';
import { loadPluginDriver, readPlugin } from '../plugins/from-folder.js';
import { CliFailure } from './failure.js';

export interface VerifyFlags {
  /** the driver's options as JSON, or @file with JSON */
  readonly options?: string;
  /** skip the conformance kit (only the load-time checks) */
  readonly kit?: boolean;
  /** conformance profile: quick (default) or full */
  readonly profile?: string;
}

/** The plugin's folder: `target` itself when it is a folder, else the package of that name installed from here. */
export function pluginFolder(target: string, cwd: string = process.cwd()): string {
  const asPath = path.resolve(cwd, target);
  if (existsSync(asPath) && statSync(asPath).isDirectory()) return asPath;
  try {
    return path.dirname(createRequire(path.join(cwd, 'package.json')).resolve(`${target}/package.json`));
  } catch {
    throw new CliFailure(`${target} is neither a folder nor a package installed from ${cwd} (npm install it, or give its folder)`);
  }
}

async function optionsFrom(flag: string | undefined): Promise<Record<string, unknown>> {
  if (flag === undefined) return {};
  const text = flag.startsWith('@') ? await readFile(path.resolve(flag.slice(1)), 'utf8') : flag;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliFailure(`--options must be a JSON object (or @file holding one), as the driver's options under storage.<name>`);
}

export async function pluginsVerifyCommand(target: string, flags: VerifyFlags): Promise<void> {
  const dir = pluginFolder(target);
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const pkg = await readPlugin(dir);
  say(`ok   manifest: ${pkg.packageName}@${pkg.version}, storage plugin "${pkg.manifest.name}", driver API ${pkg.manifest.apiVersion}`);
  await readOptionsSchema(pkg);
  say(`ok   options schema: ${pkg.manifest.schema ?? '(none: the driver takes no options)'}`);
  await importFactory(pkg);
  say('ok   entry module exports a driver factory');
  const options = await optionsFrom(flags.options);
  const driver = await loadPluginDriver(dir, { options });
  await driver.close?.();
  say('ok   the factory returns a driver with every method of its driver API (options validated, defaults applied)');
  if (flags.kit === false) return;
  say('...  driver conformance kit:');
  const code = await runKit(dir, options, flags.profile ?? 'quick');
  if (code !== 0) throw new CliFailure(`plugin ${pkg.manifest.name} at ${dir} fails the driver conformance kit (see the failures above)`);
  say(`ok   plugin ${pkg.manifest.name} passes the driver conformance kit`);
}

/** Runs the kit with stowage's own vitest on a generated test file in a temporary folder; resolves vitest's exit code. */
async function runKit(dir: string, options: Record<string, unknown>, profile: string): Promise<number> {
  let vitestBin: string;
  try {
    const vitestPackage = createRequire(path.join(STOWAGE_ROOT, 'package.json')).resolve('vitest/package.json');
    vitestBin = path.join(path.dirname(vitestPackage), 'vitest.mjs');
  } catch {
    throw new CliFailure('the driver conformance kit runs on vitest, which is not installed next to stowage (npm install -D vitest); or pass --no-kit');
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'stowage-verify-'));
  try {
    const testing = pathToFileURL(path.join(STOWAGE_ROOT, 'dist', 'testing', 'index.js')).href;
    await writeFile(
      path.join(work, 'verify.test.mjs'),
      `import { runPluginConformance } from ${JSON.stringify(testing)};\n` +
        `runPluginConformance(${JSON.stringify({ plugin: dir, options, profile })});\n`,
    );
    await writeFile(path.join(work, 'vitest.config.mjs'), 'export default { test: { include: ["verify.test.mjs"], testTimeout: 120000 } };\n');
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [vitestBin, 'run', '--root', work], { cwd: work, stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode ?? 1));
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
