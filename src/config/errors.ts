import type { ConfigIssue } from './types.js';

/** `<file>: <path>: <message>`, the path left out when the issue is about the whole document. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path === '' ? `${issue.file}: ${issue.message}` : `${issue.file}: ${issue.path}: ${issue.message}`;
}

/** Every problem found in the configuration at once, so the operator fixes them in one go. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      issues.length === 1
        ? `invalid configuration: ${formatIssue(issues[0]!)}`
        : `invalid configuration (${issues.length} problems):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError || (err as { code?: unknown } | null)?.code === 'CONFIG_INVALID';
}
