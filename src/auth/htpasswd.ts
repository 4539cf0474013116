/**
 * htpasswd users (`auth.htpasswd.path`): bcrypt entries only, as distribution accepts. Passwords are checked
 * with bcryptjs; a successful check is remembered for a minute (by a SHA-256 of user and password, never
 * the password itself) because clients send Basic credentials on every request and bcrypt is slow on purpose.
 *
 * The file is read again when it changes, so adding, removing or changing a user needs no restart: a check
 * re-stats it at most once a second (RECHECK_MS) and re-reads it when its size, modification time or inode
 * moved (an editor's rename counts), forgetting every remembered check. A file caught half-written, or
 * broken, is not taken: the users read last stay until a complete file is there.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';

const REMEMBER_MS = 60_000;
/** how often a check looks at the file for changes, at most */
export const RECHECK_MS = 1_000;
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

/** What identifies a version of the file: a change of any of these means it was written since. */
const versionOf = (info: Stats): string => `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;

export class HtpasswdUsers {
  private readonly remembered = new Map<string, number>();
  private checkedAt = Date.now();
  private checking: Promise<void> | undefined;

  constructor(
    private users: ReadonlyMap<string, string>,
    /** the file the users come from, watched for changes; none for users given directly */
    private readonly source?: { readonly file: string; version: string },
  ) {}

  static fromFile(file: string): HtpasswdUsers {
    let text: string;
    let version: string;
    try {
      version = versionOf(statSync(file));
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new HtpasswdError(`cannot read the htpasswd file ${file} (auth.htpasswd.path): ${(err as Error).message}`);
    }
    return new HtpasswdUsers(parseHtpasswd(text, file), { file, version });
  }

  /** Reads the file again when it changed since the last look (at most once per RECHECK_MS). */
  private async refresh(): Promise<void> {
    const source = this.source;
    if (!source || Date.now() - this.checkedAt < RECHECK_MS) return;
    this.checking ??= (async () => {
      try {
        const version = versionOf(await stat(source.file));
        if (version === source.version) return;
        const users = parseHtpasswd(await readFile(source.file, 'utf8'), source.file);
        source.version = version;
        this.users = users;
        this.remembered.clear();
      } catch {
        // missing for a moment (an editor replacing it) or half-written: keep the users read last, look again later
      } finally {
        this.checkedAt = Date.now();
        this.checking = undefined;
      }
    })();
    await this.checking;
  }

  async verify(user: string, password: string): Promise<boolean> {
    await this.refresh();
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
