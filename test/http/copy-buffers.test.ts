import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COPY_CHUNK_SIZE, copyBuffersFor, LARGE_RESPONSES, LARGE_SPARES_IDLE_MS, SMALL_COPY_CHUNK_SIZE } from '../../src/http/copy-buffers.js';

/** One large response that takes two buffers, gives them back and ends; the buffers it had. */
function largeResponse(): Buffer[] {
  const buffers = copyBuffersFor(10 * COPY_CHUNK_SIZE);
  const taken = [buffers.take(), buffers.take()];
  for (const buffer of taken) buffers.giveBack(buffer);
  buffers.release();
  return taken;
}

describe('the buffers blob GETs copy through', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sizes them by the body: 1 MiB up to 1 MiB, 4 MiB above', () => {
    const small = copyBuffersFor(SMALL_COPY_CHUNK_SIZE);
    const large = copyBuffersFor(SMALL_COPY_CHUNK_SIZE + 1);
    expect(small.take().length).toBe(SMALL_COPY_CHUNK_SIZE);
    expect(large.take().length).toBe(COPY_CHUNK_SIZE);
    small.release();
    large.release();
  });

  it('reuses the 4 MiB buffers of back-to-back pulls, and lets them go once no large pull ran for a while', () => {
    const first = largeResponse();
    vi.advanceTimersByTime(LARGE_SPARES_IDLE_MS - 1);
    const second = largeResponse();
    expect(new Set([...first, ...second]).size).toBe(2);
    vi.advanceTimersByTime(LARGE_SPARES_IDLE_MS);
    const third = largeResponse();
    expect(third.some((buffer) => first.includes(buffer))).toBe(false);
  });

  it('keeps the spares while a large pull is still running', () => {
    const first = largeResponse();
    const running = copyBuffersFor(10 * COPY_CHUNK_SIZE);
    vi.advanceTimersByTime(2 * LARGE_SPARES_IDLE_MS);
    expect(first).toContain(running.take());
    running.release();
  });

  it(`gives 4 MiB buffers to at most ${LARGE_RESPONSES} responses at once, and again once one ends`, () => {
    const running = Array.from({ length: LARGE_RESPONSES }, () => copyBuffersFor(10 * COPY_CHUNK_SIZE));
    const beyond = copyBuffersFor(10 * COPY_CHUNK_SIZE);
    expect(beyond.take().length).toBe(SMALL_COPY_CHUNK_SIZE);
    running.pop()!.release();
    const next = copyBuffersFor(10 * COPY_CHUNK_SIZE);
    expect(next.take().length).toBe(COPY_CHUNK_SIZE);
    for (const buffers of [...running, beyond, next]) buffers.release();
  });
});
