/**
 * The imagor job, stage by stage: verify the signature (or unsafe mode), parse, decide the source, share
 * identical work, wait for a processing slot (or 429), load, process, and send with imagor's cache headers
 * plus an ETag and Last-Modified on every image.
 */
import { createHash } from 'node:crypto';
import { toImagorJson, type ImagorParams } from '../parse/imagor-params.js';
import { applyOperations, expandPresets, splitPresetSegment } from '../parse/imagor-apply.js';
import { isColorImage, parseImagorParamsPath } from '../parse/imagor-path.js';
import { processImage } from '../process/process-image.js';
import { cacheControl, NO_CACHE } from '../respond/cache-headers.js';
import { fail, PixgateError } from '../respond/errors.js';
import { sendImage, type ImageResponse } from '../respond/send-image.js';
import type { ImagorCandidate } from '../route/route.js';
import type { App } from '../server/app.js';
import { headerString, requestSelfHosts, type Req, type Res } from '../server/http-types.js';
import { resolveImagorRequest, type ResolvedImagorRequest } from '../verify/imagor-signature.js';
import { nodeMac } from '../verify/node-mac.js';

export interface ImagorOutcome {
  readonly bytes: number;
  readonly sourceHost?: string;
}

/** A processed image as it is shared between identical requests and (later) stored. */
interface ProducedImage {
  readonly data: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModifiedMs: number;
  readonly vary: boolean;
  readonly sourceHost?: string;
}

export function verifyImagor(app: App, candidate: ImagorCandidate): ResolvedImagorRequest {
  return resolveImagorRequest(candidate.path, app.imagor.signers, app.settings.imagorUnsafe, nodeMac);
}

export async function serveImagor(
  app: App,
  req: Req,
  res: Res,
  candidate: ImagorCandidate,
  verified: ResolvedImagorRequest,
  clientGone: AbortSignal,
): Promise<ImagorOutcome> {
  let resolved = verified;
  const s = app.settings;
  resolved = { ...resolved, params: effectiveParams(app, resolved) };
  if (candidate.endpoint === 'params') return sendParams(app, res, resolved);

  const accept = headerString(req.headers.accept) ?? '';
  const autoFormat = s.autoWebp || s.autoAvif || s.autoJpeg;
  const key = `${resolved.path}\n${autoFormat ? accept : ''}`;
  const deadline = AbortSignal.timeout(s.requestTimeout);
  const flight = app.imagor.flight.run(key, () => produce(app, req, resolved, accept, deadline, clientGone));
  const { value: image } = await untilClientLeaves(flight, clientGone);

  const reqCacheControl = (headerString(req.headers['cache-control']) ?? '').toLowerCase();
  const ttlSeconds = s.cacheHeaderNoCache || reqCacheControl.includes('no-cache') ? 0 : Math.floor(s.cacheHeaderTtl / 1000);
  const response: ImageResponse = {
    data: image.data,
    contentType: image.contentType,
    etag: image.etag,
    lastModifiedMs: image.lastModifiedMs,
    cacheControl:
      ttlSeconds > 0
        ? cacheControl({ ttlSeconds, swrSeconds: Math.floor(s.cacheHeaderSwr / 1000), private: reqCacheControl.includes('private') })
        : NO_CACHE,
    expiresMs: ttlSeconds > 0 ? Date.now() + ttlSeconds * 1000 : undefined,
    vary: image.vary,
  };
  return { bytes: sendImage(req, res, response), ...(image.sourceHost && { sourceHost: image.sourceHost }) };
}

/** The URL's params with its presets expanded underneath and IMAGOR_BASE_PARAMS applied on top. */
function effectiveParams(app: App, resolved: ResolvedImagorRequest): ImagorParams {
  let params = resolved.params;
  const split = splitPresetSegment(resolved.path);
  if (split) params = { ...expandPresets(split.names, parseImagorParamsPath(split.rest), app.imagor.presets), path: resolved.path, hash: params.hash, unsafe: params.unsafe };
  if (app.imagor.baseParams) params = applyOperations(params, app.imagor.baseParams);
  if (params.image === '') fail('INVALID_PARAMS', 'no image');
  return params;
}

function sendParams(app: App, res: Res, resolved: ResolvedImagorRequest): ImagorOutcome {
  res.statusCode = 200;
  if (app.settings.disableParamsEndpoint) {
    res.setHeader('Content-Length', 0);
    res.end();
    return { bytes: 0 };
  }
  // Go's encoding/json escapes these; doing the same keeps the body byte-identical to imagor's.
  const body = JSON.stringify(toImagorJson(resolved.params), null, 2).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', NO_CACHE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
  return { bytes: Buffer.byteLength(body) };
}

/** Runs once per distinct request; its only deadline is the request timeout, so one client leaving stops nobody. */
async function produce(
  app: App,
  req: Req,
  resolved: ResolvedImagorRequest,
  accept: string,
  deadline: AbortSignal,
  clientGone: AbortSignal,
): Promise<ProducedImage> {
  const s = app.settings;
  const params = resolved.params;
  const processDeadline = AbortSignal.any([deadline, AbortSignal.timeout(s.processTimeout)]);
  const release = await app.imagor.queue.acquire(AbortSignal.any([processDeadline, clientGone]), processDeadline);
  try {
    let input: Buffer | undefined;
    let lastModifiedMs = Date.now();
    let sourceHost: string | undefined;
    if (!isColorImage(params.image)) {
      const loadDeadline = AbortSignal.any([deadline, AbortSignal.timeout(s.loadTimeout)]);
      const source = await app.imagor.load({
        image: params.image,
        signal: loadDeadline,
        deadline: loadDeadline,
        clientHeaders: req.headers as Record<string, string | string[] | undefined>,
        selfHosts: requestSelfHosts(req),
      });
      input = source.data;
      sourceHost = source.sourceHost;
      if (source.lastModifiedMs !== undefined) lastModifiedMs = source.lastModifiedMs;
      app.metrics.pixgate.bytesLoaded.inc(input.length);
    }
    const { image, vary } = await processImage(input, params, {
      ...app.imagor.processOptions,
      accept,
      signal: processDeadline,
    });
    return {
      data: image.data,
      contentType: image.contentType,
      etag: `"${createHash('sha1').update(image.data).digest('base64url')}"`,
      lastModifiedMs,
      vary,
      ...(sourceHost && { sourceHost }),
    };
  } finally {
    release();
  }
}

function untilClientLeaves<T>(work: Promise<T>, clientGone: AbortSignal): Promise<T> {
  if (clientGone.aborted) return Promise.reject(new PixgateError('CLIENT_CLOSED'));
  return new Promise<T>((resolve, reject) => {
    const onGone = () => reject(new PixgateError('CLIENT_CLOSED', { detail: 'client left while processing' }));
    clientGone.addEventListener('abort', onGone, { once: true });
    work.then(
      (v) => {
        clientGone.removeEventListener('abort', onGone);
        resolve(v);
      },
      (e: unknown) => {
        clientGone.removeEventListener('abort', onGone);
        reject(e);
      },
    );
  });
}

