/** `stowage plugins new NAME`: scaffold a third-party driver package that passes the conformance kit as generated. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILTIN_PLUGINS_DIR, STOWAGE_ROOT } from '../plugins/index.js';
import { packageFolders } from '../plugins/discover.js';
import { manifestNames, readPackageJson } from '../plugins/manifest.js';
import { CliFailure } from './failure.js';
import { driverSource } from './scaffold/driver-template.js';
import { conformanceTest, optionsSchema, packageJson, readme, vitestConfig } from './scaffold/templates.js';

const NAME = /^[a-z0-9][a-z0-9-]*$/;

function stowageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(STOWAGE_ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Every name and alias of a built-in plugin, with the plugin it selects. */
async function builtinNames(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const dir of await packageFolders(BUILTIN_PLUGINS_DIR)) {
    const [name, ...aliases] = manifestNames(await readPackageJson(dir));
    if (name !== undefined) for (const alias of [name, ...aliases]) names.set(alias, name);
  }
  return names;
}

export async function scaffoldPlugin(name: string, dir: string): Promise<string[]> {
  if (!NAME.test(name)) {
    throw new CliFailure(`plugin name ${JSON.stringify(name)} is not valid: use lowercase letters, digits and dashes (e.g. "mystore")`);
  }
  const shadowing = (await builtinNames()).get(name);
  if (shadowing !== undefined) {
    throw new CliFailure(
      `plugin name ${JSON.stringify(name)} is taken by stowage's built-in ${shadowing} plugin, which stowage finds first: ` +
        'a plugin of that name would never be loaded; choose another name',
    );
  }
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new CliFailure(`${dir} already exists and is not empty; choose another folder with --dir`);
  }
  const input = { name, stowageVersion: stowageVersion() };
  const files: [string, string][] = [
    ['package.json', packageJson(input)],
    ['index.js', driverSource(name)],
    ['schema.json', optionsSchema(input)],
    ['test/conformance.test.js', conformanceTest(input)],
    ['vitest.config.js', vitestConfig()],
    ['README.md', readme(input)],
    ['.gitignore', 'node_modules/\n'],
  ];
  for (const [relative, text] of files) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return files.map(([relative]) => relative);
}

export async function pluginsNewCommand(name: string, flags: { dir?: string }): Promise<void> {
  const dir = path.resolve(flags.dir ?? `stowage-driver-${name}`);
  const files = await scaffoldPlugin(name, dir);
  process.stdout.write(
    `created stowage-driver-${name} in ${dir}:\n${files.map((f) => `  ${f}`).join('\n')}\n\n` +
      `next:\n  cd ${path.relative(process.cwd(), dir) || '.'}\n  npm install\n  npx vitest run\n`,
  );
}
