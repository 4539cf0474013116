/**
 * UFile signing checked against UCloud's SDK sources (vendor-signing.fixture.ts): the plugin's production
 * signer and the emulator's own verifier each produce exactly the string the vendor signs, and the
 * emulator accepts the plugin's headers and refuses a signature over anything else.
 */
import { describe, expect, it } from 'vitest';
import { presignQuery, ufileAuthorization, ufileStringToSign } from '../../plugins/ufile/src/signing.js';
import { signature, stringToSign, verify } from './ufile-verifier.js';
import { VENDOR_SIGNING_CASES } from './vendor-signing.fixture.js';

const lowerCased = (headers: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

describe.each(VENDOR_SIGNING_CASES)('UFile signing of $name ($source)', (vector) => {
  const request = { method: vector.method, bucket: vector.bucket, key: vector.key, headers: vector.headers };

  it('the plugin signs exactly the string the vendor SDK signs', () => {
    expect(ufileStringToSign(request, vector.expires === undefined ? {} : { dateSlot: vector.expires })).toBe(vector.stringToSign);
  });

  it("the emulator's verifier rebuilds the same string from the request as received", () => {
    expect(stringToSign({ ...request, headers: lowerCased(vector.headers) }, vector.expires)).toBe(vector.stringToSign);
  });

  it('the Authorization header (or URL signature) the plugin sends is the one the verifier accepts', () => {
    const received = { ...request, headers: lowerCased(vector.headers) };
    if (vector.expires === undefined) {
      const header = ufileAuthorization('pub-key', 'priv-key', request);
      expect(header).toBe(`UCloud pub-key:${signature('priv-key', vector.stringToSign)}`);
      expect(verify(received, 'priv-key', header.slice('UCloud pub-key:'.length))).toBe(true);
      expect(verify(received, 'other-key', header.slice('UCloud pub-key:'.length))).toBe(false);
    } else {
      const query = presignQuery({ method: 'GET', bucket: vector.bucket, key: vector.key, publicKey: 'pub-key', privateKey: 'priv-key', expires: Number(vector.expires) });
      expect(verify(received, 'priv-key', query.Signature!, vector.expires)).toBe(true);
      expect(verify(received, 'priv-key', query.Signature!, String(Number(vector.expires) + 1))).toBe(false);
    }
  });
});
