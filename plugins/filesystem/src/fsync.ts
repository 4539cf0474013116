import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a rename in the file's directory durable (the directory entry, not only the data, is synced). */
export async function syncDirectory(file: string): Promise<void> {
  const dir = await open(dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
