/**
 * Swift's session: one token (and the storage URL that came with it) shared by every request, obtained
 * on first use and again when Swift refuses it (401). Authentication retries through the kit's one
 * classifier (withRetries, retry.ts); the token exchange itself is auth.ts.
 */
import type { Dispatcher } from 'undici';
import type { DriverLogger } from 'stowage';
import { withRetries } from '@stowage/backend-kit';
import { authenticate, type SwiftSession } from './auth.js';
import type { ResolvedSwiftOptions } from './options.js';

export class SwiftSessions {
  private session?: Promise<SwiftSession>;
  private established?: SwiftSession;
  /** the session the latest request was built with, so a 401 renews exactly that one */
  private lastUsed?: SwiftSession;

  constructor(
    private readonly options: ResolvedSwiftOptions,
    private readonly logger: DriverLogger,
    /** the connection pool of the store's HttpClient, known once the store is built */
    private readonly dispatcher: () => Dispatcher,
  ) {}

  /** The current session, authenticating (with retries) when there is none. */
  current(): Promise<SwiftSession> {
    if (!this.session) {
      const started = withRetries({ retries: this.options.retries, delayMs: this.options.retryDelayMs }, 'swift authentication', this.logger, () =>
        authenticate(this.dispatcher(), this.options),
      );
      this.session = started;
      started.then(
        (session) => {
          if (this.session === started) this.established = session;
        },
        () => {
          if (this.session === started) this.session = undefined;
        },
      );
    }
    return this.session;
  }

  /** The session a request is about to be sent with. */
  async forRequest(): Promise<SwiftSession> {
    const session = await this.current();
    this.lastUsed = session;
    return session;
  }

  /** Swift refused the token: forgets it (unless a concurrent request already replaced it), so the next request authenticates. */
  renew(): boolean {
    this.logger.info({}, 'swift token rejected; authenticating again');
    const stale = this.lastUsed;
    if (stale && this.established === stale) {
      this.session = undefined;
      this.established = undefined;
    }
    return true;
  }
}
