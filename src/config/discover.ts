/**
 * Which file holds the configuration: `--config FILE`, else the file named by REGISTRY_CONFIGURATION_PATH
 * (distribution's variable; as in `registry serve`, the command-line argument wins over it), else the file
 * named by DOCKER_REGISTRY_CONFIG (the Python docker-registry's), else cosmiconfig's search of the working
 * directory (module name `stowage`), else none (the embedded defaults apply).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { parseJsonText, parseYamlText, type ParseResult } from './parse-text.js';
import type { ConfigIssue } from './types.js';

export const MODULE_NAME = 'stowage';

/** the places searched in the working directory, first hit wins */
export const SEARCH_PLACES = [
  'package.json',
  '.stowagerc',
  '.stowagerc.json',
  '.stowagerc.yaml',
  '.stowagerc.yml',
  '.stowagerc.js',
  '.stowagerc.cjs',
  '.stowagerc.mjs',
  'stowage.config.yaml',
  'stowage.config.yml',
  'stowage.config.json',
  'stowage.config.js',
  'stowage.config.cjs',
  'stowage.config.mjs',
] as const;

export type FoundBy = 'argument' | 'REGISTRY_CONFIGURATION_PATH' | 'DOCKER_REGISTRY_CONFIG' | 'search';

/** the variables naming a config file, in the order they are read */
export const CONFIG_PATH_VARIABLES = ['REGISTRY_CONFIGURATION_PATH', 'DOCKER_REGISTRY_CONFIG'] as const;
export type TextFormat = 'yaml' | 'json' | 'module';

export type Discovery =
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly file: string; readonly by: FoundBy; readonly format: TextFormat; readonly value: unknown; readonly text?: string }
  | { readonly kind: 'failed'; readonly issues: ConfigIssue[] };

/** thrown by our loaders so that syntax errors come out of cosmiconfig as issues */
class SyntaxIssues extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(issues.map((i) => i.message).join('; '));
  }
}

// undefined (not null) for a document of comments only: cosmiconfig then reports the file as empty
// instead of passing over it, and stowage says so rather than silently running on its defaults.
const unwrap = (result: ParseResult): unknown => {
  if (!result.ok) throw new SyntaxIssues(result.issues);
  return result.value ?? undefined;
};

// Lenient here (duplicate keys allowed): the strict reading happens once the format is known.
const yamlLoader: Loader = (file, content) => unwrap(parseYamlText(content, file, { uniqueKeys: false, pyBooleans: false }));
const jsonLoader: Loader = (file, content) => unwrap(parseJsonText(content, file));

function explorer() {
  return cosmiconfig(MODULE_NAME, {
    searchPlaces: [...SEARCH_PLACES],
    searchStrategy: 'none',
    ignoreEmptySearchPlaces: false,
    cache: false,
    loaders: {
      ...defaultLoaders,
      '.yaml': yamlLoader,
      '.yml': yamlLoader,
      noExt: yamlLoader,
      '.json': jsonLoader,
    },
  });
}

const formatOf = (file: string): TextFormat => {
  const ext = path.extname(file).toLowerCase();
  if (['.js', '.cjs', '.mjs'].includes(ext)) return 'module';
  return ext === '.json' ? 'json' : 'yaml';
};

export async function discover(opts: { configFile?: string; cwd: string; env: NodeJS.ProcessEnv }): Promise<Discovery> {
  if (opts.configFile !== undefined) return loadNamed(path.resolve(opts.cwd, opts.configFile), 'argument');
  for (const variable of CONFIG_PATH_VARIABLES) {
    const named = opts.env[variable];
    if (named) return loadNamed(path.resolve(opts.cwd, named), variable);
  }
  try {
    const result = await explorer().search(opts.cwd);
    if (!result) return { kind: 'none' };
    return await found(result.filepath, 'search', result.isEmpty ? null : (result.config as unknown));
  } catch (err) {
    return failed(err, opts.cwd);
  }
}

async function loadNamed(file: string, by: FoundBy): Promise<Discovery> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const whence = by === 'argument' ? '' : ` (named by ${by})`;
    const what = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, expected a config file' : `cannot be read (${code ?? 'error'})`;
    return { kind: 'failed', issues: [{ file, path: '', message: `${what}${whence}` }] };
  }
  const format = formatOf(file);
  try {
    if (format === 'module') {
      const result = await explorer().load(file);
      return { kind: 'found', file, by, format, value: result?.isEmpty ? null : ((result?.config as unknown) ?? null) };
    }
    const parsed = format === 'json' ? parseJsonText(text, file) : parseYamlText(text, file, { uniqueKeys: false, pyBooleans: false });
    if (!parsed.ok) return { kind: 'failed', issues: parsed.issues };
    let value = parsed.value;
    if (path.basename(file) === 'package.json') {
      value = (value as Record<string, unknown> | null)?.[MODULE_NAME];
      if (value === undefined) return { kind: 'failed', issues: [{ file, path: MODULE_NAME, message: 'expected a "stowage" key holding the configuration' }] };
    }
    return { kind: 'found', file, by, format, value, text };
  } catch (err) {
    return failed(err, file);
  }
}

async function found(file: string, by: FoundBy, value: unknown): Promise<Discovery> {
  const format = formatOf(file);
  const text = format === 'module' ? undefined : await readFile(file, 'utf8');
  return { kind: 'found', file, by, format, value, ...(text === undefined ? {} : { text }) };
}

function failed(err: unknown, fallbackFile: string): Discovery {
  if (err instanceof SyntaxIssues) return { kind: 'failed', issues: err.issues };
  const file = (err as { filepath?: string }).filepath ?? fallbackFile;
  // a config module that throws while loading: its own message, which is the author's to word
  return { kind: 'failed', issues: [{ file, path: '', message: `cannot be loaded: ${(err as Error).message ?? String(err)}` }] };
}
