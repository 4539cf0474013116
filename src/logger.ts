/**
 * The one logger: pino, JSON lines. Secret option values (those the driver's schema marks `writeOnly`)
 * are scrubbed from every line before it is written, wherever they appear: in a message, a field or an
 * error's stack. Secrets become known only once the plugin's options are validated, so they are added to
 * the logger's redactor then.
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { loadWhenNeeded } from './load-when-needed.js';

/** pino-pretty, loaded only for `log.formatter: text` */
const pinoPretty = loadWhenNeeded<typeof import('pino-pretty')>('pino-pretty');

export const REDACTED = '[REDACTED]';

/** values shorter than this are left alone: scrubbing "1" or "ab" would mangle every line */
const MIN_SECRET_LENGTH = 3;

export class SecretRedactor {
  private readonly secrets = new Set<string>();

  add(values: Iterable<string>): void {
    for (const value of values) {
      if (value.length < MIN_SECRET_LENGTH) continue;
      this.secrets.add(value);
      // the same value as it appears inside a JSON string
      this.secrets.add(JSON.stringify(value).slice(1, -1));
    }
  }

  scrub(text: string): string {
    let out = text;
    // longest first, so a secret containing another is replaced whole
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    // credentials written inside a URL (`https://user:pass@host`), known to nobody in advance
    return out.replace(URL_USERINFO, `$1${REDACTED}@`);
  }
}

/** the userinfo of a URL: scheme, then anything up to an `@` before the host, without crossing a path or space */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>\\]+@/gi;

/**
 * The redactor of everything this process writes: log lines, stderr (startup failures), `config check`
 * output. Each command adds the secrets it learns (plugin options marked writeOnly, http.secret) to it.
 */
export const processRedactor = new SecretRedactor();

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  readonly redactor?: SecretRedactor;
  /** where JSON lines go; stdout when absent */
  readonly destination?: DestinationStream;
  /** distribution's `log.formatter`: `json` (default) or `text`, readable lines for a terminal (pino-pretty) */
  readonly formatter?: 'json' | 'text';
}

export type { Logger };

export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? new SecretRedactor();
  const stdout = options.destination ?? pino.destination({ dest: 1, sync: true });
  // secrets are scrubbed from the JSON line first; pino-pretty then renders the scrubbed line
  const target: DestinationStream =
    options.formatter === 'text' ? pinoPretty().PinoPretty({ destination: stdout, sync: true, colorize: false, singleLine: true, translateTime: 'SYS:standard', ignore: 'pid,hostname,name' }) : stdout;
  const scrubbing: DestinationStream = { write: (line: string) => target.write(redactor.scrub(line)) };
  return pino(
    {
      level: options.level,
      base: { name: 'stowage' },
      // option objects logged whole still lose well-known secret keys even before their values are known
      redact: {
        paths: ['*.password', '*.secret', '*.secretkey', '*.privatekey', '*.accesskeysecret', '*.token'],
        censor: REDACTED,
      },
    },
    scrubbing,
  );
}
