/**
 * Runtime helpers shared by stowage's built-in storage plugins. A plugin may import only types from
 * 'stowage' at run time, so code two plugins share lives here, in a package of its own that each
 * plugin depends on like any other library. See README.md.
 */

// The generic object-store driver (alioss, ufile, s3, swift): a vendor implements ObjectStore, the kit does the rest.
export type { ListedObject, ListPage, MultipartUpload, ObjectHead, ObjectStore, RangeRead, RangeResult, UploadedPart } from './object-store.js';
export { keysUnder, storageFailed } from './object-store.js';
export { ObjectDriver, type ObjectDriverOptions } from './object-driver.js';
export { discardSavedUpload, loadSavedUpload, loadSavedUploadState, ObjectWriter, savedUploadSize, type SavedUpload, uploadStateKey, uploadTailKey } from './object-writer.js';
export { type BufferedReply, HttpClient, type HttpClientOptions, type OutgoingRequest, type StreamedReply } from './http-client.js';
export { HttpObjectStore, type StoreCall } from './http-object-store.js';
// The signal of the storage call in progress, handed to HttpClient's requests (a client that left aborts them).
export { currentSignal, passSignalsToRequests, withoutSignal, withSignal } from './signal-scope.js';
export { buildXml, parseXml, type XmlBody, type XmlElement, type XmlValue, xmlChildren, xmlText } from './xml.js';

// Retries, resumable reads, listing walks and growing part sizes (ObjectDriver, ObjectWriter, swift's authentication).
export { backoffMs, BackendError, isRetriable, isRetriableStatus, RETRY_EVENT, type RetryPolicy, withRetries } from './retry.js';
export { resumableReader, type ResumableSource } from './resumable-reader.js';
export { type ListDirectory, walkTree } from './walk.js';
export { partSizeAfter, PARTS_PER_SIZE } from './part-size.js';
export { type BackendResponse, headerValue, type ResponseHeaders } from './headers.js';

// Durations in driver options: Go duration strings, bare numbers in seconds (every built-in driver).
export { DURATION_EXPECTED, DurationError, type DurationRule, durationMs, GO_DURATION_PATTERN, parseGoDurationMs } from './duration.js';

// The one part of a backend's error answer that may be quoted: its code.
export { backendErrorCode } from './error-code.js';

// Upload claims: who holds one, and whether that holder is gone (a process killed mid-append), so one writer may take it over.
export { CLAIM_LEASE_MS, CLAIM_RENEW_MS, type ClaimRecord, claimGeneration, claimIsAbandoned, claimNameOf, decodeClaimRecord, encodeClaimRecord, newClaimRecord } from './claim-lease.js';
