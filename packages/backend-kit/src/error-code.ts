/**
 * What of a backend's error answer may go into an error message: its code, when it looks like one
 * (`NoSuchKey`, `SignatureDoesNotMatch`). Never the message or the body: a backend (or a proxy in front of
 * it) may echo the request back, with its token, key or signature, and error messages reach logs.
 */
const CODE = /^-?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function backendErrorCode(value: string | number | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  return CODE.test(text) ? text : undefined;
}
