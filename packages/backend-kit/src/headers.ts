/** What undici hands back as response headers, and the one reading of them every driver needs. */

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** A reply whose status the caller decides about; `B` is a Buffer for buffered calls, a Readable for streamed ones. */
export interface BackendResponse<B> {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly body: B;
}

/** The first value of a header (a repeated header arrives as an array). */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
