/**
 * `http.headers` and `http.host` end up verbatim in every response: a header name that is not an HTTP
 * token, or a value or host holding CR/LF or another control character, would split responses or make node
 * throw on the first request. They are refused when the config is read, naming the key.
 */
import type { Origins } from './origins.js';
import type { ConfigIssue } from './types.js';

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

/** RFC 9110 `token`: the characters a header name may hold */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 field-value: visible characters, spaces and tabs, obs-text; no CR, LF, NUL or other controls */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function checkHttpValues(document: Mapping, origins: Origins): ConfigIssue[] {
  const http = document.http;
  if (!isMapping(http)) return [];
  const issues: ConfigIssue[] = [];
  if (isMapping(http.headers)) {
    for (const [name, value] of Object.entries(http.headers)) {
      const here = origins.locate(['http', 'headers', name]);
      if (!HEADER_NAME.test(name)) {
        issues.push({ ...here, message: `${JSON.stringify(name)} is not a valid HTTP header name (letters, digits and !#$%&'*+.^_\`|~- only, no spaces or colons)` });
      }
      const values = Array.isArray(value) ? value : [value];
      for (const item of values) {
        if (typeof item === 'string' && !HEADER_VALUE.test(item)) {
          issues.push({ ...here, message: 'a header value must not contain CR, LF or other control characters' });
        }
      }
    }
  }
  if (typeof http.host === 'string') {
    const here = origins.locate(['http', 'host']);
    if (/[\x00-\x20\x7f]/.test(http.host)) {
      issues.push({ ...here, message: 'must not contain whitespace, CR, LF or other control characters' });
    } else if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/i.test(http.host)) {
      issues.push({ ...here, message: `expected an absolute http(s) URL such as https://registry.example.com, got ${JSON.stringify(http.host)}` });
    }
  }
  return issues;
}
