/**
 * imagor's HTTP loader on top of the safe fetcher: resolve the image key to a URL by the source policy, fetch it
 * with the policy checked on every hop, map the origin's status, check the Content-Type against HTTP_LOADER_ACCEPT,
 * and read the body (decoded, capped) into memory for the processor.
 */
import type { SourcePolicy } from '../policy/source.js';
import { parseMediaType } from '../policy/content-type.js';
import { fail, PixgateError } from '../respond/errors.js';
import { classifyBodyError, type SafeFetcher } from './http-fetch.js';

export interface LoadedSource {
  readonly data: Buffer;
  /** The origin's media type, re-serialised; undefined when it sent none. */
  readonly contentType: string | undefined;
  readonly lastModifiedMs: number | undefined;
  readonly url: string;
}

export interface HttpLoaderOptions {
  readonly fetcher: SafeFetcher;
  readonly policy: SourcePolicy;
  readonly accept: string;
  readonly maxBytes: number;
  readonly forwardHeaders: readonly string[];
}

export interface LoadRequest {
  readonly image: string;
  readonly signal: AbortSignal;
  readonly deadline: AbortSignal;
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly selfHosts: readonly string[];
}

/**
 * Client headers never forwarded, even when HTTP_LOADER_FORWARD_HEADERS lists them: credentials and the reader's
 * address (they must not reach a third party); hop-by-hop and framing headers (they describe the client's
 * connection, and undici refuses a request that carries them, so one client could make every load fail); and
 * range and conditional headers (the loader needs the whole image with a 200, not a 206 or a 304).
 */
const NEVER_FORWARDED = new Set([
  'cookie', 'authorization', 'proxy-authorization', 'via', 'x-forwarded-for', 'forwarded',
  'host', 'connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'content-length',
  'range', 'if-range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since',
]);

export function createHttpLoader(opts: HttpLoaderOptions) {
  const acceptGlobs = opts.accept
    .split(',')
    .map((s) => s.split(';')[0]!.trim().toLowerCase())
    .filter(Boolean);
  const acceptsAll = acceptGlobs.length === 0 || acceptGlobs.includes('*/*');
  const forward = opts.forwardHeaders.map((h) => h.toLowerCase()).filter((h) => !NEVER_FORWARDED.has(h));

  return {
    /** The origin's Last-Modified by a HEAD request (IMAGOR_MODIFIED_TIME_CHECK), or undefined. */
    async lastModified(image: string, signal: AbortSignal): Promise<number | undefined> {
      const res = await opts.fetcher.fetch({
        url: opts.policy.resolve(image),
        method: 'HEAD',
        headers: { accept: opts.accept },
        signal,
        deadline: signal,
        maxBytes: 0,
        checkUrl: opts.policy.check,
      });
      res.body.destroy();
      const lm = res.status === 200 ? res.headers['last-modified'] : undefined;
      const ms = typeof lm === 'string' ? Date.parse(lm) : NaN;
      return Number.isFinite(ms) ? ms : undefined;
    },
    async load(req: LoadRequest): Promise<LoadedSource> {
      const url = opts.policy.resolve(req.image);
      const headers: Record<string, string> = { accept: opts.accept };
      for (const name of forward) {
        const v = req.clientHeaders[name];
        if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
      }
      const fetchReq = {
        url,
        method: 'GET' as const,
        headers,
        signal: req.signal,
        deadline: req.deadline,
        maxBytes: opts.maxBytes,
        decode: true,
        checkUrl: opts.policy.check,
        selfHosts: req.selfHosts,
      };
      const res = await opts.fetcher.fetch(fetchReq);
      if (res.status !== 200) {
        res.body.destroy();
        if (res.status >= 500) fail('UPSTREAM_ERROR', `origin answered ${res.status}`);
        fail('UPSTREAM_NOT_FOUND', `origin answered ${res.status}`);
      }
      const rawType = res.headers['content-type'];
      const media = typeof rawType === 'string' ? parseMediaType(rawType) : undefined;
      if (!acceptsAll) {
        const ok = media && acceptGlobs.some((g) => g === `${media.type}/${media.subtype}` || g === `${media.type}/*`);
        if (!ok) {
          res.body.destroy();
          fail('UNSUPPORTED_CONTENT_TYPE', `content-type ${String(rawType).slice(0, 80)} not in HTTP_LOADER_ACCEPT`);
        }
      }
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of res.body) chunks.push(chunk as Buffer);
      } catch (err) {
        throw classifyBodyError(err, fetchReq);
      }
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (data.length === 0) throw new PixgateError('UNSUPPORTED_FORMAT', { detail: 'empty body' });
      const lm = res.headers['last-modified'];
      const lastModifiedMs = typeof lm === 'string' ? Date.parse(lm) : NaN;
      return {
        data,
        contentType: media ? `${media.type}/${media.subtype}` : undefined,
        lastModifiedMs: Number.isFinite(lastModifiedMs) ? lastModifiedMs : undefined,
        url: res.url.href,
      };
    },
  };
}

export type HttpLoader = ReturnType<typeof createHttpLoader>;
