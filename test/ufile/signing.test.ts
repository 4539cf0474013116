/**
 * stowage's UFile signing against UCloud's published material: the fixed vectors of requests-ucloud
 * (the seed driver's signer) and the string-to-sign the official Node and Go SDKs were observed sending.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalizedUCloudHeaders,
  presignQuery,
  ufileAuthorization,
  ufileSignature,
  ufileStringToSign,
} from '../../plugins/ufile/src/signing.js';

describe('UFile signing reproduces the requests-ucloud test vectors', () => {
  // requests-ucloud tests/test-ufile.py: PUT http://bucket-name.ufile.ucloud.cn/with blank key.html, body
  // "test-data", headers X-ucloud-1: 1 and x-uCloud-0: 2, Date "test-time", keys public-key/private-key.
  const md5 = createHash('md5').update('test-data').digest('base64');
  const headers = { 'Content-MD5': md5, 'Content-Type': 'text/html', Date: 'test-time', 'X-ucloud-1': '1', 'x-uCloud-0': '2' };
  const request = { method: 'PUT', bucket: 'bucket-name', key: 'with blank key.html', headers };

  it('signs the header-authorised PUT to /gwrk38YkvtudZZa0BNMbJSVZco=', () => {
    const signature = ufileSignature('private-key', ufileStringToSign(request, { headerLines: 'requests-ucloud' }));
    expect(`UCloud public-key:${signature}`).toBe('UCloud public-key:/gwrk38YkvtudZZa0BNMbJSVZco=');
  });

  it('signs the URL-authorised PUT (expires=1) to 0mJh0bJCJQ+1O9/FguUVH4f3pNs=', () => {
    const stringToSign = ufileStringToSign(
      { ...request, headers: { ...headers, 'Content-Type': '' } },
      { dateSlot: '1', headerLines: 'requests-ucloud' },
    );
    expect(ufileSignature('private-key', stringToSign)).toBe('0mJh0bJCJQ+1O9/FguUVH4f3pNs=');
  });

  it('rejects nothing silently: a different private key gives a different signature', () => {
    expect(ufileSignature('private-keY', ufileStringToSign(request, { headerLines: 'requests-ucloud' }))).not.toBe('/gwrk38YkvtudZZa0BNMbJSVZco=');
  });
});

describe('UFile string-to-sign matches what the official SDKs send', () => {
  it('builds the Node SDK put with an X-UCloud header exactly as observed', () => {
    const stringToSign = ufileStringToSign({
      method: 'PUT', bucket: 'probe-bkt', key: 'vprobe-mwrjg0u9fdc1/hello.txt',
      headers: { 'Content-Type': 'text/plain', 'Content-Length': '40', 'x-ucloud-probe': 'mwrjg0u9fdc1' },
    });
    expect(stringToSign).toBe('PUT\n\ntext/plain\n\nx-ucloud-probe:mwrjg0u9fdc1\n/probe-bkt/vprobe-mwrjg0u9fdc1/hello.txt');
  });

  it('signs bucket-level listings over /bucket/ and leaves the query out', () => {
    expect(ufileStringToSign({ method: 'GET', bucket: 'probe-bkt', key: '', headers: {} })).toBe('GET\n\n\n\n/probe-bkt/');
  });

  it('signs a Go SDK HEAD as HEAD with empty slots', () => {
    expect(ufileStringToSign({ method: 'HEAD', bucket: 'b', key: 'k', headers: {} })).toBe('HEAD\n\n\n\n/b/k');
  });

  it('signs multipart init with the empty Content-Type the Node SDK sends', () => {
    expect(ufileStringToSign({ method: 'POST', bucket: 'b', key: 'multi part.bin', headers: { 'Content-Length': '0' } }))
      .toBe('POST\n\n\n\n/b/multi part.bin');
  });

  it('keeps the key raw: neither encoded nor decoded', () => {
    expect(ufileStringToSign({ method: 'GET', bucket: 'b', key: 'a%2Fb c/名', headers: {} })).toBe('GET\n\n\n\n/b/a%2Fb c/名');
  });

  it('canonicalises X-UCloud headers lower-cased, sorted, one line each, repeated names joined by commas', () => {
    expect(canonicalizedUCloudHeaders({ 'X-UCloud-B': '2', 'x-ucloud-a': ' 1 ', 'Content-Type': 'x', 'X-Other': 'no' }))
      .toBe('x-ucloud-a:1\nx-ucloud-b:2\n');
  });

  it('puts Content-MD5 and Content-Type in their slots', () => {
    const request = { method: 'PUT', bucket: 'b', key: 'k', headers: { 'content-md5': 'bWQ1', 'content-type': 'application/octet-stream' } };
    expect(ufileStringToSign(request)).toBe('PUT\nbWQ1\napplication/octet-stream\n\n/b/k');
    expect(ufileAuthorization('pub', 'priv', request)).toBe(`UCloud pub:${ufileSignature('priv', 'PUT\nbWQ1\napplication/octet-stream\n\n/b/k')}`);
  });

  it('presigns a GET with Expires in the date slot, as the Go SDK DownloadFile URL does', () => {
    const query = presignQuery({ method: 'GET', bucket: 'b', key: 'docker/x/data', publicKey: 'pub', privateKey: 'priv', expires: 1900000000 });
    expect(query).toEqual({ UCloudPublicKey: 'pub', Expires: '1900000000', Signature: ufileSignature('priv', 'GET\n\n\n1900000000\n/b/docker/x/data') });
  });
});
