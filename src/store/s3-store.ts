/**
 * imagor's S3 storage (storage/s3storage) as a BlobStore, through the AWS SDK v3: keys normalised with S3's safe
 * characters and mapped under a path prefix and a base dir (a `..` never climbs out of it), streaming uploads
 * with lib-storage's Upload, ETag and Last-Modified from the object, expiration on read, and short timeouts with
 * a circuit breaker so that an outage costs one timeout per cool-down, not one per request. Failures surface as
 * StorageError. Also the S3 plumbing (client, key mapping, error classes) that s3-loader.ts shares.
 */
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isValidBucketName, parseBucketSpec, resolveKey, s3ObjectKey, s3SafeChars, splitWildcardKey, normalizeDirPrefix, type KeyResolution, type KeyRules } from './keys.js';
import { StorageError, type BlobStore, type PutMeta, type StorageFailure, type StoredBlob, type StoredMeta } from './result-store.js';

export interface S3ClientOptions {
  readonly region?: string;
  /** Static credentials; without them the SDK's default chain (env, shared config, instance role) is used. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Socket connect timeout. Default 2 s. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for the response head, and longest socket idle time. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Sockets kept per endpoint (S3_HTTP_MAX_IDLE_CONNS_PER_HOST). Default 100. */
  readonly maxSockets?: number;
  /** SDK attempts per request (retries + 1). Default 2: fast failure beats patience for a cache. */
  readonly maxAttempts?: number;
  /**
   * The SDK's flexible checksums. Default: `when-supported` on AWS, `when-required` on a custom endpoint, since many
   * S3-compatible servers (older MinIO, Ceph, GCS interoperability) reject or mangle the newer checksum headers.
   */
  readonly checksums?: 'when-supported' | 'when-required';
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  const connectionTimeout = opts.connectTimeoutMs ?? 2000;
  const requestTimeout = opts.requestTimeoutMs ?? 10_000;
  const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets ?? 100, maxFreeSockets: opts.maxSockets ?? 100 };
  const checksums = opts.checksums ?? (opts.endpoint ? 'when-required' : 'when-supported');
  const config: S3ClientConfig = {
    region: opts.region || (opts.endpoint ? 'us-east-1' : undefined),
    forcePathStyle: opts.forcePathStyle ?? false,
    maxAttempts: opts.maxAttempts ?? 2,
    requestHandler: {
      connectionTimeout,
      requestTimeout,
      throwOnRequestTimeout: true,
      socketTimeout: requestTimeout,
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    },
    requestChecksumCalculation: checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: checksums === 'when-required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: { ...opts.credentials } } : {}),
  };
  return new S3Client(config);
}

export interface S3KeyMapperOptions {
  /** `bucket`, `bucket/base/dir` or `*` (the first key segment is the bucket). */
  readonly bucket: string;
  readonly baseDir?: string;
  readonly pathPrefix?: string;
  /** S3_SAFE_CHARS; `!"()*` are always kept, `--` turns escaping off. */
  readonly safeChars?: string;
}

export type S3Target = { readonly ok: true; readonly bucket: string; readonly key: string } | Extract<KeyResolution, { ok: false }>;

/** The bucket and object key for an image key (imagor's S3Storage.resolve and Path). */
export function createS3KeyMapper(opts: S3KeyMapperOptions): { readonly describe: string; map(key: string): S3Target } {
  const spec = parseBucketSpec(opts.bucket, opts.baseDir ?? '');
  const rules: KeyRules = { pathPrefix: normalizeDirPrefix(opts.pathPrefix ?? ''), safeChars: s3SafeChars(opts.safeChars ?? ''), refuseDotFiles: false };
  return {
    describe: `${spec.bucket}${spec.baseDir === '/' ? '' : spec.baseDir.replace(/\/$/, '')}`,
    map(key: string): S3Target {
      let bucket = spec.bucket;
      let rest = key;
      if (bucket === '*') {
        const split = splitWildcardKey(key);
        if (!split) return { ok: false, reason: 'empty', detail: 'no bucket segment in the key' };
        if (!isValidBucketName(split.bucket)) return { ok: false, reason: 'traversal', detail: 'not a valid bucket name' };
        bucket = split.bucket;
        rest = split.rest;
      }
      const r = resolveKey(rest, rules);
      if (!r.ok) return r;
      return { ok: true, bucket, key: s3ObjectKey(spec.baseDir, r.relative) };
    },
  };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EPROTO',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET',
]);

/** 'missing' for a 404 of any spelling; otherwise the failure class of an SDK or socket error. */
export function classifyS3Error(err: unknown, timedOut: boolean, callerAborted: boolean): StorageFailure | 'missing' {
  const e = err as { name?: string; code?: string; Code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? '';
  if (name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket' || status === 404) return 'missing';
  if (timedOut) return 'timeout';
  if (callerAborted) return 'aborted';
  if (name === 'TimeoutError' || name === 'RequestTimeout' || e?.code === 'ETIMEDOUT') return 'timeout';
  if (status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') return 'denied';
  if (status !== undefined && status >= 500) return 'unavailable';
  if (name === 'EntityTooLarge') return 'too-large';
  const code = e?.code ?? (e?.cause as { code?: string } | undefined)?.code ?? '';
  if (UNAVAILABLE_CODES.has(code)) return 'unavailable';
  if (name === 'AbortError') return 'aborted';
  return 'io';
}

export interface BreakerOptions {
  /** Consecutive unavailable/timeout failures that open the circuit. Default 2. */
  readonly failures?: number;
  /** How long an open circuit fails operations at once before letting them try again. Default 5 s. */
  readonly cooldownMs?: number;
}

/** Fails fast during an outage: after N consecutive outage failures, every call fails at once for a cool-down. */
export function createBreaker(opts: BreakerOptions = {}, now: () => number = Date.now) {
  const threshold = opts.failures ?? 2;
  const cooldownMs = opts.cooldownMs ?? 5000;
  let consecutive = 0;
  let openUntil = 0;
  return {
    isOpen: (): boolean => openUntil > now(),
    record(outcome: 'ok' | StorageFailure | 'missing'): void {
      if (outcome === 'unavailable' || outcome === 'timeout') {
        consecutive++;
        if (consecutive >= threshold) openUntil = now() + cooldownMs;
      } else if (outcome === 'ok' || outcome === 'missing') {
        consecutive = 0;
        openUntil = 0;
      }
    },
  };
}
export type Breaker = ReturnType<typeof createBreaker>;

/** Runs fn with a signal that fires on the caller's abort or after timeoutMs, and says which one fired. */
export async function withDeadline<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; err: unknown; timedOut: boolean; callerAborted: boolean }> {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new DOMException('S3 operation timed out', 'TimeoutError')), timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
  try {
    if (combined.aborted) throw combined.reason;
    return { ok: true, value: await fn(combined) };
  } catch (err) {
    return { ok: false, err, timedOut: timer.signal.aborted, callerAborted: signal?.aborted ?? false };
  } finally {
    clearTimeout(handle);
  }
}

/** Reads a response body into memory, refusing more than `limit` bytes. */
export async function readBody(body: unknown, limit: number, onTooLarge: () => never): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  const stream = body as Readable;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) onTooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy?.();
    throw err;
  }
  return Buffer.concat(chunks, total);
}

/** User metadata holding the Last-Modified a writer asked for (S3 sets LastModified itself, at upload time). */
const MODIFIED_META = 'pixgate-modified-ms';

/**
 * The object's own ETag (imagor's `mtime-size` form when a server sends none) and its Last-Modified: the one its
 * writer recorded, else S3's. The expiration still uses S3's LastModified.
 */
export function s3Meta(
  out: { ETag?: string; LastModified?: Date; ContentLength?: number; ContentType?: string; Metadata?: Record<string, string> },
  size: number,
  fallbackMs: number,
): StoredMeta {
  const recorded = Number(out.Metadata?.[MODIFIED_META]);
  const modifiedMs = Number.isSafeInteger(recorded) && recorded > 0 ? recorded : (out.LastModified?.getTime() ?? fallbackMs);
  return {
    size,
    modifiedMs,
    etag: out.ETag ?? `"${modifiedMs.toString(16)}-${size.toString(16)}"`,
    ...(out.ContentType ? { contentType: out.ContentType } : {}),
  };
}

export interface S3StoreOptions extends S3KeyMapperOptions {
  readonly client: S3Client;
  /** Canned ACL sent with each write; empty: none. */
  readonly acl?: string;
  /** Object tags as a query string. */
  readonly tagging?: string;
  readonly storageClass?: string;
  /** Objects older than this (Last-Modified) are misses, not deleted. 0 = never. */
  readonly expirationMs?: number;
  /** The longest any one operation may take, body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest object read into memory. Default 512 MiB. */
  readonly maxObjectBytes?: number;
  /** Multipart part size for large uploads. Default 5 MiB (the S3 minimum). */
  readonly partSize?: number;
  readonly breaker?: BreakerOptions;
  /** Destroy the client on close (false when the client is shared). Default true. */
  readonly ownsClient?: boolean;
  readonly now?: () => number;
  readonly name?: string;
}

export function createS3Store(opts: S3StoreOptions): BlobStore {
  const mapper = createS3KeyMapper(opts);
  const name = opts.name ?? `s3:${mapper.describe}`;
  const client = opts.client;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const expirationMs = opts.expirationMs ?? 0;
  const maxObjectBytes = opts.maxObjectBytes ?? 512 * 1024 * 1024;
  const breaker = createBreaker(opts.breaker, now);

  function target(key: string, op: StorageError['op']): { bucket: string; key: string } {
    const t = mapper.map(key);
    if (!t.ok) throw new StorageError('invalid-key', name, op, `${t.reason}: ${t.detail}`);
    return t;
  }

  /** Breaker, deadline and error classification around one operation; `undefined` from fn means a miss. */
  async function run<T>(op: StorageError['op'], signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (breaker.isOpen()) throw new StorageError('unavailable', name, op, 'circuit open after recent failures');
    const r = await withDeadline(timeoutMs, signal, fn);
    if (r.ok) {
      breaker.record('ok');
      return r.value;
    }
    if (r.err instanceof StorageError) {
      breaker.record(r.err.reason);
      throw r.err;
    }
    const failure = classifyS3Error(r.err, r.timedOut, r.callerAborted);
    breaker.record(failure);
    if (failure === 'missing') return undefined;
    const message = r.err instanceof Error ? `${r.err.name}: ${r.err.message}` : String(r.err);
    throw new StorageError(failure, name, op, message, r.err);
  }

  return {
    name,

    async get(key: string, signal?: AbortSignal): Promise<StoredBlob | undefined> {
      const t = target(key, 'get');
      return run('get', signal, async (sig) => {
        const out = await client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig });
        const body = out.Body as Readable | undefined;
        if (expirationMs > 0 && out.LastModified && now() - out.LastModified.getTime() > expirationMs) {
          body?.destroy();
          return undefined;
        }
        const tooLarge = (): never => {
          body?.destroy();
          throw new StorageError('too-large', name, 'get', `over ${maxObjectBytes} bytes`);
        };
        if ((out.ContentLength ?? 0) > maxObjectBytes) tooLarge();
        const data = await readBody(body, maxObjectBytes, tooLarge);
        return { meta: s3Meta(out, data.length, now()), body: data };
      });
    },

    async stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined> {
      const t = target(key, 'stat');
      return run('stat', signal, async (sig) => {
        const out = await client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig });
        return s3Meta(out, out.ContentLength ?? 0, now());
      });
    },

    async put(key: string, body: Buffer | Readable, meta: PutMeta, signal?: AbortSignal): Promise<StoredMeta> {
      try {
        return await putObject(key, body, meta, signal);
      } catch (err) {
        // A stream nobody reads would hold its producer back: a failed put releases it.
        if (!Buffer.isBuffer(body)) body.destroy();
        throw err;
      }
    },

    async delete(key: string, signal?: AbortSignal): Promise<void> {
      const t = target(key, 'delete');
      await run('delete', signal, async (sig) => {
        await client.send(new DeleteObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig });
      });
    },

    async close(): Promise<void> {
      if (opts.ownsClient ?? true) client.destroy();
    },
  };

  async function putObject(key: string, body: Buffer | Readable, meta: PutMeta, signal?: AbortSignal): Promise<StoredMeta> {
    const t = target(key, 'put');
    if (Buffer.isBuffer(body) && body.length > maxObjectBytes) throw new StorageError('too-large', name, 'put', `${body.length} bytes`);
    const stored = await run('put', signal, async (sig) => {
      const abort = new AbortController();
      const onAbort = (): void => abort.abort(sig.reason);
      sig.addEventListener('abort', onAbort, { once: true });
      try {
        const upload = new Upload({
          client,
          params: {
            Bucket: t.bucket,
            Key: t.key,
            Body: body,
            ...(meta.contentType ? { ContentType: meta.contentType } : {}),
            ...(meta.modifiedMs !== undefined ? { Metadata: { [MODIFIED_META]: String(Math.floor(meta.modifiedMs)) } } : {}),
            ...(opts.acl ? { ACL: opts.acl as never } : {}),
            ...(opts.tagging ? { Tagging: opts.tagging } : {}),
            ...(opts.storageClass && opts.storageClass !== 'STANDARD' ? { StorageClass: opts.storageClass as never } : {}),
          },
          partSize: opts.partSize ?? 5 * 1024 * 1024,
          queueSize: 2,
          leavePartsOnError: false,
          abortController: abort,
        });
        const done = await upload.done();
        // Last-Modified comes only from the object itself; a failed HEAD still leaves a stored object.
        const head = await client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig }).catch(() => undefined);
        return head ? s3Meta(head, head.ContentLength ?? 0, now()) : s3Meta({ ETag: done.ETag, ContentType: meta.contentType }, Buffer.isBuffer(body) ? body.length : 0, now());
      } finally {
        sig.removeEventListener('abort', onAbort);
      }
    });
    if (!stored) throw new StorageError('io', name, 'put', 'no such bucket');
    return stored;
  }
}
