/** A minimal ustar writer: enough to build real image layers (regular files and directories). */

export interface TarEntry {
  /** path inside the archive; directories end with `/` */
  readonly name: string;
  /** file content; omitted for a directory */
  readonly content?: Uint8Array;
  readonly mode?: number;
}

const BLOCK = 512;
const FIXED_MTIME = 1_700_000_000;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar header field too long: ${value}`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function headerFor(entry: TarEntry): Buffer {
  const header = Buffer.alloc(BLOCK);
  const isDir = entry.name.endsWith('/');
  writeString(header, 0, 100, entry.name);
  writeOctal(header, 100, 8, entry.mode ?? (isDir ? 0o755 : 0o644));
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, isDir ? 0 : (entry.content?.length ?? 0));
  writeOctal(header, 136, 12, FIXED_MTIME);
  header.fill(' ', 148, 156);
  header[156] = isDir ? 0x35 : 0x30;
  writeString(header, 257, 6, 'ustar\0');
  writeString(header, 263, 2, '00');
  writeString(header, 265, 32, 'root');
  writeString(header, 297, 32, 'root');
  let checksum = 0;
  for (const byte of header) checksum += byte;
  writeString(header, 148, 8, checksum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(headerFor(entry));
    if (!entry.name.endsWith('/') && entry.content && entry.content.length > 0) {
      parts.push(Buffer.from(entry.content));
      const padding = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(Buffer.alloc(padding));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
