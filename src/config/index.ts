/** What the rest of stowage needs from src/config. */
export { loadConfig, defaultDocument, DEFAULTS_FILE, type LoadConfigOptions } from './load.js';
export { ConfigError, formatIssue, isConfigError } from './errors.js';
export { looksSecret, describeValue } from './describe.js';
export { ENVIRONMENT } from './env-overrides.js';
export { configSchema, CONFIG_SCHEMA_URL } from './schema.js';
export { SEARCH_PLACES } from './discover.js';
export { LEGACY_KEY_PREFIXES, DEFAULT_FLAVOR } from './legacy.js';
export { DEFAULT_ADDR, DEFAULT_LOG_LEVEL } from './normalize.js';
export type * from './types.js';
export { refuseUnhonouredSettings, SECURITY_SETTINGS } from './security-settings.js';
