/**
 * `WWW-Authenticate` challenges (RFC 9110 section 11.6.1), as an upstream registry sends them:
 * `Basic realm="Registry Realm"` or `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`.
 * One header may carry several challenges, separated by commas like their parameters.
 */

export interface AuthChallenge {
  /** lowercased: `basic`, `bearer`, ... */
  readonly scheme: string;
  /** parameter names lowercased, values unquoted */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

/** Every challenge of one or more `WWW-Authenticate` header values; what cannot be read is skipped. */
export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  return values.flatMap(parseOne);
}

function parseOne(value: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = value;
  const skip = (pattern: RegExp): void => {
    rest = rest.replace(pattern, '');
  };
  skip(/^[\s,]+/);
  while (rest.length > 0) {
    const scheme = TOKEN.exec(rest)?.[0];
    if (!scheme) break;
    rest = rest.slice(scheme.length);
    const params: Record<string, string> = {};
    skip(/^[ \t]+/);
    // a token68 (`Negotiate abc==`) rather than parameters: kept whole, under no name
    const token68 = TOKEN68.exec(rest)?.[0];
    if (token68 && /^[ \t]*(,|$)/.test(rest.slice(token68.length))) {
      rest = rest.slice(token68.length);
      params[''] = token68;
    } else {
      for (;;) {
        const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*/.exec(rest);
        if (!match) break;
        rest = rest.slice(match[0].length);
        let parsed: string | undefined;
        if (rest.startsWith('"')) {
          const quoted = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
          if (!quoted) return challenges;
          parsed = quoted[1]!.replace(/\\(.)/g, '$1');
          rest = rest.slice(quoted[0].length);
        } else {
          parsed = TOKEN.exec(rest)?.[0] ?? '';
          rest = rest.slice(parsed.length);
        }
        params[match[1]!.toLowerCase()] = parsed;
        skip(/^[ \t]*/);
        if (!rest.startsWith(',')) break;
        skip(/^[\s,]+/);
        // the next item is a parameter when a `=` follows its name, else it begins a new challenge
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*=(?!=)/.test(rest)) break;
      }
    }
    challenges.push({ scheme: scheme.toLowerCase(), params });
    skip(/^[\s,]+/);
  }
  return challenges;
}
