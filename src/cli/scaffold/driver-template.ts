/** index.js of a scaffolded plugin: a complete in-memory driver the author replaces with a real backend. */
export function driverSource(name: string): string {
  return `// @ts-check
/**
 * The ${name} storage driver for stowage.
 *
 * This starting point keeps objects in memory and passes stowage's driver conformance kit
 * (npx vitest run). Replace the Map below with calls to your backend, one method at a time, and keep
 * the kit green. The contract is stowage's StorageDriver (node_modules/stowage/dist/storage/driver.d.ts).
 *
 * Rules that matter:
 * - paths arrive already validated by stowage (absolute, "/"-separated);
 * - build errors with context.errors (pathNotFound, invalidOffset, ...): stowage recognises them by code;
 * - import only types from 'stowage': at run time this package depends on nothing of stowage's.
 */
import { Readable } from 'node:stream';

/** @typedef {import('stowage').DriverFactory<Options>} Factory */
/** @typedef {import('stowage').StorageDriver} StorageDriver */
/** @typedef {import('stowage').FileWriter} FileWriter */
/** @typedef {import('stowage').FileInfo} FileInfo */
/** @typedef {import('stowage').DriverContext} DriverContext */
/** @typedef {{ token?: string }} Options   what schema.json allows; the options arrive validated */
/** @typedef {{ data: Buffer, modTime: Date }} StoredObject */

/** @type {Factory} */
export const createDriver = (options, context) => new MemoryDriver(options, context);

/** @implements {StorageDriver} */
class MemoryDriver {
  /** @param {Options} _options  @param {DriverContext} context */
  constructor(_options, context) {
    this.name = ${JSON.stringify(name)};
    this.errors = context.errors;
    /** committed objects by path */
    /** @type {Map<string, StoredObject>} */
    this.objects = new Map();
    /** uploads not yet committed, by path */
    /** @type {Map<string, Buffer[]>} */
    this.pending = new Map();
    context.logger.debug('${name} driver ready');
  }

  /** @param {string} path */
  async getContent(path) {
    const object = this.objects.get(path);
    if (!object) throw this.errors.pathNotFound(path);
    return new Uint8Array(object.data);
  }

  /** @param {string} path  @param {Uint8Array} content */
  async putContent(path, content) {
    this.objects.set(path, { data: Buffer.from(content), modTime: new Date() });
  }

  /** @param {string} path  @param {number} offset */
  async reader(path, offset) {
    const object = this.objects.get(path);
    if (!object) throw this.errors.pathNotFound(path);
    if (offset > object.data.length) throw this.errors.invalidOffset(path, offset);
    return Readable.from([object.data.subarray(offset)].filter((b) => b.length > 0));
  }

  /** @param {string} path  @param {boolean} append  @returns {Promise<FileWriter>} */
  async writer(path, append) {
    // appending continues what an earlier writer left uncommitted, or committed content, or starts empty
    const committed = this.objects.get(path);
    /** @type {Buffer[]} */
    const chunks = append ? [...(this.pending.get(path) ?? (committed ? [committed.data] : []))] : [];
    // a fresh writer starts over at once; an appending one changes nothing until it is written to
    if (!append) this.pending.set(path, chunks);
    const driver = this;
    let size = chunks.reduce((n, c) => n + c.length, 0);
    let done = false;
    // the upload as this writer last left it: if it is not so any more, another writer (another process,
    // on a real backend) continued it from the same size first, and this one must be refused, not win
    let seen = append ? this.pending.get(path) : chunks;
    const refuseIfOvertaken = () => {
      if (driver.pending.get(path) === seen) return;
      done = true;
      throw driver.errors.invalidOffset(path, size);
    };
    return {
      get size() {
        return size;
      },
      async write(chunk) {
        if (done) throw new Error(\`${name}: write after close: \${path}\`);
        if (chunk.length === 0) return;
        refuseIfOvertaken();
        chunks.push(Buffer.from(chunk));
        size += chunk.length;
        driver.pending.set(path, chunks);
        seen = chunks;
      },
      async close() {
        done = true;
      },
      async cancel() {
        done = true;
        driver.pending.delete(path);
      },
      async commit() {
        refuseIfOvertaken();
        driver.objects.set(path, { data: Buffer.concat(chunks), modTime: new Date() });
        driver.pending.delete(path);
      },
    };
  }

  /**
   * The bytes an uncommitted upload holds, read without opening a writer (a status read must not write).
   * @param {string} path
   */
  async uploadSize(path) {
    const pending = this.pending.get(path);
    if (pending) return pending.reduce((n, c) => n + c.length, 0);
    const committed = this.objects.get(path);
    if (committed) return committed.data.length;
    throw this.errors.pathNotFound(path);
  }

  /** @param {string} path  @returns {Promise<FileInfo>} */
  async stat(path) {
    const object = this.objects.get(path);
    if (object) return { path, size: object.data.length, modTime: object.modTime, isDir: false };
    if (path === '/' || this.#hasChildren(path)) return { path, size: 0, modTime: this.#newestBelow(path), isDir: true };
    throw this.errors.pathNotFound(path);
  }

  /** @param {string} path */
  async list(path) {
    const prefix = path === '/' ? '/' : \`\${path}/\`;
    /** @type {Set<string>} */
    const children = new Set();
    for (const key of this.objects.keys()) {
      if (key.startsWith(prefix)) children.add(prefix + key.slice(prefix.length).split('/')[0]);
    }
    if (children.size === 0 && path !== '/') throw this.errors.pathNotFound(path);
    return [...children];
  }

  /** @param {string} sourcePath  @param {string} destPath */
  async move(sourcePath, destPath) {
    // an object cannot become a directory holding itself
    if (destPath.startsWith(\`\${sourcePath}/\`)) throw this.errors.invalidPath(destPath);
    const object = this.objects.get(sourcePath);
    if (object) {
      this.objects.set(destPath, object);
      this.objects.delete(sourcePath);
      return;
    }
    const below = [...this.objects.keys()].filter((key) => key.startsWith(\`\${sourcePath}/\`));
    if (below.length === 0) throw this.errors.pathNotFound(sourcePath);
    for (const key of below) {
      this.objects.set(destPath + key.slice(sourcePath.length), /** @type {StoredObject} */ (this.objects.get(key)));
      this.objects.delete(key);
    }
  }

  /** @param {string} path */
  async delete(path) {
    const doomed = [...this.objects.keys()].filter((key) => key === path || key.startsWith(\`\${path}/\`));
    if (doomed.length === 0) throw this.errors.pathNotFound(path);
    for (const key of doomed) this.objects.delete(key);
  }

  /** @param {string} path */
  #hasChildren(path) {
    const prefix = \`\${path}/\`;
    for (const key of this.objects.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** @param {string} path */
  #newestBelow(path) {
    let newest = new Date(0);
    const prefix = path === '/' ? '/' : \`\${path}/\`;
    for (const [key, object] of this.objects) if (key.startsWith(prefix) && object.modTime > newest) newest = object.modTime;
    return newest;
  }
}
`;
}
