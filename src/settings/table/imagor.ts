/** The imagor job: signing, unsafe mode, auto formats, cache headers, timeouts and the processing queue. */
import { availableParallelism } from 'node:os';
import { setting, optional } from '../define.js';
import { parseOperations, parsePresets } from '../../parse/imagor-apply.js';
import { bool, bytes, duration, int, list, oneOf, secret, string, type ValueType } from '../values.js';

/** Validated at start; the text is kept and parsed once more when the app is built. */
const presetsText: ValueType<string> = {
  name: 'name=ops;name=ops',
  parse(raw) {
    parsePresets(raw);
    return raw;
  },
  format: (v) => v,
};

const operationsText: ValueType<string> = {
  name: 'imagor operations',
  parse(raw) {
    try {
      parseOperations(raw);
    } catch {
      throw new Error('expected imagor operations such as filters:watermark(logo.png,0,0,0) or fit-in/1000x1000/');
    }
    return raw;
  },
  format: (v) => v,
};

const cores = Math.max(1, availableParallelism());

/**
 * imagor reads a concurrency <= 0 as "no limit" (config/config.go documents -1, its default; option.go ignores
 * anything not > 0). pixgate never processes unbounded: -1 and 0 mean the number of cores, with a warning at
 * start; other negative numbers are refused as typos.
 */
const processConcurrency: ValueType<number> = {
  name: 'int',
  parse(raw) {
    const v = raw.trim();
    if (!/^[-+]?\d+$/.test(v)) throw new Error('expected an integer');
    const n = Number(v);
    if (n === -1 || n === 0) return cores;
    if (n < 1 || n > 1024) throw new Error('expected an integer from 1 to 1024, or -1 (imagor\'s "no limit", read as the number of cores)');
    return n;
  },
  format: (v) => String(v),
  warn(value, raw) {
    const n = Number(raw.trim());
    if (n !== -1 && n !== 0) return undefined;
    return `imagor's "no limit"; pixgate never processes without a bound, so it processes at most ${value} images at once (the number of cores), queues IMAGOR_PROCESS_QUEUE_SIZE more and answers 429 beyond; set a number to choose the bound`;
  },
};

export const imagorSettings = {
  imagorSecret: optional({
    env: ['IMAGOR_SECRET'], flags: ['--imagor-secret'], type: secret, group: 'imagor',
    help: 'HMAC secret for imagor URLs; it signs and verifies. No secret and no unsafe mode: imagor routes are off.',
  }),
  imagorOldSecrets: setting({
    env: ['PIXGATE_IMAGOR_OLD_SECRETS'], flags: ['--imagor-old-secret'], type: list(secret), default: [], group: 'imagor',
    help: 'Previous imagor secrets that still verify during a rotation (repeatable; comma-separated in env).',
  }),
  imagorSignerType: setting({
    env: ['IMAGOR_SIGNER_TYPE'], flags: ['--imagor-signer-type'], type: oneOf(['sha1', 'sha256', 'sha512'] as const), default: 'sha1',
    group: 'imagor', help: 'HMAC hash for imagor signatures (imagor silently falls back to sha1 on a typo; pixgate refuses to start).',
  }),
  imagorSignerTruncate: setting({
    env: ['IMAGOR_SIGNER_TRUNCATE'], flags: ['--imagor-signer-truncate'], type: int({ min: 0, max: 88 }), default: 0, group: 'imagor',
    help: 'Keep only the first N characters of the signature; 0 keeps all. Must be 0 or at least 17 (a shorter hash cannot be told from a path segment).',
  }),
  imagorUnsafe: setting({
    env: ['IMAGOR_UNSAFE'], flags: ['--imagor-unsafe'], type: bool, default: false, group: 'imagor',
    help: 'Accept unsigned /unsafe/ URLs. Development only: anyone can then make the server fetch and process anything.',
  }),
  imagorPrefix: setting({
    env: ['PIXGATE_IMAGOR_PREFIX'], flags: ['--imagor-prefix'], type: string, default: '', group: 'imagor',
    help: 'Serve imagor URLs under this path prefix (e.g. /img). Empty: at the root, beside camo URLs.',
  }),
  autoWebp: setting({
    env: ['IMAGOR_AUTO_WEBP'], flags: ['--imagor-auto-webp'], type: bool, default: false, group: 'imagor',
    help: 'Serve WebP when the Accept header allows it (q-values honoured) and the URL names no format(). Adds Vary: Accept.',
  }),
  autoAvif: setting({
    env: ['IMAGOR_AUTO_AVIF'], flags: ['--imagor-auto-avif'], type: bool, default: false, group: 'imagor',
    help: 'Serve AVIF when the Accept header allows it and the URL names no format(). Adds Vary: Accept.',
  }),
  autoJpeg: setting({
    env: ['IMAGOR_AUTO_JPEG'], flags: ['--imagor-auto-jpeg'], type: bool, default: false, group: 'imagor',
    help: 'Serve JPEG when the Accept header allows it and the URL names no format().',
  }),
  cacheHeaderTtl: setting({
    env: ['IMAGOR_CACHE_HEADER_TTL'], flags: ['--imagor-cache-header-ttl'], type: duration, default: 168 * 3_600_000, group: 'imagor',
    help: 'Cache-Control max-age and s-maxage of processed images.',
  }),
  cacheHeaderSwr: setting({
    env: ['IMAGOR_CACHE_HEADER_SWR'], flags: ['--imagor-cache-header-swr'], type: duration, default: 24 * 3_600_000, group: 'imagor',
    help: 'Cache-Control stale-while-revalidate (sent only when shorter than the TTL).',
  }),
  cacheHeaderNoCache: setting({
    env: ['IMAGOR_CACHE_HEADER_NO_CACHE'], flags: ['--imagor-cache-header-no-cache'], type: bool, default: false, group: 'imagor',
    help: 'Send Cache-Control: private, no-cache, no-store, must-revalidate on processed images.',
  }),
  disableParamsEndpoint: setting({
    env: ['IMAGOR_DISABLE_PARAMS_ENDPOINT'], flags: ['--imagor-disable-params-endpoint'], type: bool, default: false, group: 'imagor',
    help: 'Turn off /params (which in pixgate answers only for URLs whose signature verifies).',
  }),
  disableErrorBody: setting({
    env: ['IMAGOR_DISABLE_ERROR_BODY'], flags: ['--imagor-disable-error-body'], type: bool, default: false, group: 'imagor',
    help: 'Answer imagor errors with the status only, no JSON body.',
  }),
  requestTimeout: setting({
    env: ['IMAGOR_REQUEST_TIMEOUT'], flags: ['--imagor-request-timeout'], type: duration, default: 30_000, group: 'imagor',
    help: 'Deadline of a whole imagor request (408 after it).',
  }),
  loadTimeout: setting({
    env: ['IMAGOR_LOAD_TIMEOUT'], flags: ['--imagor-load-timeout'], type: duration, default: 20_000, group: 'imagor',
    help: 'Deadline of loading a source image, body included (408 after it).',
  }),
  processTimeout: setting({
    env: ['IMAGOR_PROCESS_TIMEOUT'], flags: ['--imagor-process-timeout'], type: duration, default: 20_000, group: 'imagor',
    help: 'Deadline of processing one image, including the wait for a processing slot (408 after it).',
  }),
  saveTimeout: setting({
    env: ['IMAGOR_SAVE_TIMEOUT'], flags: ['--imagor-save-timeout'], type: duration, default: 20_000, group: 'imagor',
    help: 'Deadline of saving a result to storage (a failed save is logged, never fails the request).',
  }),
  processConcurrency: setting({
    env: ['IMAGOR_PROCESS_CONCURRENCY'], flags: ['--imagor-process-concurrency'], type: processConcurrency,
    default: cores, defaultText: 'number of cores', group: 'imagor',
    help: 'Images processed at once per process, 1 to 1024. imagor\'s -1 (its default, "no limit") and 0 are read as the number of cores, with a warning: pixgate always bounds it.',
  }),
  processQueueSize: setting({
    env: ['IMAGOR_PROCESS_QUEUE_SIZE'], flags: ['--imagor-process-queue-size'], type: int({ min: 0, max: 100_000 }), default: 64, group: 'imagor',
    help: 'Requests allowed to wait for a processing slot; beyond it, 429. 0 = no waiting (as imagor\'s 0).',
  }),
  presets: setting({
    env: ['PIXGATE_PRESETS'], flags: ['--presets'], type: presetsText, default: '', group: 'imagor',
    help: 'Named operation sets, e.g. thumb=fit-in/200x200/filters:quality(80);hero=1600x0/. A URL names them with a first segment preset:thumb/ (covered by the signature); its own segments apply on top.',
  }),
  baseParams: setting({
    env: ['IMAGOR_BASE_PARAMS'], flags: ['--imagor-base-params'], type: operationsText, default: '', group: 'imagor',
    help: 'Operations applied on top of every imagor URL (its segments override, its filters are appended), e.g. filters:watermark(logo.png,0,0,0).',
  }),
  maxLoads: setting({
    env: ['PIXGATE_MAX_LOADS'], flags: ['--max-loads'], type: int({ min: 1, max: 100_000 }), default: 128, group: 'imagor',
    help: 'Source and overlay loads in flight at once per process; beyond it, 429. Loads wait on the network, not the CPU, so they do not take processing slots.',
  }),
  memoryCacheSize: setting({
    env: ['PIXGATE_MEMORY_CACHE_SIZE'], flags: ['--memory-cache-size'], type: bytes, default: 64 * 1024 * 1024, group: 'storage',
    help: 'In-memory cache of hot results in front of result storage (when one is configured), per process; 0 turns it off. Unused with IMAGOR_MODIFIED_TIME_CHECK.',
  }),
  memoryCacheTtl: setting({
    env: ['PIXGATE_MEMORY_CACHE_TTL'], flags: ['--memory-cache-ttl'], type: duration, default: 60_000, group: 'storage',
    help: 'Longest time a result stays in the in-memory cache, so a fleet instance never lags its shared storage by more.',
  }),
  lenientFilters: setting({
    env: ['PIXGATE_LENIENT_FILTERS'], flags: ['--lenient-filters'], type: bool, default: false, group: 'imagor',
    help: 'Ignore unknown filters and malformed filter arguments, as imagor does, instead of answering 400.',
  }),
} as const;
