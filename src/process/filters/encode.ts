/**
 * Encoder knobs beyond format and quality: max_bytes (imagor's re-encode loop), imagor's PNG and JPEG export
 * knobs palette(), bitdepth(n), compression(n), autojpg(), and to_colorspace(profile). They set options the
 * planner turns into EncoderKnobs on the OutputSpec; none emits a pixel step. Pure.
 */
import type { OutputFormat } from '../negotiate.js';
import { argumentCount } from './numbers.js';
import { badArgument, defineFilter, noArguments, readInteger, type CollectedOptions, type FilterDef } from './types.js';

/** ICC profiles libvips ships built in (sharp's withIccProfile names). */
export type ColourProfile = 'srgb' | 'p3' | 'cmyk';

/** Encoder options the executor applies on top of format, quality and metadata. */
export interface EncoderKnobs {
  /** max_bytes(n): re-encode with lower quality until the output fits; undefined when it does not apply. */
  readonly maxBytes: number | undefined;
  /** The quality the first retry scales down from: the URL's quality(), else 80 (imagor). */
  readonly retryFrom: number;
  /** PNG: quantise to a palette (libimagequant); the URL's quality() then steers the quantiser. */
  readonly palette: boolean;
  /** PNG palette size from bitdepth(1|2|4): 2, 4 or 16 colours. */
  readonly colours: number | undefined;
  /** PNG bitdepth(16): 16 bits per channel. */
  readonly sixteenBit: boolean;
  /** PNG zlib level 0-9 from compression(n); undefined = libvips' default (6). */
  readonly compression: number | undefined;
  /** to_colorspace(): convert to this profile and attach it. */
  readonly profile: ColourProfile | undefined;
}

/** Formats whose size max_bytes can lower by lowering quality (imagor also skips PNG; GIF and our TIFF have no quality). */
const QUALITY_FORMATS: ReadonlySet<OutputFormat> = new Set(['jpeg', 'webp', 'avif']);

/**
 * The knobs for `format` from what the filters collected. `stripIcc` is true when the output carries no
 * profile (strip_icc, strip_metadata, VIPS_STRIP_*), which also drops to_colorspace. CMYK applies to JPEG and
 * TIFF only; other formats stay sRGB.
 */
export function encoderKnobs(c: CollectedOptions, format: OutputFormat, stripIcc: boolean): EncoderKnobs {
  const png = format === 'png';
  const colours = png && c.bitdepth !== undefined && c.bitdepth < 8 ? 2 ** c.bitdepth : undefined;
  const profile = stripIcc || c.colourspace === undefined || (c.colourspace === 'cmyk' && format !== 'jpeg' && format !== 'tiff') ? undefined : c.colourspace;
  return {
    maxBytes: c.maxBytes !== undefined && !c.lossless && QUALITY_FORMATS.has(format) ? c.maxBytes : undefined,
    retryFrom: c.quality > 0 ? c.quality : 80,
    palette: png && (c.palette || colours !== undefined),
    colours,
    sixteenBit: png && c.bitdepth === 16,
    compression: png ? c.compression : undefined,
    profile,
  };
}

export const maxBytesFilter = defineFilter<number>({
  name: 'max_bytes',
  phases: ['export', 'load'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const n = readInteger(args.join(','));
    // imagor ignores anything that is not a positive integer.
    return n !== undefined && n > 0 ? n : badArgument(ctx, 'expects a positive number of bytes');
  },
  collect: (n, into) => {
    into.maxBytes = n;
    // imagor decodes the full image when max_bytes is set.
    into.fullDecode.push('max_bytes');
  },
});

export const paletteFilter = defineFilter({
  name: 'palette',
  phases: ['export'],
  animation: 'not-applicable',
  parse: noArguments,
  collect: (_, into) => {
    into.palette = true;
  },
});

const BITDEPTHS = [1, 2, 4, 8, 16];

export const bitdepthFilter = defineFilter<number>({
  name: 'bitdepth',
  phases: ['export'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const n = readInteger(args.join(','));
    if (n !== undefined && BITDEPTHS.includes(n)) return n;
    return badArgument(ctx, 'expects 1, 2, 4, 8 or 16');
  },
  collect: (n, into) => {
    into.bitdepth = n;
  },
});

export const compressionFilter = defineFilter<number>({
  name: 'compression',
  phases: ['export'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const n = readInteger(args.join(','));
    if (n !== undefined && n >= 0 && n <= 9) return n;
    return badArgument(ctx, 'expects a level from 0 to 9');
  },
  collect: (n, into) => {
    into.compression = n;
  },
});

/**
 * autojpg([enabled]): thumbor's per-request AUTO_PNG_TO_JPG, a PNG output without transparency is written as
 * JPEG; an explicit format() wins. imagor writes JPEG unconditionally; pixgate keeps a transparent image in PNG
 * rather than painting its transparency black. autojpg(false) turns an earlier autojpg() off.
 */
export const autojpgFilter = defineFilter<boolean>({
  name: 'autojpg',
  phases: ['export'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    if (!argumentCount(args, [0, 1], ctx, 'expects nothing, true or false')) return undefined;
    const text = (args[0] ?? '').trim().toLowerCase();
    if (text === '' || text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    return ctx.lenient ? true : badArgument(ctx, 'expects nothing, true or false');
  },
  collect: (on, into) => {
    into.autojpg = on;
  },
});

/**
 * to_colorspace([profile=srgb]): srgb, p3 or cmyk (JPEG and TIFF outputs only). imagor transforms only images
 * that carry a profile; pixgate treats an untagged image as sRGB, which is what browsers assume, and converts
 * it too.
 */
export const toColorspaceFilter = defineFilter<ColourProfile>({
  name: 'to_colorspace',
  phases: ['export'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const name = args.join(',').trim().toLowerCase();
    if (name === '' || name === 'srgb' || name === 'p3' || name === 'cmyk') return name === '' ? 'srgb' : name;
    return badArgument(ctx, 'expects srgb, p3 or cmyk');
  },
  collect: (profile, into) => {
    into.colourspace = profile;
  },
});

export const encodeFilters: readonly FilterDef[] = [
  maxBytesFilter,
  paletteFilter,
  bitdepthFilter,
  compressionFilter,
  autojpgFilter,
  toColorspaceFilter,
];
