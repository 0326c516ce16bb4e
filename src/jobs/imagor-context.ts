/**
 * What the imagor job needs, built once from the settings: signers (current secret first, then old ones), the
 * source policy and loaders in imagor's order (S3, file, then HTTP last), source and result storages, the
 * processing queue, the single-flight table (and, in a cluster worker with result storage, the lease that extends
 * it over the workers), presets and base params, and the processing options. Base params
 * and presets whose filters a request would be refused for stop the start (SettingsError naming the setting).
 */
import sharp from 'sharp';
import { createHttpLoader, type HttpLoader } from '../load/http-loader.js';
import type { SafeFetcher } from '../load/http-fetch.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { parseOperations, parsePresets, type Presets } from '../parse/imagor-apply.js';
import type { ImagorParams } from '../parse/imagor-params.js';
import { createSourcePolicy, type SourcePolicy } from '../policy/source.js';
import { checkOverlays } from '../process/overlay.js';
import { validateFilters, type ProcessOptions } from '../process/process-image.js';
import { isPixgateError } from '../respond/errors.js';
import { resolveLimits } from '../policy/limits.js';
import { SettingsError } from '../settings/load.js';
import type { Settings } from '../settings/table.js';
import { createStores, type Stores } from '../store/create-stores.js';
import { createHotCache, type HotCache } from '../store/hot-cache.js';
import { primaryChannel } from '../server/cluster.js';
import type { ImagorSigner } from '../verify/imagor-signature.js';
import { createIpcLease, type FleetLease } from './fleet-lease.js';
import { createSingleFlight, type SingleFlight } from './single-flight.js';
import { createWorkQueue, type WorkQueue } from './work-queue.js';

export interface ImagorContext {
  /** Routes are on when a secret is set or unsafe mode is on. */
  readonly enabled: boolean;
  readonly signers: readonly ImagorSigner[];
  /** Processing slots (CPU): held only while an image is probed, planned and encoded. */
  readonly queue: WorkQueue;
  /** Loads in flight (network): bounded apart, so a slow origin never holds a processing slot. */
  readonly loads: WorkQueue;
  /** Hot results in memory, in front of result storage. */
  readonly hot: HotCache;
  readonly flight: SingleFlight<unknown>;
  /**
   * One worker of the cluster at a time makes a given result, the others read it from result storage. Undefined
   * outside a cluster, or without result storage to hand a result over.
   */
  readonly lease: FleetLease | undefined;
  readonly http: HttpLoader | undefined;
  readonly sourcePolicy: SourcePolicy;
  readonly stores: Stores;
  readonly presets: Presets;
  readonly baseParams: ImagorParams | undefined;
  readonly processOptions: Omit<ProcessOptions, 'accept' | 'signal'>;
}

export async function createImagorContext(deps: {
  settings: Settings;
  fetcher: SafeFetcher;
  metrics: Metrics;
  log: Logger;
  workers?: number;
}): Promise<ImagorContext> {
  const s = deps.settings;
  const signers: ImagorSigner[] = [s.imagorSecret, ...s.imagorOldSecrets]
    .filter((x): x is string => !!x)
    .map((secret) => ({ secret, type: s.imagorSignerType, truncate: s.imagorSignerTruncate }));

  sharp.concurrency(s.vipsConcurrency === -1 ? 0 : s.vipsConcurrency);
  sharp.cache({ memory: s.vipsMaxCacheMem, items: s.vipsMaxCacheSize, files: s.vipsMaxCacheFiles });

  const processOptions: ImagorContext['processOptions'] = {
    limits: resolveLimits({
      maxWidth: s.vipsMaxWidth,
      maxHeight: s.vipsMaxHeight,
      maxResolution: s.vipsMaxResolution,
      maxFrames: s.vipsMaxAnimationFrames,
    }),
    autoWebp: s.autoWebp,
    autoAvif: s.autoAvif,
    autoJpeg: s.autoJpeg,
    lenientFilters: s.lenientFilters,
    mozjpeg: s.vipsMozjpeg,
    avifSpeed: s.vipsAvifSpeed,
    stripMetadata: s.vipsStripMetadata,
    stripIcc: s.vipsStripColorProfile,
    maxFilterOps: s.vipsMaxFilterOps,
    disableBlur: s.vipsDisableBlur,
    disabledFilters: s.vipsDisableFilters,
  };
  // Before anything is opened: operations every request would be refused for stop the start instead.
  const presets = parsePresets(s.presets);
  const baseParams = s.baseParams ? parseOperations(s.baseParams) : undefined;
  checkConfiguredOperations(s.baseParams, baseParams, presets, processOptions);

  const sourcePolicy = createSourcePolicy({
    baseUrl: s.httpLoaderBaseUrl,
    defaultScheme: s.httpLoaderDefaultScheme,
    allowedSources: s.httpLoaderAllowedSources,
    allowedSourceRegexp: s.httpLoaderAllowedSourceRegexp,
    httpsOnly: s.httpLoaderHttpsOnly,
  });
  const http = s.httpLoaderDisable
    ? undefined
    : createHttpLoader({
        fetcher: deps.fetcher,
        policy: sourcePolicy,
        accept: s.httpLoaderAccept,
        maxBytes: s.httpLoaderMaxAllowedSize,
        forwardHeaders: s.httpLoaderForwardHeaders,
      });

  const stores = await createStores(s, { maxSourceBytes: s.httpLoaderMaxAllowedSize, workers: deps.workers ?? 1 });
  const queue = createWorkQueue(s.processConcurrency, s.processQueueSize, (running, waiting) => {
    deps.metrics.pixgate.queueDepth.set(waiting);
    deps.metrics.pixgate.inFlight.set(running);
  });

  return {
    enabled: signers.length > 0 || s.imagorUnsafe,
    signers,
    queue,
    loads: createWorkQueue(s.maxLoads, 0),
    hot: createHotCache(s.memoryCacheSize, s.memoryCacheTtl),
    flight: createSingleFlight(),
    lease: createLease(stores),
    http,
    sourcePolicy,
    stores,
    presets,
    baseParams,
    processOptions,
  };
}

function createLease(stores: Stores): FleetLease | undefined {
  const channel = stores.resultStorages.length > 0 ? primaryChannel() : undefined;
  return channel && createIpcLease(channel);
}

/**
 * Checks IMAGOR_BASE_PARAMS and every preset as a request's filters are checked (unknown names, bad arguments,
 * dropped filter text, VIPS_MAX_FILTER_OPS, overlays), so a typo stops the start instead of failing every request
 * with 400. Lenient mode accepts what it would accept in a URL. Throws a SettingsError naming each setting.
 */
export function checkConfiguredOperations(
  baseText: string,
  baseParams: ImagorParams | undefined,
  presets: Presets,
  options: ImagorContext['processOptions'],
): void {
  const errors: string[] = [];
  const check = (params: ImagorParams, describe: (problem: string) => string): void => {
    try {
      validateFilters(params, options);
      checkOverlays(params, options);
    } catch (err) {
      if (!isPixgateError(err)) throw err;
      errors.push(describe(err.publicDetail ?? err.detail ?? err.code));
    }
  };
  if (baseParams) check(baseParams, (problem) => `IMAGOR_BASE_PARAMS=${baseText}: ${problem} (--imagor-base-params)`);
  for (const [name, params] of presets) check(params, (problem) => `PIXGATE_PRESETS: preset ${name}: ${problem} (--presets)`);
  if (errors.length > 0) throw new SettingsError(errors);
}
