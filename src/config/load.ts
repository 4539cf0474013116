/**
 * loadConfig: find the file, read it (stowage's format, distribution's config.yml, or a Python
 * docker-registry config.yml), lay REGISTRY_* variables over it, validate stowage's own sections, and hand
 * back one StowageConfig, or throw a ConfigError listing every problem.
 */
import path from 'node:path';
import { discover, type Discovery } from './discover.js';
import { ConfigError } from './errors.js';
import { applyEnvOverrides, STORAGE_SETTINGS } from './env-overrides.js';
import { detectLegacy, translateLegacy } from './legacy.js';
import { checkHttpValues } from './http-values.js';
import { checkMirror } from './mirror.js';
import { checkMirrorSync } from './mirror-sync.js';
import { normalize } from './normalize.js';
import { Origins } from './origins.js';
import { DOCKER_REGISTRY_READING, parseYamlText } from './parse-text.js';
import { configSchema, validateDocument } from './schema.js';
import type { ConfigIssue, LegacyValue, StowageConfig } from './types.js';

export interface LoadConfigOptions {
  /** `--config FILE`, relative to `cwd` */
  readonly configFile?: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

type Mapping = Record<string, unknown>;

export const DEFAULTS_FILE = '<defaults>';

const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** the embedded configuration: a filesystem store under `<cwd>/data` */
export function defaultDocument(cwd: string): Mapping {
  return { storage: { filesystem: { rootdirectory: path.join(cwd, 'data') } } };
}

/** A document in stowage's shape, before env overrides, with where its parts came from. */
interface SourceDocument {
  readonly document: Mapping;
  readonly origins: Origins;
  readonly source: StowageConfig['source'];
  readonly baseDir: string;
  /** problems found while translating a docker-registry file, reported with the validation's */
  readonly issues: ConfigIssue[];
  readonly legacy?: Record<string, LegacyValue>;
  readonly legacyOptionsPath?: string;
  /** accepted-but-ignored keys of a docker-registry file */
  readonly warnings?: ConfigIssue[];
}

export async function loadConfig(opts: LoadConfigOptions): Promise<StowageConfig> {
  const cwd = path.resolve(opts.cwd);
  const discovery = await discover({ ...opts, cwd });
  if (discovery.kind === 'failed') throw new ConfigError(discovery.issues);
  const read = discovery.kind === 'none' ? fromDefaults(cwd) : fromFile(discovery, opts.env);

  const { document, origins } = read;
  const overrides = applyEnvOverrides(document, opts.env, configSchema(), origins);
  lowercaseLogLevels(document);
  const issues = [
    ...read.issues,
    ...overrides.issues,
    ...validateDocument(document, origins),
    ...checkStorageDriver(document, origins, read.source.format),
    ...checkHttpValues(document, origins),
    ...checkMirror(document, origins),
    ...checkMirrorSync(document, origins),
  ];
  if (issues.length > 0) throw new ConfigError(dedupe(issues));

  return normalize(document, {
    cwd,
    baseDir: read.baseDir,
    source: read.source,
    origins,
    warnings: [...(read.warnings ?? []), ...overrides.warnings],
    ...(read.legacy ? { legacy: read.legacy } : {}),
    ...(read.legacyOptionsPath === undefined ? {} : { legacyOptionsPath: read.legacyOptionsPath }),
  });
}

function fromDefaults(cwd: string): SourceDocument {
  return {
    document: defaultDocument(cwd),
    origins: new Origins({ file: DEFAULTS_FILE, path: '' }),
    source: { format: 'defaults' },
    baseDir: cwd,
    issues: [],
  };
}

function fromFile(discovery: Extract<Discovery, { kind: 'found' }>, env: NodeJS.ProcessEnv): SourceDocument {
  const { file } = discovery;
  const baseDir = path.dirname(file);
  const shape = detectLegacy(discovery.value, {
    viaDockerRegistryConfig: discovery.by === 'DOCKER_REGISTRY_CONFIG',
    settingsFlavor: env.SETTINGS_FLAVOR,
  });

  if (shape) {
    let value = discovery.value;
    if (discovery.format === 'yaml' && discovery.text !== undefined) {
      // read again as PyYAML would have read it
      const reread = parseYamlText(discovery.text, file, DOCKER_REGISTRY_READING);
      if (!reread.ok) throw new ConfigError(reread.issues);
      value = reread.value;
    }
    const translation = translateLegacy(value, shape, file, env);
    if (translation.fatal) throw new ConfigError(translation.issues);
    const origins = new Origins(translation.root);
    for (const [segments, location] of translation.origins) origins.set(segments, location);
    return {
      document: translation.document,
      origins,
      source: { file, format: 'docker-registry', ...(translation.flavor === undefined ? {} : { flavor: translation.flavor }) },
      baseDir,
      issues: translation.issues,
      legacy: translation.legacy,
      legacyOptionsPath: translation.root.path,
      warnings: translation.warnings,
    };
  }

  if (discovery.format === 'yaml' && discovery.text !== undefined) {
    // discovery read leniently; stowage's own files get duplicate keys reported
    const strict = parseYamlText(discovery.text, file);
    if (!strict.ok) throw new ConfigError(strict.issues);
  }
  if (!isMapping(discovery.value)) {
    const what = discovery.value == null ? 'the file is empty' : 'the file does not hold a mapping';
    throw new ConfigError([{ file, path: '', message: `${what}; expected a mapping with at least a storage section (e.g. storage: filesystem)` }]);
  }
  return {
    document: plainCopy(discovery.value) as Mapping,
    origins: new Origins({ file, path: '' }),
    source: { file, format: 'stowage' },
    baseDir,
    issues: [],
  };
}

/** exactly one driver: the one rule of `storage` a JSON schema cannot say plainly */
function checkStorageDriver(document: Mapping, origins: Origins, format: StowageConfig['source']['format']): ConfigIssue[] {
  const storage = document.storage;
  const here = origins.locate(['storage']);
  if (storage === undefined || storage === null) {
    return [{ ...here, message: 'expected a storage section naming one driver (e.g. storage: filesystem, or storage: {filesystem: {rootdirectory: /var/lib/registry}})' }];
  }
  if (!isMapping(storage)) return [];
  const drivers = Object.keys(storage).filter((key) => !STORAGE_SETTINGS.has(key));
  if (drivers.length === 1) return [];
  if (drivers.length === 0) {
    const message =
      format === 'docker-registry'
        ? 'expected the name of a storage driver (e.g. storage: ufile)'
        : `expected exactly one storage driver beside ${[...STORAGE_SETTINGS].join('/')} (e.g. filesystem: {rootdirectory: /var/lib/registry}), found none`;
    return [{ ...here, message }];
  }
  return [{ ...here, message: `expected exactly one storage driver, found ${drivers.length}: ${drivers.join(', ')}` }];
}

/** logrus reads levels case-insensitively; so does stowage */
function lowercaseLogLevels(document: Mapping): void {
  if (typeof document.loglevel === 'string') document.loglevel = document.loglevel.toLowerCase();
  const log = document.log;
  if (isMapping(log) && typeof log.level === 'string') log.level = log.level.toLowerCase();
}

/** the file's data only (a JS config may hold class instances or functions) */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (isMapping(value) && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, plainCopy(child)]));
  }
  return value;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.file}\u0000${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
