/**
 * The imagor job, stage by stage: verify the signature (or unsafe mode), parse and expand presets and base params,
 * read the response filters (expire -> 410, raw, preview; expire, attachment and max_age are then dropped so they
 * never change the result key), negotiate the output format, look the result up in result storage, share
 * identical work, wait for a processing slot (or 429), load the source (storages, then loaders, HTTP last),
 * process (or describe it, for /meta; or nothing, for raw()), store, and send with imagor's cache headers,
 * Content-Disposition, and an ETag and Last-Modified on every image.
 */
import { createHash } from 'node:crypto';
import { applyOperations, expandPresets, splitPresetSegment } from '../parse/imagor-apply.js';
import { findLastFilter } from '../parse/imagor-filters.js';
import { toImagorJson, type ImagorParams } from '../parse/imagor-params.js';
import { isColorImage, parseImagorParamsPath } from '../parse/imagor-path.js';
import { checkLimits, resolveLimits } from '../policy/limits.js';
import { sniffBytes } from '../policy/sniff.js';
import {
  checkNotExpired,
  contentDisposition,
  rawContentType,
  readResponseControl,
  responseTtlSeconds,
  withoutResponseFilters,
  type ResponseControl,
} from '../process/filters/response.js';
import { describeImage, readMetaExtras } from '../process/meta.js';
import { chooseOutputFormat, CONTENT_TYPES, isFormatName, type FormatChoice } from '../process/negotiate.js';
import { checkOverlays } from '../process/overlay.js';
import { processImage, validateFilters, type ProcessOptions } from '../process/process-image.js';
import { readHeaderSize } from '../process/probe.js';
import { withVipsDeadline } from '../process/vips.js';
import { cacheControl, NO_CACHE } from '../respond/cache-headers.js';
import { fail, isPixgateError, PixgateError } from '../respond/errors.js';
import { sendImage } from '../respond/send-image.js';
import type { ImagorCandidate } from '../route/route.js';
import type { App } from '../server/app.js';
import { headerString, requestSelfHosts, type ClientWatch, type Req, type Res } from '../server/http-types.js';
import { resultKey, resultKeyInput, storageKey } from '../store/keys.js';
import { isStorageError, type BlobStore, type StoredBlob } from '../store/result-store.js';
import { resolveImagorRequest, type ResolvedImagorRequest } from '../verify/imagor-signature.js';
import { nodeMac } from '../verify/node-mac.js';
import { createDeadline } from '../server/deadline.js';
import { releaseWhenDone, type Lease } from './fleet-lease.js';

export interface ImagorOutcome {
  readonly bytes: number;
  readonly sourceHost?: string;
}

/** A result as identical requests share it: fresh from the processor or read back from result storage. */
interface Result {
  readonly data: Buffer;
  readonly contentType: string;
  readonly lastModifiedMs: number;
  readonly sourceHost?: string;
  /** Set once known (hot cache entries carry it), so the bytes are hashed once, not at every hit. */
  readonly etag?: string;
}

/** A strong ETag from the bytes: the same on every instance of a fleet, whoever made the result. */
function etagOf(result: Result): string {
  return result.etag ?? `"${createHash('sha1').update(result.data).digest('base64url')}"`;
}

interface Source {
  readonly data: Buffer;
  readonly lastModifiedMs: number | undefined;
  readonly sourceHost?: string;
  /** What the origin or the storage called it, if anything (raw() checks the bytes against it). */
  readonly contentType?: string | undefined;
}

/** How one request wants its result made. */
interface Production {
  /** raw(): the source bytes as they are, no processing, no result storage. */
  readonly raw: boolean;
  /** Read and write result storage (off for preview() and raw()). */
  readonly store: boolean;
}

const JSON_TYPE = 'application/json';

export function verifyImagor(app: App, candidate: ImagorCandidate): ResolvedImagorRequest {
  return resolveImagorRequest(candidate.path, app.imagor.signers, app.settings.imagorUnsafe, nodeMac);
}

export async function serveImagor(
  app: App,
  req: Req,
  res: Res,
  candidate: ImagorCandidate,
  verified: ResolvedImagorRequest,
  client: ClientWatch,
): Promise<ImagorOutcome> {
  try {
    return await serveResolved(app, req, res, candidate, verified, client);
  } catch (err) {
    // imagor.go ServeHTTP: when the path as sent fails as invalid, its QueryUnescape'd reading is tried, so a
    // crawler's `filters%3Afill%28red%29` still works. Only a reading that verified on its own gets here.
    const retry = verified.unescaped;
    if (retry !== undefined && !res.headersSent && isPixgateError(err) && (err.code === 'INVALID_PARAMS' || err.code === 'BAD_URL')) {
      return serveResolved(app, req, res, candidate, retry, client);
    }
    throw err;
  }
}

async function serveResolved(
  app: App,
  req: Req,
  res: Res,
  candidate: ImagorCandidate,
  verified: ResolvedImagorRequest,
  client: ClientWatch,
): Promise<ImagorOutcome> {
  const s = app.settings;
  if (candidate.endpoint === 'params') return sendParams(app, res, { ...withPresets(app, verified), path: verified.path });
  const requested = effectiveParams(app, verified);
  validateFilters(requested, app.imagor.processOptions);
  const control = readResponseControl(requested.filters);
  checkNotExpired(control, Date.now());
  // As imagor: expire, attachment and max_age shape the response only, so they stay out of the result key.
  const params = withoutResponseFilters(requested);
  checkOverlays(params, app.imagor.processOptions);
  if (params.meta) readMetaExtras(params.filters);
  // The meta endpoint always describes the processed image; raw() has no say there.
  const production: Production = { raw: control.raw && !params.meta, store: !control.preview && !(control.raw && !params.meta) };

  const accept = headerString(req.headers.accept);
  const format: FormatChoice | undefined = production.raw ? undefined : negotiate(app, params, accept);
  // As imagor: the negotiated format becomes an explicit format() for the result key and the processor, and
  // AVIF chosen with auto-WebP on brings fallback_format(webp) for animations.
  let keyed = format?.negotiated ? withFilter(params, 'format', format.negotiated) : params;
  if (format?.negotiated === 'avif' && format.fallback === 'webp' && !params.filters.some((f) => f.name === 'fallback_format')) {
    keyed = withFilter(keyed, 'fallback_format', 'webp');
  }
  const key = resultKey(resultKeyInput(keyed === params ? params : { ...keyed, path: '' }), app.imagor.stores.resultPathStyle);
  // A hot result skips the shared work altogether: no storage read, no hash (unless the modified-time check must run).
  const hot = production.store && !app.imagor.stores.modifiedTimeCheck ? app.imagor.hot.get(key, Date.now()) : undefined;
  let result: Result;
  if (hot) {
    app.metrics.pixgate.resultStorage.inc({ outcome: 'memory' });
    result = hot;
  } else {
    const timing = createDeadline(s.requestTimeout);
    const deadlineAt = Date.now() + s.requestTimeout;
    const work = app.imagor.flight.run(production.raw ? `raw:${key}` : key, () =>
      production.raw ? produceRaw(app, req, keyed, timing.signal) : produce(app, req, keyed, key, { signal: timing.signal, at: deadlineAt }, production, accept),
    );
    // The timer goes with the shared work, which may outlive this client.
    void work.then(timing.dispose, timing.dispose);
    const { value, shared } = await untilStopped(work, [
      [(fire) => client.onGone(fire), () => new PixgateError('CLIENT_CLOSED', { detail: 'client left while processing' })],
      abortStop(timing.signal, () => new PixgateError('REQUEST_TIMEOUT', { detail: 'request deadline' })),
    ]);
    if (shared) app.metrics.pixgate.shared.inc();
    result = value as Result;
    if (production.store && app.imagor.stores.resultStorages.length > 0) {
      app.imagor.hot.set(key, { ...result, etag: etagOf(result) }, Date.now());
    }
  }

  const bytes = sendImage(req, res, {
    data: result.data,
    contentType: result.contentType,
    etag: etagOf(result),
    lastModifiedMs: result.lastModifiedMs,
    ...cachePolicy(app, req, control),
    vary: format?.vary ?? false,
    contentDisposition: contentDisposition(control.attachment, params.image, result.contentType),
    // imagor's raw() header; our default policy stays in force beside it.
    ...(production.raw && { appendHeaders: [['Content-Security-Policy', "script-src 'none'"]] as const }),
  });
  return { bytes, ...(result.sourceHost && { sourceHost: result.sourceHost }) };
}

/**
 * imagor's cache headers: the configured TTL (none with IMAGOR_CACHE_HEADER_NO_CACHE), overridden by max_age(),
 * capped by expire(); none when the request says no-cache; private when the request says so or expire() is set.
 */
function cachePolicy(app: App, req: Req, control: ResponseControl): { cacheControl: string; expiresMs: number | undefined } {
  const s = app.settings;
  const now = Date.now();
  const reqCacheControl = (headerString(req.headers['cache-control']) ?? '').toLowerCase();
  const configured = s.cacheHeaderNoCache ? 0 : Math.floor(s.cacheHeaderTtl / 1000);
  const ttlSeconds = reqCacheControl.includes('no-cache') ? 0 : responseTtlSeconds(control, configured, now);
  if (ttlSeconds <= 0) return { cacheControl: NO_CACHE, expiresMs: undefined };
  const isPrivate = reqCacheControl.includes('private') || control.expireMs !== undefined;
  return {
    cacheControl: cacheControl({ ttlSeconds, swrSeconds: Math.floor(s.cacheHeaderSwr / 1000), private: isPrivate }),
    expiresMs: now + ttlSeconds * 1000,
  };
}

/** The URL's params with its presets expanded underneath and IMAGOR_BASE_PARAMS applied on top. */
function effectiveParams(app: App, resolved: ResolvedImagorRequest): ImagorParams {
  let params = withPresets(app, resolved);
  if (app.imagor.baseParams) params = { ...applyOperations(params, app.imagor.baseParams), path: '' };
  if (params.image === '') fail('INVALID_PARAMS', 'no image');
  return params;
}

/** The URL's params with its presets expanded underneath (what /params shows; imagor's own parse when none). */
function withPresets(app: App, resolved: ResolvedImagorRequest): ImagorParams {
  let params = resolved.params;
  const split = splitPresetSegment(resolved.path);
  if (split) {
    params = {
      ...expandPresets(split.names, parseImagorParamsPath(split.rest), app.imagor.presets),
      // Empty: the result key is generated from the expanded operations, so redefining a preset changes the key
      // instead of serving results made with its old definition. /params shows the URL's own path.
      path: '',
      hash: params.hash,
      unsafe: params.unsafe,
    };
  }
  return params;
}

function negotiate(app: App, params: ImagorParams, accept: string | undefined): FormatChoice {
  const explicit = findLastFilter(params.filters, 'format')?.args.trim().toLowerCase();
  const fallback = findLastFilter(params.filters, 'fallback_format')?.args.trim().toLowerCase();
  const o = app.imagor.processOptions;
  return chooseOutputFormat({
    explicit: explicit && isFormatName(explicit) ? explicit : undefined,
    fallback: fallback && isFormatName(fallback) ? fallback : undefined,
    accept,
    autoWebp: o.autoWebp,
    autoAvif: o.autoAvif,
    autoJpeg: o.autoJpeg,
  });
}

function withFilter(params: ImagorParams, name: string, args: string): ImagorParams {
  return { ...params, filters: [...params.filters, { name, args }] };
}

function sendParams(app: App, res: Res, params: ImagorParams): ImagorOutcome {
  res.statusCode = 200;
  if (app.settings.disableParamsEndpoint) {
    res.setHeader('Content-Length', 0);
    res.end();
    return { bytes: 0 };
  }
  // Go's encoding/json escapes these; doing the same keeps the body byte-identical to imagor's.
  const body = JSON.stringify(toImagorJson(params), null, 2).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', NO_CACHE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
  return { bytes: Buffer.byteLength(body) };
}

/** The request's deadline, as a signal and as a time (libvips' own timeout needs the time). */
interface RequestDeadline {
  readonly signal: AbortSignal;
  readonly at: number;
}

/** Waits for another worker's result at most this many times before making it without a lease. */
const LEASE_ATTEMPTS = 3;

/**
 * Runs once per distinct result key: result storage, else load + process + store. Its only deadline is the
 * request timeout, so one client leaving stops nobody else waiting for the same result. In a cluster with result
 * storage, once per key for all the workers: a worker whose lease is refused waits for the holder, then reads the
 * holder's result from storage, and asks again if it is not there (the holder failed).
 */
async function produce(
  app: App,
  req: Req,
  params: ImagorParams,
  key: string,
  deadline: RequestDeadline,
  production: Production,
  accept: string | undefined,
): Promise<Result> {
  const stored = production.store ? await readResult(app, params, key, deadline.signal) : undefined;
  if (stored) return stored;
  let lease: Lease | undefined;
  for (let attempt = 0; production.store && app.imagor.lease && attempt < LEASE_ATTEMPTS; attempt++) {
    lease = await app.imagor.lease.acquire(key, deadline.signal);
    if (lease.granted) break;
    const made = await readResult(app, params, key, deadline.signal);
    if (made) return made;
  }
  let finished: Promise<unknown> | undefined;
  const making = makeResult(app, req, params, key, deadline, production, accept, (done) => (finished = done));
  // Given back once the work has really stopped and its result is saved (not at a 408, while libvips may still
  // be busy), so a worker waiting for it finds it in storage.
  if (lease) {
    const settled = () => finished;
    releaseWhenDone(lease, making.then(settled, settled), app.settings.requestTimeout + app.settings.processTimeout + app.settings.saveTimeout);
  }
  return making;
}

/**
 * Load, process and store. `onWork` gets the processing and the save behind it, which may go on after the
 * answer (a 408 at the deadline).
 */
async function makeResult(
  app: App,
  req: Req,
  params: ImagorParams,
  key: string,
  requestDeadline: RequestDeadline,
  production: Production,
  accept: string | undefined,
  onWork: (done: Promise<unknown>) => void,
): Promise<Result> {
  const s = app.settings;
  // As imagor, a full queue refuses before anything is downloaded: overload must not pull sources it won't process.
  if (app.imagor.queue.full) fail('BUSY', 'processing queue full on arrival');
  // Load first, outside the processing slots: a slow origin must hold a load slot, never a CPU slot.
  const deadline = requestDeadline.signal;
  const source = isColorImage(params.image) ? undefined : await loadSource(app, req, params.image, deadline);
  const processDeadline = AbortSignal.any([deadline, AbortSignal.timeout(s.processTimeout)]);
  const processDeadlineAt = Math.min(requestDeadline.at, Date.now() + s.processTimeout);
  // The wait belongs to every request sharing this work, so the first client leaving must not end it.
  let release = await app.imagor.queue.acquire(processDeadline, processDeadline);
  // Overlay images are downloaded with the slot given back, for the same reason as the source; the job then
  // takes the next free slot ahead of new work.
  // A failed download fails the job without waiting for a slot again.
  const loadOverlay = async (image: string, signal: AbortSignal | undefined): Promise<Uint8Array> => {
    release();
    const { data } = await loadSource(app, req, image, signal === undefined ? deadline : AbortSignal.any([deadline, signal]));
    release = await app.imagor.queue.acquire(processDeadline, processDeadline, true);
    return data;
  };
  const processing = (async (): Promise<Result> => {
    try {
      const started = process.hrtime.bigint();
      const options: ProcessOptions = {
        ...app.imagor.processOptions,
        // The format was negotiated above; the processor must see the same Accept if it negotiates at all.
        accept,
        signal: processDeadline,
        // Overlay images come through the same storages, loaders, source policy and size cap as the source.
        loadImage: loadOverlay,
      };
      const input = source?.data ?? new Uint8Array(0);
      let data: Buffer;
      let contentType: string;
      // libvips itself stops at the process deadline (sharp's timeout), so the slot is not held past it for long.
      if (params.meta) {
        data = (await withVipsDeadline(processDeadlineAt, () => describeImage(input, params, options))).body;
        contentType = JSON_TYPE;
      } else {
        const { image } = await withVipsDeadline(processDeadlineAt, () => processImage(input, params, options));
        data = image.data;
        contentType = image.contentType;
      }
      app.metrics.pixgate.processDuration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      app.metrics.pixgate.processed.inc();
      const result: Result = {
        data,
        contentType,
        // With result storage, when it was made: stored with it, so an instance reading it back sends the same
        // Last-Modified (and the same ETag, a hash of the bytes) as this one. Without, the source's time, which
        // stays the same each time the result is made again.
        lastModifiedMs: production.store && app.imagor.stores.resultStorages.length > 0 ? Date.now() : (source?.lastModifiedMs ?? Date.now()),
        ...(source?.sourceHost && { sourceHost: source.sourceHost }),
      };
      return result;
    } finally {
      release();
    }
  })();
  onWork(processing.then((result) => (production.store ? saveResult(app, key, result) : undefined), noop));
  // libvips cannot be stopped inside one operation: the answer is 408 at the deadline, and the slot stays taken
  // until the operation returns, so the CPU it still uses is accounted for.
  return untilStopped(processing, [abortStop(processDeadline, () => new PixgateError('REQUEST_TIMEOUT', { detail: 'deadline while processing' }))]);
}


/**
 * raw(): the source bytes untouched, loaded as any source is (storages, loaders, source policy, size cap), never
 * processed or stored as a result (imagor also skips the processing queue). Only raster images whose bytes agree
 * with what they claim to be are sent: SVG, HTML, PDF and the like are refused (UNSUPPORTED_FORMAT), and so is
 * a header over the pixel limits.
 */
async function produceRaw(app: App, req: Req, params: ImagorParams, deadline: AbortSignal): Promise<Result> {
  if (isColorImage(params.image)) fail('INVALID_PARAMS', 'raw() of a color: image', 'raw: there are no source bytes for a color: image');
  const source = await loadSource(app, req, params.image, deadline);
  const contentType = rawContentType(source.data, source.contentType);
  const size = readHeaderSize(source.data, sniffBytes(source.data.subarray(0, 512)));
  // Header sizes we can read without libvips (JPEG, PNG, GIF, WebP); one frame, as nothing is decoded.
  if (size !== undefined) checkLimits(size, resolveLimits(app.imagor.processOptions.limits), 'raw source');
  return {
    data: source.data,
    contentType,
    lastModifiedMs: source.lastModifiedMs ?? Date.now(),
    ...(source.sourceHost && { sourceHost: source.sourceHost }),
  };
}

/** A stored result, unless there is none, it is stale (modified-time check), or storage fails (logged, counted). */
async function readResult(app: App, params: ImagorParams, key: string, deadline: AbortSignal): Promise<Result | undefined> {
  const stores = app.imagor.stores;
  if (stores.resultStorages.length === 0) return undefined;
  for (const store of stores.resultStorages) {
    const blob = await guarded(app, store, 'get', () => store.get(key, deadline));
    if (!blob) continue;
    if (stores.modifiedTimeCheck && !isColorImage(params.image)) {
      // Bounded by the load timeout: a slow origin must not hold up every cache hit.
      const sourceMs = await sourceModifiedMs(app, params.image, AbortSignal.any([deadline, AbortSignal.timeout(app.settings.loadTimeout)]));
      if (sourceMs !== undefined && blob.meta.modifiedMs < sourceMs) {
        app.metrics.pixgate.resultStorage.inc({ outcome: 'stale' });
        return undefined;
      }
    }
    app.metrics.pixgate.resultStorage.inc({ outcome: 'hit' });
    const contentType = params.meta ? JSON_TYPE : (blob.meta.contentType ?? contentTypeOf(blob.body));
    return { data: blob.body, contentType, lastModifiedMs: blob.meta.modifiedMs };
  }
  app.metrics.pixgate.resultStorage.inc({ outcome: 'miss' });
  return undefined;
}

/** Saves in the background: the promise (which never rejects) is for the fleet lease, never for the response. */
function saveResult(app: App, key: string, result: Result): Promise<void> {
  const signal = AbortSignal.timeout(app.settings.saveTimeout);
  const puts = app.imagor.stores.resultStorages.map((store) =>
    guarded(app, store, 'put', () => store.put(key, result.data, { contentType: result.contentType, modifiedMs: result.lastModifiedMs }, signal)),
  );
  return Promise.all(puts).then(noop);
}

/** The source: from source storage, else the file/S3 loaders, else the HTTP loader (then kept in source storage). */
async function loadSource(app: App, req: Req, image: string, deadline: AbortSignal): Promise<Source> {
  const release = await app.imagor.loads.acquire(deadline, deadline);
  try {
    return await loadSourceNow(app, req, image, deadline);
  } finally {
    release();
  }
}

async function loadSourceNow(app: App, req: Req, image: string, deadline: AbortSignal): Promise<Source> {
  const s = app.settings;
  const stores = app.imagor.stores;
  const loadDeadline = AbortSignal.any([deadline, AbortSignal.timeout(s.loadTimeout)]);
  const skey = storageKey(image, stores.storagePathStyle);
  const started = process.hrtime.bigint();
  const done = (loader: string, source: Source): Source => {
    app.metrics.pixgate.loadDuration.observe({ loader }, Number(process.hrtime.bigint() - started) / 1e9);
    app.metrics.pixgate.bytesLoaded.inc(source.data.length);
    return source;
  };

  for (const store of stores.storages) {
    const blob = await guarded(app, store, 'get', () => store.get(skey, loadDeadline));
    if (blob) return done('storage', fromBlob(blob));
  }
  let source: Source | undefined;
  let loaderName = 'http';
  try {
    for (const loader of stores.loaders) {
      const blob = await loader.get(image, { signal: loadDeadline, maxBytes: s.httpLoaderMaxAllowedSize });
      if (blob) {
        source = fromBlob(blob);
        loaderName = loader.name.startsWith('s3') ? 's3' : 'file';
        break;
      }
    }
    if (!source) {
      if (!app.imagor.http) fail('UPSTREAM_NOT_FOUND', 'no loader has this image');
      const loaded = await app.imagor.http.load({
        image,
        signal: loadDeadline,
        deadline: loadDeadline,
        clientHeaders: req.headers as Record<string, string | string[] | undefined>,
        selfHosts: requestSelfHosts(req),
      });
      source = { data: loaded.data, lastModifiedMs: loaded.lastModifiedMs, sourceHost: new URL(loaded.url).host, contentType: loaded.contentType };
    }
  } catch (err) {
    // A load that ran out of its own deadline is imagor's 408, whatever the loader called it.
    if (loadDeadline.aborted && isPixgateError(err) && (err.code === 'CLIENT_CLOSED' || err.code === 'UPSTREAM_TIMEOUT')) {
      throw new PixgateError('REQUEST_TIMEOUT', { detail: 'load deadline', cause: err });
    }
    throw err;
  }
  const loaded = source;
  const signal = AbortSignal.timeout(s.saveTimeout);
  for (const store of stores.storages) void guarded(app, store, 'put', () => store.put(skey, loaded.data, {}, signal));
  return done(loaderName, loaded);
}

/** The source's modification time for IMAGOR_MODIFIED_TIME_CHECK: storages, else loaders, else a HEAD. */
async function sourceModifiedMs(app: App, image: string, signal: AbortSignal): Promise<number | undefined> {
  const stores = app.imagor.stores;
  if (stores.storages.length > 0) {
    for (const store of stores.storages) {
      const meta = await guarded(app, store, 'stat', () => store.stat(storageKey(image, stores.storagePathStyle), signal));
      if (meta) return meta.modifiedMs;
    }
    return undefined;
  }
  for (const loader of stores.loaders) {
    try {
      const meta = await loader.stat(image, signal);
      if (meta) return meta.modifiedMs;
    } catch {
      return undefined;
    }
  }
  if (!app.imagor.http) return undefined;
  try {
    return await app.imagor.http.lastModified(image, signal);
  } catch {
    return undefined; // as imagor: a source that cannot be stat'ed keeps the cached result
  }
}

function fromBlob(blob: StoredBlob): Source {
  return { data: blob.body, lastModifiedMs: blob.meta.modifiedMs, contentType: blob.meta.contentType };
}

function contentTypeOf(data: Buffer): string {
  const kind = sniffBytes(data);
  return kind in CONTENT_TYPES ? CONTENT_TYPES[kind as keyof typeof CONTENT_TYPES] : kind === 'heif' ? 'image/heif' : 'application/octet-stream';
}

/** A storage operation that never fails the request: a StorageError is logged, counted, and read as "nothing". */
async function guarded<T>(app: App, store: BlobStore, op: 'get' | 'stat' | 'put', run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (!isStorageError(err) && !(err instanceof Error && err.name === 'AbortError')) {
      app.log.error({ err, store: store.name, op }, 'unexpected storage failure');
    } else {
      app.log.warn({ store: store.name, op, detail: isStorageError(err) ? err.detail : 'aborted' }, 'storage failed; going on without it');
    }
    app.metrics.pixgate.storageErrors.inc({ store: store.name.split(':')[0] ?? 'store', op });
    return undefined;
  }
}

/** Something that can cut a wait short: subscribe(fire) returns its unsubscribe; error() is what the wait rejects with. */
type Stop = readonly [subscribe: (fire: () => void) => () => void, error: () => PixgateError];

const abortStop = (signal: AbortSignal, error: () => PixgateError): Stop => [
  (fire) => {
    if (signal.aborted) {
      fire();
      return noop;
    }
    signal.addEventListener('abort', fire, { once: true });
    return () => signal.removeEventListener('abort', fire);
  },
  error,
];

/**
 * Settles with `work`, or rejects with a stop's error as soon as that stop fires. The work itself goes on (others
 * may share it, and libvips cannot be interrupted inside an operation); only this wait ends.
 */
function untilStopped<T>(work: Promise<T>, stops: readonly Stop[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const cancels: (() => void)[] = [];
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      for (const cancel of cancels) cancel();
      settle();
    };
    for (const [subscribe, error] of stops) {
      if (settled) break;
      cancels.push(
        subscribe(() => {
          work.catch(noop);
          finish(() => reject(error()));
        }),
      );
    }
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

function noop(): void {}
