/**
 * How a value is quoted in an error message. Values under keys that look secret are never shown: config
 * errors end up in logs and terminals.
 */

const SECRET_KEY = /pass|secret|key|token|credential|private|signature|auth/i;

/** true for names such as `password`, `ufile_private_key`, `accesskey`, `OSS_SECRET`, `REGISTRY_HTTP_SECRET` */
export function looksSecret(name: string): boolean {
  return SECRET_KEY.test(name);
}

const MAX_SHOWN = 60;

/** a URL with a password in it (`scheme://user:password@host`) */
const URL_WITH_PASSWORD = /:\/\/[^/@\s]*:[^/@\s]*@/;

/** `5000`, `"abc"`, `a list`, `null`, or `(value hidden)` when `keyName` looks secret or the value is a URL with a password */
export function describeValue(value: unknown, keyName: string): string {
  if (looksSecret(keyName) || (typeof value === 'string' && URL_WITH_PASSWORD.test(value))) return '(value hidden)';
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${JSON.stringify(value).slice(0, MAX_SHOWN)})`;
  if (typeof value === 'object') return 'a mapping';
  const shown = JSON.stringify(value);
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}

/** JSON Schema type names in words */
export function typeWords(type: string | readonly string[]): string {
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'a boolean (true or false)',
    object: 'a mapping',
    array: 'a list',
    null: 'null',
  };
  const list = typeof type === 'string' ? [type] : type;
  return list.map((t) => words[t] ?? t).join(' or ');
}
