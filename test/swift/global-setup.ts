/**
 * vitest globalSetup: one Swift all-in-one for every swift and s3 test file of the run, stopped at
 * the end. Test files also take their own lease (saio.ts), so each file still works when run alone.
 */
import { acquireSwift } from './saio.js';

export default async function setup(): Promise<() => Promise<void>> {
  const { release } = await acquireSwift();
  return release;
}
