/**
 * `reporting.email`: one mail per unexpected server error (a 5xx response: stowage answers a client's
 * mistake with a 4xx), naming the request id so that the operator finds the request's log lines, which hold
 * the cause. The cause itself is not mailed: it may name storage hosts and paths.
 *
 * Rate limit: at most `ratelimit.mails` mails per `ratelimit.interval` (default 10 per 10m), counted in
 * fixed windows; errors beyond that are not mailed, only counted, and the next mail says how many were
 * left out. Sending never delays or fails a request: it happens after the response, and a mail the SMTP
 * server refuses is logged (without the password) and dropped.
 */
import type nodemailer from 'nodemailer';
import { loadWhenNeeded } from '../load-when-needed.js';
import type { EmailReportConfig } from '../config/reporting.js';
import type { Exchange, HttpHook } from '../http/exchange.js';
import type { RegistryLogger } from '../registry/logger.js';

const mailer = loadWhenNeeded<typeof nodemailer>('nodemailer');

export interface ServerErrorReport {
  readonly requestId: string;
  readonly method: string;
  readonly route: string | null;
  readonly repository: string | null;
  readonly status: number;
  readonly at: Date;
}

export class ErrorMailer {
  private readonly transport;
  private windowStart = -Infinity;
  private sentInWindow = 0;
  private suppressed = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly config: EmailReportConfig,
    private readonly logger: RegistryLogger,
    private readonly now: () => number = Date.now,
  ) {
    this.transport = mailer().createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.username !== undefined ? { auth: { user: config.username, pass: config.password ?? '' } } : {}),
    });
  }

  readonly hook: HttpHook = {
    onResponse: (exchange: Exchange) => {
      const status = exchange.res.statusCode;
      if (status < 500) return;
      this.report({
        requestId: exchange.requestId,
        method: exchange.req.method ?? '?',
        route: exchange.route ?? null,
        repository: exchange.repository ?? null,
        status,
        at: new Date(),
      });
    },
  };

  /** Mails `report` unless the rate limit is reached; returns whether a mail was sent off. */
  report(report: ServerErrorReport): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.config.ratelimit.intervalMs) {
      this.windowStart = now;
      this.sentInWindow = 0;
    }
    if (this.sentInWindow >= this.config.ratelimit.mails) {
      this.suppressed++;
      return false;
    }
    this.sentInWindow++;
    const leftOut = this.suppressed;
    this.suppressed = 0;
    const sending = this.send(report, leftOut).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
    return true;
  }

  private async send(report: ServerErrorReport, leftOut: number): Promise<void> {
    const lines = [
      `stowage answered a request with ${report.status} (an unexpected server error).`,
      '',
      `request id: ${report.requestId}`,
      `time:       ${report.at.toISOString()}`,
      `request:    ${report.method} ${report.route ?? '(no route)'}`,
      `repository: ${report.repository ?? '-'}`,
      '',
      'The cause is in stowage\'s log, in the lines with this request id.',
      ...(leftOut > 0 ? ['', `${leftOut} earlier server error(s) were not mailed (rate limit: ${this.config.ratelimit.mails} mails per ${this.config.ratelimit.intervalMs / 1000}s).`] : []),
    ];
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: [...this.config.to],
        subject: `stowage: ${report.status} on ${report.method} ${report.route ?? '(no route)'} (request ${report.requestId})`,
        text: `${lines.join('\n')}\n`,
      });
    } catch (err) {
      // nodemailer's errors name the server and the SMTP reply, never the password
      this.logger.error({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, requestId: report.requestId }, 'could not mail the server error report');
    }
  }

  /** Waits for mails being sent, then closes the SMTP connections. */
  async close(): Promise<void> {
    await Promise.all([...this.inFlight]);
    this.transport.close();
  }
}
