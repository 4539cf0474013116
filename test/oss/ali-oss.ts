/** The parts of the official `ali-oss` package the signing tests call, typed at this one boundary. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface AliSignUtils {
  buildCanonicalString(method: string, resource: string, request: { headers: Record<string, string>; parameters?: unknown }, expires?: string): string;
  authorization(id: string, secret: string, canonical: string): string;
  computeSignature(secret: string, canonical: string): string;
  getCanonicalRequest(
    method: string, request: { headers: Record<string, string>; queries?: Record<string, string | null> },
    bucket?: string, object?: string, additionalHeaders?: string[],
  ): string;
  getStringToSign(region: string, timestamp: string, canonicalRequest: string): string;
  getSignatureV4(secret: string, day: string, region: string, stringToSign: string): string;
  authorizationV4(
    id: string, secret: string, region: string, method: string,
    request: { headers: Record<string, string>; queries?: Record<string, string | null> },
    bucket?: string, object?: string, additionalHeaders?: string[],
  ): string;
}

export interface AliOssClient {
  put(name: string, content: Buffer, options?: { headers?: Record<string, string>; meta?: Record<string, string>; mime?: string }): Promise<unknown>;
  head(name: string): Promise<unknown>;
  get(name: string, options?: { headers?: Record<string, string> }): Promise<unknown>;
  list(query: Record<string, string | number> | null, options?: object): Promise<unknown>;
  listV2(query: Record<string, string | number> | null, options?: object): Promise<unknown>;
  delete(name: string): Promise<unknown>;
  copy(name: string, source: string): Promise<unknown>;
  deleteMulti(names: string[]): Promise<unknown>;
  initMultipartUpload(name: string, options?: { mime?: string; meta?: Record<string, string>; headers?: Record<string, string> }): Promise<{ uploadId: string }>;
  uploadPart(name: string, uploadId: string, partNo: number, file: string, start: number, end: number): Promise<{ etag: string }>;
  completeMultipartUpload(name: string, uploadId: string, parts: { number: number; etag: string }[]): Promise<unknown>;
  abortMultipartUpload(name: string, uploadId: string): Promise<unknown>;
  signatureUrl(name: string, options?: { expires?: number; method?: string }): string;
  signatureUrlV4(method: string, expires: number, request: object | undefined, objectName: string): Promise<string>;
}

export interface AliOssOptions {
  accessKeyId: string;
  accessKeySecret: string;
  bucket: string;
  endpoint: string;
  region?: string;
  authorizationV4?: boolean;
  secure?: boolean;
  timeout?: number;
  retryMax?: number;
}

export const aliSignUtils = require('ali-oss/lib/common/signUtils.js') as AliSignUtils;
const OSS = require('ali-oss') as new (options: AliOssOptions) => AliOssClient;
export const createAliOssClient = (options: AliOssOptions): AliOssClient => new OSS(options);
