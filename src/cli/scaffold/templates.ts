/** The files of a scaffolded third-party driver package, as text. */
import { STORAGE_API_VERSION } from '../../storage/driver.js';
import { driverSource } from './driver-template.js';

export interface ScaffoldInput {
  readonly name: string;
  /** the version of the stowage generating the scaffold: its devDependency asks for a compatible one */
  readonly stowageVersion: string;
}

export function packageJson({ name, stowageVersion }: ScaffoldInput): string {
  const pkg = {
    name: `stowage-driver-${name}`,
    version: '0.1.0',
    description: `${name} storage driver for stowage`,
    type: 'module',
    main: './index.js',
    exports: { '.': './index.js', './package.json': './package.json' },
    files: ['index.js', 'schema.json', 'README.md'],
    keywords: ['stowage', 'stowage-driver', 'oci', 'registry'],
    scripts: { test: 'vitest run' },
    stowage: { type: 'storage', name, apiVersion: STORAGE_API_VERSION, schema: './schema.json' },
    // stowage is needed only to type-check and to run the conformance kit; at run time the registry that
    // loads this plugin is stowage itself, so there is no dependency or peerDependency on it. A version
    // range, not a path: the package must work wherever it is moved or published.
    devDependencies: { stowage: `^${stowageVersion}`, vitest: '^3.2.0' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function optionsSchema({ name }: ScaffoldInput): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${name} storage driver options`,
    type: 'object',
    additionalProperties: false,
    properties: {
      token: {
        description: 'An example secret: writeOnly makes stowage mask it in `config check` and redact it from logs. Replace with your options.',
        type: 'string',
        writeOnly: true,
      },
    },
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function conformanceTest({ name }: ScaffoldInput): string {
  return `// @ts-check
// stowage's driver conformance kit: every behaviour the registry relies on, against a fresh driver built
// as stowage builds it (manifest checked, options validated and defaulted by schema.json).
import { runPluginConformance } from 'stowage/testing';

runPluginConformance({
  name: ${JSON.stringify(name)},
  plugin: new URL('..', import.meta.url),
  // what an operator writes under storage.${name}
  options: {},
  // quick in CI; run distribution's sizes (5 GiB streams) with STOWAGE_KIT_PROFILE=full npx vitest run
  profile: 'quick',
});
`;
}

export function vitestConfig(): string {
  return `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    testTimeout: 60_000,
  },
  // let vitest bundle stowage's kit, so the kit and these tests always share one vitest
  server: { deps: { inline: ['stowage'] } },
});
`;
}

export function readme({ name }: ScaffoldInput): string {
  return `# stowage-driver-${name}

A storage driver for stowage, the OCI container image registry whose storage backends are plugins.

## Use it

In the project that holds your \`stowage.config.yaml\`:

\`\`\`sh
npm install stowage-driver-${name}      # or: npm install /path/to/this/folder
\`\`\`

\`\`\`yaml
storage:
  ${name}: {}
\`\`\`

Then \`stowage config check\` shows where the plugin was found and its options, and \`stowage serve\` runs it.

## Develop it

\`\`\`sh
npm install
npx vitest run        # stowage's driver conformance kit
\`\`\`

To test against a stowage that is not on the npm registry (a local build), install its packed tarball:
\`npm install --save-dev /path/to/stowage-x.y.z.tgz\` (made by \`npm pack\` in stowage's folder).
\`stowage plugins verify .\` runs the manifest, schema, driver-shape and kit checks from stowage's side.

- \`index.js\` exports \`createDriver(options, context)\`; it starts as an in-memory driver: replace its Map
  with your backend and keep the kit green.
- \`schema.json\` is the JSON Schema (draft 2020-12) of the options. stowage validates the config against it
  before calling \`createDriver\` (defaults applied, unknown keys rejected). Mark secrets \`"writeOnly": true\`.
- \`package.json#stowage\` is the manifest: \`name\` is what operators write in the config, \`aliases\` other
  names, \`apiVersion\` the driver API implemented (${STORAGE_API_VERSION}), \`schema\` the options schema,
  \`legacyOptions\` a map from Python docker-registry config keys to option names.
- Build errors with \`context.errors\` (pathNotFound, invalidPath, invalidOffset, unsupported) and log with
  \`context.logger\`; never log a secret.
- Import only types from \`stowage\`: it is a devDependency, never a dependency.
`;
}
