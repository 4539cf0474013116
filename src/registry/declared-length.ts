/**
 * The length a request declared for its body (its Content-Length), carried with the body to the upload's
 * writer: a writer told where the body ends can start making its bytes durable before the last of them
 * arrive (FileWriter.expectSize), so that a chunk's 202 waits for less. Only a hint: the body may still end
 * early or run on, and what is stored is what arrived.
 */
const declared = new WeakMap<object, number>();

/** `body`, marked with the length its request declared (nothing is marked when it declared none). */
export function withDeclaredLength<T extends AsyncIterable<Uint8Array>>(body: T, length: number | undefined): T {
  if (length !== undefined) declared.set(body, length);
  return body;
}

/** The length `body`'s request declared, if it declared one. */
export const declaredLengthOf = (body: AsyncIterable<Uint8Array>): number | undefined => declared.get(body);
