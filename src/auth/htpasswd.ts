/**
 * htpasswd users (`auth.htpasswd.path`): bcrypt entries only, as distribution accepts. Passwords are checked
 * with bcryptjs; a successful check is remembered for a minute (by a SHA-256 of user and password, never
 * the password itself) because clients send Basic credentials on every request and bcrypt is slow on purpose.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';

const REMEMBER_MS = 60_000;
/** compared against when the user is unknown, so that an unknown user costs as much time as a wrong password */
const UNKNOWN_USER_HASH = '$2b$10$MD9xbvg1E8yNzHSaFcF92e5JZoaOEjNmPhzb00AjN07mCXdn4.Bzi';

export class HtpasswdError extends Error {}

/** `user:hash` lines; blank lines and `#` comments skipped; anything but bcrypt refused with its line number. */
export function parseHtpasswd(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, index) => {
    const entry = line.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const colon = entry.indexOf(':');
    const user = entry.slice(0, colon);
    const hash = entry.slice(colon + 1);
    if (colon <= 0 || !/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
      throw new HtpasswdError(`${file} line ${index + 1}: expected "user:<bcrypt hash>" (htpasswd -B); other hash kinds are not accepted`);
    }
    users.set(user, hash);
  });
  return users;
}

export class HtpasswdUsers {
  private readonly remembered = new Map<string, number>();

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  static fromFile(file: string): HtpasswdUsers {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new HtpasswdError(`cannot read the htpasswd file ${file} (auth.htpasswd.path): ${(err as Error).message}`);
    }
    return new HtpasswdUsers(parseHtpasswd(text, file));
  }

  async verify(user: string, password: string): Promise<boolean> {
    const key = createHash('sha256').update(user).update('\0').update(password).digest('hex');
    const until = this.remembered.get(key);
    if (until !== undefined && until > Date.now()) return true;
    const hash = this.users.get(user);
    // bcryptjs reads $2y$ (PHP's and htpasswd's spelling) as the same algorithm under $2b$
    const ok = await bcrypt.compare(password, (hash ?? UNKNOWN_USER_HASH).replace(/^\$2y\$/, '$2b$'));
    if (!ok || hash === undefined) return false;
    if (this.remembered.size > 10_000) this.remembered.clear();
    this.remembered.set(key, Date.now() + REMEMBER_MS);
    return true;
  }
}
