/**
 * The camo job, stage by stage: verify the digest, refuse loops, fetch the origin safely, map its status as
 * go-camo does, validate and re-serialise the content type, copy allow-listed headers, stream the body.
 */
import type { OriginResponse } from '../load/http-fetch.js';
import { classifyBodyError } from '../load/http-fetch.js';
import { checkProxiedContentType } from '../policy/content-type.js';
import { isPixgateError, PixgateError } from '../respond/errors.js';
import { passThrough } from '../respond/pass-through.js';
import type { CamoCandidate } from '../route/route.js';
import type { App } from '../server/app.js';
import { headerString, requestSelfHosts, type ClientWatch, type Req, type Res } from '../server/http-types.js';
import { verifyCamoPath, verifyCamoQuery } from '../verify/camo-digest.js';
import { createDeadline } from '../server/deadline.js';
import { nodeMac } from '../verify/node-mac.js';

/** Client request headers passed upstream (go-camo's ValidReqHeaders): content negotiation, caching, ranges. */
const FORWARDED_REQUEST_HEADERS = ['accept-charset', 'accept-language', 'cache-control', 'if-none-match', 'if-modified-since', 'range'];

/** Origin response headers passed to the client (go-camo's ValidRespHeaders). Content-Type is re-serialised. */
const COPIED_RESPONSE_HEADERS = [
  ['accept-ranges', 'Accept-Ranges'], ['content-length', 'Content-Length'], ['content-range', 'Content-Range'],
  ['cache-control', 'Cache-Control'], ['content-encoding', 'Content-Encoding'], ['etag', 'ETag'], ['expires', 'Expires'],
  ['last-modified', 'Last-Modified'],
] as const;

export interface CamoOutcome {
  readonly bytes: number;
  readonly sourceHost: string;
}

export function verifyCamo(app: App, candidate: CamoCandidate): string {
  return candidate.form === 'path'
    ? verifyCamoPath(candidate.digest, candidate.encodedUrl, app.camoKeys, nodeMac)
    : verifyCamoQuery(candidate.digest, candidate.url, app.camoKeys, nodeMac);
}

export async function serveCamo(app: App, req: Req, res: Res, sourceUrl: string, client: ClientWatch): Promise<CamoOutcome> {
  const s = app.settings;
  const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
  const timing = createDeadline(s.timeout, client);
  const { signal, deadline } = timing;
  try {
    return await fetchAndStream(app, req, res, sourceUrl, method, signal, deadline);
  } finally {
    timing.dispose();
  }
}

async function fetchAndStream(
  app: App,
  req: Req,
  res: Res,
  sourceUrl: string,
  method: 'GET' | 'HEAD',
  signal: AbortSignal,
  deadline: { readonly aborted: boolean },
): Promise<CamoOutcome> {
  const s = app.settings;
  const fetchReq = {
    url: sourceUrl,
    method,
    headers: upstreamHeaders(app, req),
    signal,
    deadline,
    maxBytes: s.maxSizeKb * 1024,
    checkUrl: app.checkCamoSource,
    selfHosts: requestSelfHosts(req),
  } as const;

  let upstream: OriginResponse;
  try {
    upstream = await app.fetcher.fetch(fetchReq);
  } catch (err) {
    if (isPixgateError(err) && err.code === 'CONTENT_LENGTH_EXCEEDED') {
      app.metrics.camo.contentLengthExceeded.inc();
      if (s.maxSizeRedirect) {
        res.statusCode = 302;
        res.setHeader('Location', s.maxSizeRedirect);
        res.end();
        return { bytes: 0, sourceHost: hostOf(sourceUrl) };
      }
    }
    throw err;
  }

  const sourceHost = upstream.url.host;
  const status = upstream.status;
  if (status !== 200 && status !== 206 && status !== 304) {
    upstream.body.destroy();
    throw statusError(status);
  }
  const headers: [string, string | string[]][] = [];
  for (const [lower, name] of COPIED_RESPONSE_HEADERS) {
    const v = upstream.headers[lower];
    if (v !== undefined) headers.push([name, v]);
  }
  let mediaType: { type: string; subtype: string } | undefined;
  if (status !== 304) {
    const ct = checkProxiedContentType(headerString(upstream.headers['content-type']), {
      allowVideo: s.allowContentVideo,
      allowAudio: s.allowContentAudio,
    });
    headers.push(['Content-Type', ct.header]);
    mediaType = ct;
  }
  try {
    const bytes = await passThrough(res, upstream.body, {
      status,
      headers,
      head: method === 'HEAD',
      mediaType,
      sniff: !(status === 206 && req.headers.range !== undefined && rangeStart(headerString(upstream.headers['content-range'])) > 0),
      contentEncoding: headerString(upstream.headers['content-encoding']),
      onBodyError: (err) => {
        const e = classifyBodyError(err, fetchReq);
        if (e.code === 'CONTENT_LENGTH_EXCEEDED') app.metrics.camo.responsesTruncated.inc();
        else app.metrics.camo.responsesFailed.inc();
        app.log.debug({ code: e.code, detail: e.detail, host: sourceHost }, 'camo body aborted');
      },
    });
    return { bytes, sourceHost };
  } catch (err) {
    throw classifyBodyError(err, fetchReq);
  }
}

/** go-camo's mapping of origin statuses that are not served. */
function statusError(status: number): PixgateError {
  if (status === 300) return new PixgateError('UPSTREAM_MULTIPLE_CHOICES', { detail: 'origin answered 300' });
  if (status === 500 || status === 502 || status === 503 || status === 504) {
    return new PixgateError('UPSTREAM_ERROR', { detail: `origin answered ${status}` });
  }
  return new PixgateError('UPSTREAM_NOT_FOUND', { detail: `origin answered ${status}` });
}

function upstreamHeaders(app: App, req: Req): Record<string, string> {
  const s = app.settings;
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = headerString(req.headers[name]);
    if (v !== undefined) out[name] = v;
  }
  // go-camo always replaces Accept with the types it will take (image/svg+xml for origins that 406 on image/*).
  out.accept = ['image/*', 'image/svg+xml', ...(s.allowContentVideo ? ['video/*'] : []), ...(s.allowContentAudio ? ['audio/*'] : [])].join(', ');
  if (s.xForwardedFor) {
    const given = headerString(req.headers['x-forwarded-for']);
    const remote = req.socket?.remoteAddress;
    if (given) out['x-forwarded-for'] = given;
    else if (remote && !app.addressPolicy.check(remote).denied) out['x-forwarded-for'] = remote;
  }
  return out;
}

/** First byte of a `Content-Range: bytes a-b/n` answer; 0 when absent or unreadable. */
function rangeStart(contentRange: string | undefined): number {
  const m = contentRange ? /^\s*bytes\s+(\d+)-/i.exec(contentRange) : null;
  return m ? Number(m[1]) : 0;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
