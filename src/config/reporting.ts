/**
 * `reporting.email` (stowage's; a docker-registry file's `email_exceptions` is translated onto it): where
 * the mail about an unexpected server error goes, and how many such mails at most. Validated by the schema.
 */
import { parseDurationMs } from '../registry/duration.js';

export interface EmailReportConfig {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  /** never log it: serve adds it to the redactor */
  readonly password?: string;
  /** TLS from the first byte (465); false: plain, upgraded by STARTTLS when the server offers it */
  readonly secure: boolean;
  readonly from: string;
  readonly to: readonly string[];
  /** at most `mails` mails per `intervalMs`; errors beyond that are counted and the count goes in the next mail */
  readonly ratelimit: { readonly mails: number; readonly intervalMs: number };
}

/** defaults: docker-registry's SMTP port, and a limit that keeps an outage from flooding a mailbox */
export const DEFAULT_EMAIL_RATELIMIT = { mails: 10, interval: '10m' } as const;

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

export function emailReportConfigOf(document: Mapping): EmailReportConfig | undefined {
  const reporting = document.reporting;
  if (!isMapping(reporting) || !isMapping(reporting.email)) return undefined;
  const email = reporting.email;
  const limit = isMapping(email.ratelimit) ? email.ratelimit : {};
  return {
    host: String(email.host),
    port: typeof email.port === 'number' ? email.port : 25,
    ...(typeof email.username === 'string' && email.username !== '' ? { username: email.username } : {}),
    ...(typeof email.password === 'string' && email.password !== '' ? { password: email.password } : {}),
    secure: email.secure === true,
    from: String(email.from),
    to: Array.isArray(email.to) ? email.to.map(String) : [String(email.to)],
    ratelimit: {
      mails: typeof limit.mails === 'number' ? limit.mails : DEFAULT_EMAIL_RATELIMIT.mails,
      intervalMs: parseDurationMs(typeof limit.interval === 'string' ? limit.interval : DEFAULT_EMAIL_RATELIMIT.interval),
    },
  };
}
