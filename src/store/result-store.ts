/**
 * The storage interfaces: a BlobStore (imagor's Storage: source storage and result storage, on the file system or
 * S3) and a SourceLoader (imagor's file and S3 loaders). Declarations and the typed StorageError only; the
 * implementations are file-store.ts, s3-store.ts, file-loader.ts and s3-loader.ts.
 */
import type { Readable } from 'node:stream';
import { PixgateError } from '../respond/errors.js';

export interface StoredMeta {
  readonly size: number;
  /** Milliseconds since the epoch (Last-Modified; the modified-time check compares these). */
  readonly modifiedMs: number;
  /** A quoted entity-tag, ready for an ETag header: the object's own on S3, `"<mtime ms hex>-<size hex>"` on disk. */
  readonly etag: string;
  /** What S3 stored; undefined on disk (the caller sniffs the bytes). */
  readonly contentType?: string;
}

export interface PutMeta {
  readonly contentType?: string;
  /**
   * The object's Last-Modified, when the caller has one (a processed result: when it was made), so every instance
   * reading it back sends the Last-Modified the first one sent. Default: the time of the write.
   */
  readonly modifiedMs?: number;
}

export interface StoredBlob {
  readonly meta: StoredMeta;
  readonly body: Buffer;
}

/**
 * Source storage or result storage. Every method either answers or throws a StorageError; a caller must treat
 * any StorageError as "no storage" (log, count, go on) and never fail the request because of it.
 */
export interface BlobStore {
  /** For logs and metrics, e.g. `file:/var/cache/pixgate` or `s3:bucket/base`. */
  readonly name: string;
  /** undefined: a miss, or an object older than the configured expiration (it is not deleted). */
  get(key: string, signal?: AbortSignal): Promise<StoredBlob | undefined>;
  /** undefined: a miss. Expiration is not applied (as imagor's Stat). */
  stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined>;
  put(key: string, body: Buffer | Readable, meta: PutMeta, signal?: AbortSignal): Promise<StoredMeta>;
  /** A missing object is not an error. */
  delete(key: string, signal?: AbortSignal): Promise<void>;
  /** Releases clients, sockets and timers. */
  close(): Promise<void>;
}

export interface LoadOptions {
  readonly signal?: AbortSignal;
  /** Overrides the loader's own limit; 0 = no limit. */
  readonly maxBytes?: number;
}

/**
 * imagor's file and S3 loaders. Unlike a BlobStore, a loader's errors are the request's errors: it throws
 * PixgateError INVALID_PARAMS for a key that would leave its root, CONTENT_LENGTH_EXCEEDED over the size limit,
 * UPSTREAM_TIMEOUT / UPSTREAM_FAILED / UPSTREAM_ERROR when its backend fails.
 */
export interface SourceLoader {
  readonly name: string;
  /** undefined: not here (missing, or outside this loader's path prefix): try the next loader. */
  get(key: string, opts?: LoadOptions): Promise<StoredBlob | undefined>;
  /** For IMAGOR_MODIFIED_TIME_CHECK (imagor's optional Stater). undefined: not here. */
  stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined>;
  close(): Promise<void>;
}

export type StorageFailure =
  /** The key is refused (would leave the base directory, outside the path prefix, a dot file). */
  | 'invalid-key'
  /** Connection refused or reset, DNS failure, 5xx, or the circuit is open after recent failures. */
  | 'unavailable'
  | 'timeout'
  /** The caller's signal aborted the operation. */
  | 'aborted'
  /** EACCES / EPERM / 403. */
  | 'denied'
  /** ENOSPC / EDQUOT. */
  | 'full'
  /** The object is larger than the store accepts. */
  | 'too-large'
  | 'io';

/**
 * A storage failure. It is a PixgateError with code INTERNAL so that, should one ever escape, it is a plain 500;
 * callers are expected to catch it (isStorageError) and carry on without the storage.
 */
export class StorageError extends PixgateError {
  readonly reason: StorageFailure;
  readonly store: string;
  readonly op: 'get' | 'stat' | 'put' | 'delete';

  constructor(reason: StorageFailure, store: string, op: StorageError['op'], detail: string, cause?: unknown) {
    super('INTERNAL', { detail: `${store} ${op}: ${reason}: ${detail}`, cause });
    this.name = 'StorageError';
    this.reason = reason;
    this.store = store;
    this.op = op;
  }
}

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError;
}
