/**
 * imagor's Cache-Control rules, pure: TTL > 0 -> `public, s-maxage=T, max-age=T, no-transform[,
 * stale-while-revalidate=S]` (S only when 0 < S < T); private when asked (expire(), or a request carrying
 * Cache-Control: private) -> `private, max-age=T, no-transform[...]`; TTL 0 -> no caching at all.
 */
export interface CachePolicy {
  readonly ttlSeconds: number;
  readonly swrSeconds: number;
  readonly private: boolean;
}

export const NO_CACHE = 'private, no-cache, no-store, must-revalidate';

export function cacheControl(p: CachePolicy): string {
  if (p.ttlSeconds <= 0) return NO_CACHE;
  const swr = p.swrSeconds > 0 && p.swrSeconds < p.ttlSeconds ? `, stale-while-revalidate=${p.swrSeconds}` : '';
  return p.private
    ? `private, max-age=${p.ttlSeconds}, no-transform${swr}`
    : `public, s-maxage=${p.ttlSeconds}, max-age=${p.ttlSeconds}, no-transform${swr}`;
}

/** Does the request's validator match (If-None-Match wins over If-Modified-Since, RFC 9110 13.2.2)? */
export function isNotModified(
  req: { ifNoneMatch: string | undefined; ifModifiedSince: string | undefined },
  etag: string,
  lastModifiedMs: number,
): boolean {
  if (req.ifNoneMatch !== undefined) {
    const bare = etag.replace(/^W\//, '');
    return req.ifNoneMatch.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag.replace(/^W\//, '') === bare;
    });
  }
  if (req.ifModifiedSince !== undefined) {
    const since = Date.parse(req.ifModifiedSince);
    // HTTP dates have second precision.
    return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}
