/**
 * Writes a processed (or stored) image or meta JSON: Content-Type, Content-Length, Content-Disposition, ETag,
 * Last-Modified, Cache-Control, Expires, Vary, and 304 for a matching conditional request. HEAD gets the same
 * headers and no body.
 */
import type { Req, Res } from '../server/http-types.js';
import { headerString } from '../server/http-types.js';
import { isNotModified } from './cache-headers.js';

export interface ImageResponse {
  readonly data: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly cacheControl: string;
  readonly expiresMs: number | undefined;
  readonly vary: boolean;
  /** `inline` or `attachment; filename="..."`; imagor always sends one. Omitted when undefined. */
  readonly contentDisposition?: string | undefined;
  /** Headers that replace any value already set. */
  readonly extraHeaders?: readonly (readonly [string, string])[];
  /** Headers added beside any value already set (a second Content-Security-Policy is enforced as well). */
  readonly appendHeaders?: readonly (readonly [string, string])[];
}

const dates = new Map<number, string>();

/** RFC 9110 date of a time, cached per second (most responses of a second share their Expires and Last-Modified). */
export function httpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  let text = dates.get(second);
  if (text === undefined) {
    text = new Date(second * 1000).toUTCString();
    if (dates.size >= 64) dates.clear();
    dates.set(second, text);
  }
  return text;
}

function appendHeader(res: Res, name: string, value: string): void {
  const current = res.getHeader(name);
  if (current === undefined) res.setHeader(name, value);
  else res.setHeader(name, [...(Array.isArray(current) ? current : [String(current)]), value]);
}

/** Returns the number of body bytes written. */
export function sendImage(req: Req, res: Res, img: ImageResponse): number {
  res.setHeader('ETag', img.etag);
  res.setHeader('Last-Modified', httpDate(img.lastModifiedMs));
  res.setHeader('Cache-Control', img.cacheControl);
  if (img.expiresMs !== undefined) res.setHeader('Expires', httpDate(img.expiresMs));
  if (img.vary) res.setHeader('Vary', 'Accept');
  if (img.contentDisposition !== undefined) res.setHeader('Content-Disposition', img.contentDisposition);
  for (const [name, value] of img.extraHeaders ?? []) res.setHeader(name, value);
  for (const [name, value] of img.appendHeaders ?? []) appendHeader(res, name, value);

  const notModified = isNotModified(
    { ifNoneMatch: headerString(req.headers['if-none-match']), ifModifiedSince: headerString(req.headers['if-modified-since']) },
    img.etag,
    img.lastModifiedMs,
  );
  if (notModified) {
    res.statusCode = 304;
    res.end();
    return 0;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', img.contentType);
  res.setHeader('Content-Length', img.data.length);
  if (req.method === 'HEAD') {
    res.end();
    return 0;
  }
  res.end(img.data);
  return img.data.length;
}
