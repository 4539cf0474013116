import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED, SecretRedactor } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('the logger', () => {
  it('scrubs a registered secret from messages, fields and error stacks', () => {
    const redactor = new SecretRedactor();
    const out = capture();
    const logger = createLogger({ level: 'info', redactor, destination: out.destination });
    redactor.add(['pa"ss-w0rd-value']);
    logger.info({ options: { keyid: 'abc', secretkey: 'other' }, note: 'token pa"ss-w0rd-value here' }, 'using pa"ss-w0rd-value');
    logger.error({ err: new Error('auth failed for pa"ss-w0rd-value') }, 'boom');
    const text = out.lines.join('');
    expect(text).not.toContain('pa\\"ss-w0rd-value');
    expect(text).not.toContain('pa"ss-w0rd-value');
    expect(text.split(REDACTED).length - 1).toBeGreaterThanOrEqual(4);
  });

  it('redacts well-known secret keys of a logged options object before their values are known', () => {
    const out = capture();
    createLogger({ level: 'info', destination: out.destination }).info({ options: { privatekey: 'pk-123456', baseurl: 'http://b' } }, 'opts');
    expect(out.lines.join('')).not.toContain('pk-123456');
    expect(out.lines.join('')).toContain('http://b');
  });

  it('leaves very short values alone so that ordinary lines stay readable', () => {
    const redactor = new SecretRedactor();
    redactor.add(['ab']);
    expect(redactor.scrub('{"msg":"about abc"}')).toBe('{"msg":"about abc"}');
  });
});
