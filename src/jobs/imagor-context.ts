/**
 * What the imagor job needs, built once from the settings: signers (current secret first, then old ones), the
 * source policy and loaders, the processing queue, the single-flight table, and the processing options.
 */
import sharp from 'sharp';
import { createHttpLoader } from '../load/http-loader.js';
import type { SafeFetcher } from '../load/http-fetch.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { createSourcePolicy } from '../policy/source.js';
import { parseOperations, parsePresets, type Presets } from '../parse/imagor-apply.js';
import type { ImagorParams } from '../parse/imagor-params.js';
import type { ProcessOptions } from '../process/process-image.js';
import { fail } from '../respond/errors.js';
import type { Settings } from '../settings/table.js';
import type { ImagorSigner } from '../verify/imagor-signature.js';
import { createSingleFlight, type SingleFlight } from './single-flight.js';
import { createWorkQueue, type WorkQueue } from './work-queue.js';

export interface SourceImage {
  readonly data: Buffer;
  readonly lastModifiedMs: number | undefined;
  readonly sourceHost?: string;
}

export interface ImagorLoadRequest {
  readonly image: string;
  readonly signal: AbortSignal;
  readonly deadline: AbortSignal;
  readonly clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly selfHosts: readonly string[];
}

export interface ImagorContext {
  /** Routes are on when a secret is set or unsafe mode is on. */
  readonly enabled: boolean;
  readonly signers: readonly ImagorSigner[];
  readonly queue: WorkQueue;
  readonly flight: SingleFlight<any>;
  load(req: ImagorLoadRequest): Promise<SourceImage>;
  readonly processOptions: Omit<ProcessOptions, 'accept' | 'signal'>;
  readonly presets: Presets;
  readonly baseParams: ImagorParams | undefined;
}

export function createImagorContext(deps: { settings: Settings; fetcher: SafeFetcher; metrics: Metrics; log: Logger }): ImagorContext {
  const s = deps.settings;
  const signers: ImagorSigner[] = [s.imagorSecret, ...s.imagorOldSecrets]
    .filter((x): x is string => !!x)
    .map((secret) => ({ secret, type: s.imagorSignerType, truncate: s.imagorSignerTruncate }));

  sharp.concurrency(s.vipsConcurrency === -1 ? 0 : s.vipsConcurrency);
  sharp.cache({ memory: s.vipsMaxCacheMem, items: s.vipsMaxCacheSize, files: s.vipsMaxCacheFiles });

  const policy = createSourcePolicy({
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
        policy,
        accept: s.httpLoaderAccept,
        maxBytes: s.httpLoaderMaxAllowedSize,
        forwardHeaders: s.httpLoaderForwardHeaders,
      });

  const queue = createWorkQueue(s.processConcurrency, s.processQueueSize);

  return {
    presets: parsePresets(s.presets),
    baseParams: s.baseParams ? parseOperations(s.baseParams) : undefined,
    enabled: signers.length > 0 || s.imagorUnsafe,
    signers,
    queue,
    flight: createSingleFlight(),
    async load(req) {
      if (!http) fail('SOURCE_NOT_ALLOWED', 'no loader can load this image');
      const loaded = await http.load(req);
      return { data: loaded.data, lastModifiedMs: loaded.lastModifiedMs, sourceHost: new URL(loaded.url).host };
    },
    processOptions: {
      limits: {
        maxWidth: s.vipsMaxWidth || 9999,
        maxHeight: s.vipsMaxHeight || 9999,
        maxResolution: s.vipsMaxResolution || 81_000_000,
        maxFrames: s.vipsMaxAnimationFrames,
      },
      autoWebp: s.autoWebp,
      autoAvif: s.autoAvif,
      autoJpeg: s.autoJpeg,
      lenientFilters: s.lenientFilters,
      mozjpeg: s.vipsMozjpeg,
      avifSpeed: s.vipsAvifSpeed,
      stripMetadata: s.vipsStripMetadata,
      stripColorProfile: s.vipsStripColorProfile,
    },
  };
}
