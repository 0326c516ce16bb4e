/** Limits against image bombs and the libvips knobs (imagor's VIPS_* settings). */
import { setting } from '../define.js';
import { bool, int, list, string } from '../values.js';

export const limitsSettings = {
  vipsMaxWidth: setting({
    env: ['VIPS_MAX_WIDTH'], flags: ['--vips-max-width'], type: int({ min: 0 }), default: 9999, group: 'limits',
    help: 'Widest source or output image accepted (422 beyond); read from the header, before decoding. 0 means imagor\'s 9999.',
  }),
  vipsMaxHeight: setting({
    env: ['VIPS_MAX_HEIGHT'], flags: ['--vips-max-height'], type: int({ min: 0 }), default: 9999, group: 'limits',
    help: 'Tallest source or output image (per frame) accepted (422 beyond). 0 means imagor\'s 9999.',
  }),
  vipsMaxResolution: setting({
    env: ['VIPS_MAX_RESOLUTION'], flags: ['--vips-max-resolution'], type: int({ min: 0 }), default: 81_000_000, group: 'limits',
    help: 'Most pixels (width x height) accepted (422 beyond). 0 means imagor\'s 81000000.',
  }),
  vipsMaxAnimationFrames: setting({
    env: ['VIPS_MAX_ANIMATION_FRAMES'], flags: ['--vips-max-animation-frames'], type: int({ min: -1 }), default: 500, group: 'limits',
    help: 'Most animation frames decoded; frames beyond are dropped, as imagor does. -1 = no limit (imagor\'s default; pixgate bounds it).',
  }),
  vipsConcurrency: setting({
    env: ['VIPS_CONCURRENCY'], flags: ['--vips-concurrency'], type: int({ min: -1, max: 1024 }), default: 1, group: 'limits',
    help: 'libvips threads per image operation; -1 = number of cores. 1 suits many parallel requests.',
  }),
  vipsMozjpeg: setting({
    env: ['VIPS_MOZJPEG'], flags: ['--vips-mozjpeg'], type: bool, default: false, group: 'limits',
    help: 'Encode JPEG with mozjpeg settings (smaller, slower, progressive), as imagor\'s MozJPEG build.',
  }),
  vipsAvifSpeed: setting({
    env: ['VIPS_AVIF_SPEED'], flags: ['--vips-avif-speed'], type: int({ min: 0, max: 9 }), default: 8, group: 'limits',
    help: 'AVIF encoder speed 0 (slowest, smallest) to 9; effort = 9 - speed.',
  }),
  vipsStripMetadata: setting({
    env: ['VIPS_STRIP_METADATA'], flags: ['--vips-strip-metadata'], type: bool, default: false, group: 'limits',
    help: 'Strip all metadata from every output.',
  }),
  vipsStripColorProfile: setting({
    env: ['VIPS_STRIP_COLOR_PROFILE'], flags: ['--vips-strip-color-profile'], type: bool, default: false, group: 'limits',
    help: 'Convert every output to sRGB and drop its ICC profile.',
  }),
  vipsMaxCacheMem: setting({
    env: ['VIPS_MAX_CACHE_MEM'], flags: ['--vips-max-cache-mem'], type: int({ min: 0 }), default: 0, group: 'limits',
    help: 'libvips operation cache memory in MB (0 = off, as imagor).',
  }),
  vipsMaxCacheSize: setting({
    env: ['VIPS_MAX_CACHE_SIZE'], flags: ['--vips-max-cache-size'], type: int({ min: 0 }), default: 0, group: 'limits',
    help: 'libvips operation cache entries (0 = off).',
  }),
  vipsMaxCacheFiles: setting({
    env: ['VIPS_MAX_CACHE_FILES'], flags: ['--vips-max-cache-files'], type: int({ min: 0 }), default: 0, group: 'limits',
    help: 'libvips operation cache open files (0 = off).',
  }),
  vipsMaxFilterOps: setting({
    env: ['VIPS_MAX_FILTER_OPS'], flags: ['--vips-max-filter-ops'], type: int({ min: -1 }), default: -1, group: 'limits',
    help: 'Most filters that work on pixels in one URL; more is a 400 naming the limit (with PIXGATE_LENIENT_FILTERS, the extra ones are skipped, as imagor does). -1 = no limit.',
  }),
  vipsDisableBlur: setting({
    env: ['VIPS_DISABLE_BLUR'], flags: ['--vips-disable-blur'], type: bool, default: false, group: 'limits',
    help: 'Turn off the blur() and sharpen() filters (skipped) and paint fill(blur) black, as imagor does.',
  }),
  vipsDisableFilters: setting({
    env: ['VIPS_DISABLE_FILTERS'], flags: ['--vips-disable-filters'], type: list(string), default: [], group: 'limits',
    help: 'Comma-separated filter names to skip entirely, arguments unchecked, e.g. blur,watermark.',
  }),
} as const;
