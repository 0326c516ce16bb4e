/**
 * Output format decision for imagor URLs: an explicit format() filter, else AVIF/WebP (or JPEG) chosen from the
 * Accept header when IMAGOR_AUTO_* is on, else the source's own format; and whether the response must carry
 * `Vary: Accept`. Pure: no source bytes needed for the choice, so the server can key its cache on it.
 */
import type { SourceFormat } from './steps.js';

/** Formats our encoder writes (sharp's prebuilt libvips: no JPEG XL, JPEG 2000, HEVC, BMP, PDF or SVG output). */
export type OutputFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'tiff';

/** The names imagor's format() and fallback_format() accept (imageTypeMap in process.go). */
export const FORMAT_NAMES = ['jpeg', 'jpg', 'png', 'gif', 'webp', 'avif', 'heif', 'tiff', 'jp2', 'jxl', 'bmp', 'pdf', 'svg'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export function isFormatName(text: string): text is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(text);
}

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = Object.freeze({
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
});

/**
 * What a requested name is written as. imagor's supportedSaveFormat sends bmp, pdf and svg to JPEG; we also
 * send jxl and jp2 there (no encoder in our libvips) and write heif as AVIF, the HEIF flavour we can encode.
 */
export function toOutputFormat(name: FormatName): OutputFormat {
  switch (name) {
    case 'jpeg':
    case 'jpg':
      return 'jpeg';
    case 'png':
    case 'gif':
    case 'webp':
    case 'avif':
    case 'tiff':
      return name;
    case 'heif':
      return 'avif';
    default:
      return 'jpeg';
  }
}

/** The output when nothing asks for a format: the source's own, and JPEG for what we cannot write (imagor). */
export function defaultOutputFormat(source: SourceFormat): OutputFormat {
  switch (source) {
    case 'jpeg':
    case 'png':
    case 'gif':
    case 'webp':
    case 'avif':
    case 'tiff':
      return source;
    default:
      return 'jpeg';
  }
}

/** GIF and WebP keep frames; everything else is written from the first frame (imagor's IsAnimationSupported). */
export function canAnimate(format: OutputFormat): boolean {
  return format === 'gif' || format === 'webp';
}

/** One media range of an Accept header. */
export interface AcceptRange {
  readonly type: string;
  readonly subtype: string;
  /** 0 to 1; a malformed q counts as 0 so a garbled entry never turns a format on. */
  readonly q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Parses an Accept header (RFC 9110 §12.5.1) into media ranges; malformed entries are skipped. */
export function parseAccept(header: string | undefined): AcceptRange[] {
  if (header === undefined) return [];
  const out: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const [range, ...params] = part.split(';');
    const [type, subtype, extra] = (range ?? '').trim().toLowerCase().split('/');
    if (type === undefined || subtype === undefined || extra !== undefined) continue;
    if (!TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) continue;
    let q = 1;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(eq + 1).trim();
      q = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value) ? Number(value) : 0;
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/**
 * The q the header gives a concrete media type: the most specific matching range wins (type/subtype, then
 * type/*, then * / *). With `wildcards: false` only an exact type/subtype range counts, because `* / *` or
 * `image/*` alone says nothing about whether a browser decodes WebP or AVIF.
 */
export function acceptQuality(ranges: readonly AcceptRange[], mediaType: string, wildcards: boolean): number {
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let exact: number | undefined;
  let typeWild: number | undefined;
  let anyWild: number | undefined;
  for (const r of ranges) {
    if (r.type === type && r.subtype === subtype) exact = Math.max(exact ?? 0, r.q);
    else if (r.type === type && r.subtype === '*') typeWild = Math.max(typeWild ?? 0, r.q);
    else if (r.type === '*' && r.subtype === '*') anyWild = Math.max(anyWild ?? 0, r.q);
  }
  if (exact !== undefined) return exact;
  if (!wildcards) return 0;
  return typeWild ?? anyWild ?? 0;
}

export interface FormatRequest {
  /** The URL's last valid format() argument. */
  readonly explicit?: FormatName | undefined;
  /** The URL's last valid fallback_format() argument. */
  readonly fallback?: FormatName | undefined;
  readonly accept?: string | undefined;
  readonly autoWebp?: boolean | undefined;
  readonly autoAvif?: boolean | undefined;
  readonly autoJpeg?: boolean | undefined;
}

export interface FormatChoice {
  /** The format to write; undefined = the source's own (see defaultOutputFormat). */
  readonly format: OutputFormat | undefined;
  /** What an animation is written as when `format` cannot animate. */
  readonly fallback: OutputFormat | undefined;
  /** `Vary: Accept` must be sent: an auto-format option is on and the URL has no format() (imagor). */
  readonly vary: boolean;
  /** Which negotiation picked the format, for logs and debug headers. */
  readonly negotiated: 'avif' | 'webp' | 'jpeg' | undefined;
}

/**
 * Chooses the output format before the source is known. Unlike imagor, which looks for the substring
 * `image/webp`, q-values count: `image/webp;q=0` is a refusal, and AVIF or WebP are only chosen when named with
 * q > 0. When both are acceptable the higher q wins, AVIF on a tie (imagor's order); with AVIF chosen and
 * auto-WebP on, WebP becomes the fallback for animations, as imagor adds fallback_format(webp).
 */
export function chooseOutputFormat(req: FormatRequest): FormatChoice {
  const fallback = req.fallback === undefined ? undefined : toOutputFormat(req.fallback);
  if (req.explicit !== undefined) {
    return { format: toOutputFormat(req.explicit), fallback, vary: false, negotiated: undefined };
  }
  const auto = req.autoWebp === true || req.autoAvif === true || req.autoJpeg === true;
  if (!auto) return { format: undefined, fallback, vary: false, negotiated: undefined };

  const ranges = parseAccept(req.accept);
  const avifQ = req.autoAvif === true ? acceptQuality(ranges, 'image/avif', false) : 0;
  const webpQ = req.autoWebp === true ? acceptQuality(ranges, 'image/webp', false) : 0;
  if (avifQ > 0 && avifQ >= webpQ) {
    return { format: 'avif', fallback: webpQ > 0 ? 'webp' : fallback, vary: true, negotiated: 'avif' };
  }
  if (webpQ > 0) return { format: 'webp', fallback, vary: true, negotiated: 'webp' };
  if (req.autoJpeg === true) {
    const blank = req.accept === undefined || req.accept.trim() === '';
    if (blank || acceptQuality(ranges, 'image/jpeg', true) > 0) {
      return { format: 'jpeg', fallback, vary: true, negotiated: 'jpeg' };
    }
  }
  return { format: undefined, fallback, vary: true, negotiated: undefined };
}

export interface ResolvedFormat {
  readonly format: OutputFormat;
  /** Frames are written as an animation. */
  readonly animated: boolean;
}

/**
 * The final format once the source is known: the choice or the source's default; an animation whose format
 * cannot animate is written as its fallback when that can animate (imagor's applyAutoFormatFallback), else
 * from its first frame.
 */
export function resolveOutputFormat(choice: FormatChoice, source: SourceFormat, animated: boolean): ResolvedFormat {
  const format = choice.format ?? defaultOutputFormat(source);
  if (!animated || canAnimate(format)) return { format, animated };
  if (choice.fallback !== undefined && canAnimate(choice.fallback)) return { format: choice.fallback, animated: true };
  return { format, animated: false };
}
