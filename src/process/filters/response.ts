/**
 * Filters that change the response rather than the pixels: expire, attachment, max_age, preview and raw
 * (imagor.go Do, getTtl, getContentDisposition), and the meta endpoint's blurhash, thumbhash and avgcolor
 * (process.go). Declares them for the registry and reads them for the server: the TTL, Content-Disposition,
 * whether raw bytes may be served. Pure: the caller passes the clock.
 */
import type { Filter, ImagorParams } from '../../parse/imagor-params.js';
import { splitFilterArgs } from '../../parse/imagor-filters.js';
import { bodyMatchesType, sniffBytes, type Sniffed } from '../../policy/sniff.js';
import { parseMediaType } from '../../policy/content-type.js';
import { fail } from '../../respond/errors.js';
import { badArgument, defineFilter, noArguments, type FilterContext, type FilterDef } from './types.js';

/** Go's strconv.ParseInt(s, 10, 64): digits with an optional sign, nothing else. */
function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const readExpire = (args: readonly string[], ctx: FilterContext): number | true | undefined => {
  const ms = parseGoInt(args.join(','));
  if (ms !== undefined) return ms;
  // imagor ignores an expire() it cannot read.
  return ctx.lenient ? true : badArgument(ctx, 'expects a unix time in milliseconds');
};

const readMaxAge = (args: readonly string[], ctx: FilterContext): number | true | undefined => {
  const seconds = parseGoInt(args.join(','));
  if (seconds !== undefined && seconds >= 0) return seconds;
  // imagor (like thumbor) ignores a negative or non-numeric max_age.
  return ctx.lenient ? true : badArgument(ctx, 'expects a whole number of seconds, 0 or more');
};

/** blurhash(x, y): component counts 1-9 each (imagor answers 400 otherwise, lenient or not). */
export function readBlurhashArgs(args: string): { x: number; y: number } | undefined {
  const parts = splitFilterArgs(args);
  if (parts.length !== 2) return undefined;
  const x = parseGoInt(parts[0]!);
  const y = parseGoInt(parts[1]!);
  if (x === undefined || y === undefined || x < 1 || x > 9 || y < 1 || y > 9) return undefined;
  return { x, y };
}

export const responseFilters: readonly FilterDef[] = [
  defineFilter({ name: 'expire', phases: ['response'], animation: 'not-applicable', parse: readExpire }),
  // Any text names the file; it is made safe for the header where it is written.
  defineFilter({ name: 'attachment', phases: ['response'], animation: 'not-applicable', parse: () => true }),
  defineFilter({ name: 'max_age', phases: ['response'], animation: 'not-applicable', parse: readMaxAge }),
  defineFilter({ name: 'preview', phases: ['response'], animation: 'not-applicable', parse: noArguments }),
  defineFilter({ name: 'raw', phases: ['response'], animation: 'not-applicable', parse: noArguments }),
  defineFilter({
    name: 'blurhash',
    phases: ['meta'],
    animation: 'not-applicable',
    parse: (args, ctx) => (readBlurhashArgs(args.join(',')) !== undefined || ctx.lenient ? true : badArgument(ctx, 'expects x and y components from 1 to 9')),
  }),
  defineFilter({ name: 'thumbhash', phases: ['meta'], animation: 'not-applicable', parse: noArguments }),
  defineFilter({ name: 'avgcolor', phases: ['meta'], animation: 'not-applicable', parse: noArguments }),
];

/** What the response filters of a URL ask for. */
export interface ResponseControl {
  /** The earliest readable expire(), unix ms. */
  readonly expireMs: number | undefined;
  /** The last readable max_age(), seconds. */
  readonly maxAgeSeconds: number | undefined;
  /** The first attachment()'s argument as written ('' = the image's own name); undefined = inline. */
  readonly attachment: string | undefined;
  readonly preview: boolean;
  readonly raw: boolean;
}

/** Reads the response filters as imagor does; unreadable expire/max_age arguments are skipped (validate first). */
export function readResponseControl(filters: readonly Filter[]): ResponseControl {
  let expireMs: number | undefined;
  let maxAgeSeconds: number | undefined;
  let attachment: string | undefined;
  let preview = false;
  let raw = false;
  for (const f of filters) {
    switch (f.name) {
      case 'expire': {
        const ms = parseGoInt(f.args);
        if (ms !== undefined && (expireMs === undefined || ms < expireMs)) expireMs = ms;
        break;
      }
      case 'max_age': {
        const s = parseGoInt(f.args);
        if (s !== undefined && s >= 0) maxAgeSeconds = s;
        break;
      }
      case 'attachment':
        attachment ??= f.args;
        break;
      case 'preview':
        preview = true;
        break;
      case 'raw':
        raw = true;
        break;
    }
  }
  return { expireMs, maxAgeSeconds, attachment, preview, raw };
}

/** imagor's "utility filters": they never change the result, so they are left out of the result key. */
const KEY_NEUTRAL: ReadonlySet<string> = new Set(['expire', 'attachment', 'max_age']);

/**
 * The params without expire, attachment and max_age, so that they never change the result key (imagor.go Do).
 * The path is emptied when something was removed, so that the key is generated from what is left.
 */
export function withoutResponseFilters(params: ImagorParams): ImagorParams {
  if (!params.filters.some((f) => KEY_NEUTRAL.has(f.name))) return params;
  return { ...params, filters: params.filters.filter((f) => !KEY_NEUTRAL.has(f.name)), path: '' };
}

/** Throws EXPIRED when an expire() time is strictly in the past (imagor: time.Now().After(exp)). */
export function checkNotExpired(control: ResponseControl, nowMs: number): void {
  if (control.expireMs !== undefined && nowMs > control.expireMs) fail('EXPIRED', `expired at ${control.expireMs}, now ${nowMs}`);
}

/**
 * The TTL in seconds (imagor getTtl): the configured one, replaced by max_age() (uncapped; 0 = no caching),
 * capped by the time left before expire(), rounded up to the second; the most restrictive wins.
 */
export function responseTtlSeconds(control: ResponseControl, defaultTtlSeconds: number, nowMs: number): number {
  let ttl = defaultTtlSeconds;
  if (control.maxAgeSeconds !== undefined) ttl = control.maxAgeSeconds;
  if (control.expireMs !== undefined) {
    const left = Math.ceil((control.expireMs - nowMs) / 1000);
    if (left < ttl) ttl = left;
  }
  return Math.max(0, ttl);
}

/** imagor's getExtension for the types we send. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/jxl': '.jxl',
  'image/avif': '.avif',
  'image/heif': '.heif',
  'image/tiff': '.tiff',
  'image/jp2': '.jp2',
  'image/bmp': '.bmp',
  'application/json': '.json',
};

/** Bytes a quoted header parameter cannot carry as they are: controls, `"`, `\` and anything past ASCII. */
function headerSafe(name: string): string {
  let out = '';
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    // A lone surrogate has no UTF-8 form to percent-encode.
    out += c < 0x20 || c > 0x7e || ch === '\\' ? (c >= 0xd800 && c <= 0xdfff ? '_' : encodeURIComponent(ch)) : ch;
  }
  return out;
}

/**
 * `inline`, or imagor's `attachment; filename="..."`: the given name or the image key's last path segment,
 * with the output's extension appended unless already there (`.jpeg` counts for JPEG), `"` written as `%22`.
 * We also percent-encode controls, `\` and non-ASCII, which a header cannot carry as they are.
 */
export function contentDisposition(attachment: string | undefined, image: string, contentType: string): string {
  if (attachment === undefined) return 'inline';
  let name = attachment !== '' ? attachment : image.slice(image.lastIndexOf('/') + 1);
  name = name.replace(/"/g, '%22');
  const ext = EXTENSIONS[contentType.split(';')[0]!.trim().toLowerCase()];
  if (ext !== undefined && !(ext === '.jpg' && name.endsWith('.jpeg'))) {
    name = (name.endsWith(ext) ? name.slice(0, -ext.length) : name) + ext;
  }
  return `attachment; filename="${headerSafe(name)}"`;
}

/** What raw() may send as it is: raster images that no browser runs script from. */
const RAW_TYPES: Partial<Record<Sniffed, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heif: 'image/heif',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  tiff: 'image/tiff',
  jxl: 'image/jxl',
  jp2: 'image/jp2',
};

/**
 * The Content-Type raw() sends for a source, from its bytes, never from the origin's header: only the raster
 * types above. SVG (which can carry script), HTML, XML, PDF and anything unrecognised are refused with
 * UNSUPPORTED_FORMAT, whatever the origin called them, and so is a declared image type the bytes contradict.
 */
export function rawContentType(bytes: Uint8Array, declared: string | undefined): string {
  const sniffed = sniffBytes(bytes.subarray(0, 512));
  const type = RAW_TYPES[sniffed];
  if (type === undefined) fail('UNSUPPORTED_FORMAT', `raw() refuses ${sniffed} bytes`);
  const media = declared === undefined ? undefined : parseMediaType(declared);
  if (media !== undefined && media.type === 'image' && !bodyMatchesType(media.type, media.subtype, sniffed)) {
    fail('UNSUPPORTED_FORMAT', `raw(): ${sniffed} bytes declared as ${media.type}/${media.subtype}`);
  }
  return type;
}
