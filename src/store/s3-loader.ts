/**
 * imagor's S3 loader (S3_LOADER_BUCKET / _BASE_DIR / _PATH_PREFIX): reads a source image by key from a bucket,
 * with a size cap, the same key mapping as S3 storage (a `..` never climbs out of the base dir) and short
 * timeouts. Its failures are the request's: PixgateError codes, not StorageError. Never writes.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { fail, PixgateError } from '../respond/errors.js';
import { classifyS3Error, createBreaker, createS3KeyMapper, readBody, s3Meta, withDeadline, type BreakerOptions, type S3KeyMapperOptions } from './s3-store.js';
import type { LoadOptions, SourceLoader, StoredBlob, StoredMeta } from './result-store.js';

export interface S3LoaderOptions extends S3KeyMapperOptions {
  readonly client: S3Client;
  /** Largest source read; 0 = no limit. A per-call LoadOptions.maxBytes overrides it. */
  readonly maxBytes?: number;
  /** The longest one load may take, body included. Default 10 s. */
  readonly timeoutMs?: number;
  readonly breaker?: BreakerOptions;
  readonly ownsClient?: boolean;
  readonly now?: () => number;
  readonly name?: string;
}

export function createS3Loader(opts: S3LoaderOptions): SourceLoader {
  const mapper = createS3KeyMapper(opts);
  const name = opts.name ?? `s3-loader:${mapper.describe}`;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const breaker = createBreaker(opts.breaker, now);

  /** The bucket and key, or undefined when the key is outside this loader's prefix (not ours). */
  function target(key: string): { bucket: string; key: string } | undefined {
    const t = mapper.map(key);
    if (t.ok) return t;
    if (t.reason === 'outside-prefix') return undefined;
    return fail('INVALID_PARAMS', `${name}: refused image key (${t.reason}: ${t.detail})`);
  }

  async function run<T>(fn: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
    if (breaker.isOpen()) fail('UPSTREAM_FAILED', `${name}: circuit open after recent failures`);
    const r = await withDeadline(timeoutMs, signal, fn);
    if (r.ok) {
      breaker.record('ok');
      return r.value;
    }
    if (r.err instanceof PixgateError) throw r.err;
    const failure = classifyS3Error(r.err, r.timedOut, r.callerAborted);
    breaker.record(failure);
    const detail = `${name}: ${r.err instanceof Error ? `${r.err.name}: ${r.err.message}` : String(r.err)}`;
    switch (failure) {
      case 'missing':
        return undefined;
      case 'aborted':
        throw signal?.reason ?? r.err;
      case 'timeout':
        throw new PixgateError('UPSTREAM_TIMEOUT', { detail, cause: r.err });
      case 'unavailable':
        throw new PixgateError('UPSTREAM_FAILED', { detail, cause: r.err });
      case 'denied':
        throw new PixgateError('UPSTREAM_NOT_FOUND', { detail, cause: r.err });
      default:
        throw new PixgateError('UPSTREAM_ERROR', { detail, cause: r.err });
    }
  }

  return {
    name,

    async get(key: string, load: LoadOptions = {}): Promise<StoredBlob | undefined> {
      const t = target(key);
      if (!t) return undefined;
      const limit = (load.maxBytes ?? opts.maxBytes ?? 0) || Infinity;
      return run(async (sig) => {
        const out = await opts.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig });
        const body = out.Body as Readable | undefined;
        const tooLarge = (): never => {
          body?.destroy();
          return fail('CONTENT_LENGTH_EXCEEDED', `${name}: ${key} is over ${limit} bytes`);
        };
        if ((out.ContentLength ?? 0) > limit) tooLarge();
        const data = await readBody(body, limit, tooLarge);
        return { meta: s3Meta(out, data.length, now()), body: data };
      }, load.signal);
    },

    async stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined> {
      const t = target(key);
      if (!t) return undefined;
      return run(async (sig) => {
        const out = await opts.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key }), { abortSignal: sig });
        return s3Meta(out, out.ContentLength ?? 0, now());
      }, signal);
    },

    async close(): Promise<void> {
      if (opts.ownsClient ?? true) opts.client.destroy();
    },
  };
}
