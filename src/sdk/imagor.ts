/**
 * imagor URLs for web apps: a typed builder over every path segment and every imagor filter, with presets,
 * signed with Web Crypto (or any MAC), and its inverses for debugging (parse a URL back into options, check
 * a URL's hash). Paths are written by parse/imagor-generate.ts and read by parse/imagor-path.ts, the server's
 * own grammar; this module only validates, escapes filter arguments and places the `preset:` segment.
 */
import { formatFloat, generateImagorPath } from '../parse/imagor-generate.js';
import { formatFiltersSegment, scanFiltersSegment, splitFilterArgs } from '../parse/imagor-filters.js';
import type { Filter, ImagorParams, TrimBy } from '../parse/imagor-params.js';
import { parseImagorParamsPath, parseImagorPath, queryUnescape } from '../parse/imagor-path.js';
import { encodeBase64Url, utf8 } from '../verify/encoding.js';
import {
  signImagorPath as signImagorPathWith,
  signImagorPathAsync,
  verifyImagorHash,
  type ImagorSigner,
  type ImagorSignerType,
} from '../verify/imagor-signature.js';
import type { AsyncMacFn, MacFn } from '../verify/mac.js';
import { asyncMac, invalidParameter, isFiniteNumber, isSafeInteger, syncMac } from './validate.js';
import { runWithAsyncMac, webCryptoMac } from './web-mac.js';

export type { ImagorSignerType, TrimBy };

/** One `name(args)` entry of the `filters:` segment; make them with the `f` helpers. */
export type ImagorFilter = Filter;

/** The image operations of an imagor URL, segment by segment, in the order imagor reads them. */
export interface ImagorOptions {
  /** The source: a URL (`https://example.com/a.jpg`), a storage key, or `color:red`. Escaped as needed. */
  readonly image: string;
  /** Named presets the server expands (`PIXGATE_PRESETS`); written first, as `preset:a,b/`, and signed. */
  readonly presets?: readonly string[];
  /** Answer with the JSON metadata of the result instead of the image (`meta/`). */
  readonly meta?: boolean;
  /** Trim uniform borders, from the top-left pixel's colour (default) or the bottom-right's. */
  readonly trim?: boolean | { readonly by?: TrimBy; readonly tolerance?: number };
  /** Manual crop before resizing: pixels, or fractions of the image when all four are below 1. */
  readonly crop?: { readonly left: number; readonly top: number; readonly right: number; readonly bottom: number };
  /** Fit inside width x height instead of filling it. */
  readonly fitIn?: boolean;
  /** With fitIn: swap the box to the image's orientation (`adaptive-fit-in`). */
  readonly adaptive?: boolean;
  /** With fitIn: the smaller side meets the box, so the result covers it (`full-fit-in`). */
  readonly full?: boolean;
  /** Resize to exactly width x height, ignoring the aspect ratio. */
  readonly stretch?: boolean;
  /** Pixels; 0 or left out means "from the other side and the aspect ratio". */
  readonly width?: number;
  readonly height?: number;
  readonly hFlip?: boolean;
  readonly vFlip?: boolean;
  /** One number for all sides, or sides (right defaults to left, bottom to top, as in the URL grammar). */
  readonly padding?: number | { readonly left: number; readonly top: number; readonly right?: number; readonly bottom?: number };
  /** Crop anchor; `center` and `middle` are the defaults and are not written. */
  readonly hAlign?: 'left' | 'right' | 'center';
  readonly vAlign?: 'top' | 'bottom' | 'middle';
  /** Smart (attention-based) crop. */
  readonly smart?: boolean;
  readonly filters?: readonly ImagorFilter[];
  /** Write the image as `b64:` + base64url. Chosen automatically when the plain form would not survive a URL. */
  readonly base64Image?: boolean;
}

export interface ImagorSignOptions {
  /** The server's `IMAGOR_SECRET`. */
  readonly secret: string | Uint8Array;
  /** `IMAGOR_SIGNER_TYPE`; default sha1. */
  readonly type?: ImagorSignerType;
  /** `IMAGOR_SIGNER_TRUNCATE`; 0 (default) keeps the whole hash. Below 17 no server can recognise the hash. */
  readonly truncate?: number;
}

export interface ImagorSignAsyncOptions extends ImagorSignOptions {
  /** The MAC to sign with; Web Crypto when left out. */
  readonly mac?: AsyncMacFn;
}

export interface ImagorUrlOptions extends Partial<ImagorSignOptions> {
  /** Write `unsafe/` instead of a hash (servers in unsafe mode only; never in production). */
  readonly unsafe?: boolean;
  /** Origin and base path of the server, e.g. `https://img.example.com`; without it the URL starts with `/`. */
  readonly baseUrl?: string;
}

export interface ImagorUrlAsyncOptions extends ImagorUrlOptions {
  readonly mac?: AsyncMacFn;
}

// ---------------------------------------------------------------------------------------------------------
// Filter arguments

/** Output formats imagor knows (bmp, pdf and svg are read but written as JPEG by imagor). */
export type ImagorFormat = 'jpeg' | 'jpg' | 'png' | 'gif' | 'webp' | 'avif' | 'heif' | 'jxl' | 'tiff' | 'jp2' | 'bmp' | 'pdf' | 'svg';
const FORMATS: readonly string[] = ['jpeg', 'jpg', 'png', 'gif', 'webp', 'avif', 'heif', 'jxl', 'tiff', 'jp2', 'bmp', 'pdf', 'svg'];

export type ImagorBlendMode =
  | 'normal' | 'multiply' | 'screen' | 'overlay' | 'darken' | 'lighten' | 'color-dodge' | 'color-burn'
  | 'hard-light' | 'soft-light' | 'difference' | 'exclusion' | 'add' | 'mask' | 'mask-out';
const BLEND_MODES: readonly string[] = [
  'normal', 'multiply', 'screen', 'overlay', 'darken', 'lighten', 'color-dodge', 'color-burn',
  'hard-light', 'soft-light', 'difference', 'exclusion', 'add', 'mask', 'mask-out',
];

/** A colour name (`red`, `auto`), or hex `rgb`, `rrggbb`, `rrggbbaa` with or without `#` (the `#` is dropped). */
export type ImagorColor = string;

/**
 * Overlay position: integer pixels (negative from the right/bottom), a fraction between -1 and 1, `'20p'`
 * (percent), `left|right|top|bottom|center`, `left-20` / `l-20` style offsets, or `repeat`.
 */
export type ImagorPosition = number | string;

const POSITION = /^(?:-?\d+p?|-?0\.\d+|left|right|top|bottom|center|repeat|(?:left|l|right|r|top|t|bottom|b)-\d+)$/;
const COLOR_HEX = /^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const COLOR_NAME = /^[A-Za-z]+$/;
const FILTER_NAME = /^[a-z][a-z0-9_]*$/;
const PRESET_NAME = /^[A-Za-z0-9_-]+$/;
// Characters a filter argument may hold as they are: RFC 3986 unreserved and sub-delims, `:`, `@`, `/`, `%`, and
// `[` `]` for thumbor's curve(). Anything else would be rewritten by a browser or an HTTP client and break the
// signature. Brackets are gen-delims, but WHATWG URL (browsers, fetch, Node), Go's net/url and Python's requests
// all send them in a path as they are; the server reads curve() only from raw brackets, never from %5B.
const URL_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%[\]]*$/;

function int(name: string, value: unknown, min: number, max: number): string {
  if (!isSafeInteger(value, min, max)) invalidParameter(name, `an integer between ${min} and ${max}`, value);
  return String(value);
}

function num(name: string, value: unknown, min: number, max: number): string {
  if (!isFiniteNumber(value) || value < min || value > max) invalidParameter(name, `a number between ${min} and ${max}`, value);
  return formatFloat(value);
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly string[]): T {
  if (typeof value !== 'string' || !allowed.includes(value)) invalidParameter(name, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

function color(name: string, value: unknown): string {
  if (typeof value !== 'string' || !(COLOR_HEX.test(value) || COLOR_NAME.test(value))) {
    invalidParameter(name, 'a colour name or hex rgb, rrggbb or rrggbbaa', value);
  }
  return value.replace(/^#/, '');
}

function position(name: string, value: unknown): string {
  if (typeof value === 'number') {
    if (isSafeInteger(value)) return String(value);
    if (isFiniteNumber(value) && value > -1 && value < 1) return formatFloat(value);
  } else if (typeof value === 'string' && POSITION.test(value)) {
    return value;
  }
  return invalidParameter(name, "pixels, a fraction between -1 and 1, 'Np', left|right|top|bottom|center, 'left-N' or repeat", value);
}

function alpha(name: string, value: unknown): string {
  return num(name, value, 0, 100);
}

/** A colour the server can mix with: `auto`, `none`, `transparent` and `blur` are not colours there. */
function solidColor(name: string, value: unknown): string {
  if (typeof value === 'string' && ['auto', 'none', 'transparent', 'blur'].includes(value.toLowerCase())) {
    invalidParameter(name, 'a colour name or hex rgb, rrggbb or rrggbbaa (not auto, none, transparent or blur)', value);
  }
  return color(name, value);
}

/** A tone curve for `f.curve`: (x, y) points, x rising from 0 to 255, y from 0 to 255. */
export type ImagorCurve = readonly (readonly [x: number, y: number])[];

/** thumbor's curve syntax `[(x,y),(x,y)]` (thumbor/filters/curve.py). */
function curveArg(name: string, points: unknown): string {
  const expected = 'a non-empty array of [x, y] integer points from 0 to 255, x rising';
  if (!Array.isArray(points) || points.length === 0) invalidParameter(name, expected, points);
  let lastX = -1;
  const out: string[] = [];
  for (const point of points as unknown[]) {
    if (!Array.isArray(point) || point.length !== 2) invalidParameter(name, expected, point);
    const [x, y] = point as unknown[];
    if (!isSafeInteger(x, 0, 255) || !isSafeInteger(y, 0, 255) || x <= lastX) invalidParameter(name, expected, point);
    lastX = x;
    out.push(`(${x},${y})`);
  }
  return `[${out.join(',')}]`;
}

/** The server's largest kernel side (MAX_KERNEL_SIDE in process/filters/sharpness.ts; thumbor has none). */
const MAX_KERNEL_SIDE = 25;

/** thumbor's convolution arguments: items joined with `;`, the number of columns, and the normalize flag. */
function convolutionArgs(items: unknown, columns: unknown, normalize: unknown): string[] {
  const sides = `odd, at most ${MAX_KERNEL_SIDE}`;
  if (!Array.isArray(items) || items.length === 0 || !items.every((v) => isFiniteNumber(v))) {
    invalidParameter('convolution kernel', 'a non-empty array of finite numbers', items);
  }
  if (!isSafeInteger(columns, 1, MAX_KERNEL_SIDE) || columns % 2 === 0) invalidParameter('convolution columns', `an integer, ${sides}`, columns);
  const rows = items.length / columns;
  if (!Number.isInteger(rows) || rows % 2 === 0 || rows > MAX_KERNEL_SIDE) {
    invalidParameter('convolution kernel', `columns x rows items, the number of rows ${sides}`, items.length);
  }
  if (normalize !== undefined && typeof normalize !== 'boolean') invalidParameter('convolution normalize', 'a boolean', normalize);
  return [(items as number[]).map((v) => formatFloat(v)).join(';'), String(columns), String(normalize ?? true)];
}

const HEX = '0123456789ABCDEF';

/**
 * Percent-encodes everything but unreserved characters and `keep`. Filter arguments that imagor reads through
 * url.QueryUnescape (texts, fonts, overlay images, nested paths) come back exactly; `%` and `+` are always encoded
 * because QueryUnescape would change them.
 */
function escapeArg(text: string, keep: string): string {
  let out = '';
  for (const b of utf8(text)) {
    const c = String.fromCharCode(b);
    const unreserved = /[A-Za-z0-9\-._~]/.test(c);
    out += b < 128 && (unreserved || keep.includes(c)) ? c : '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/**
 * An argument imagor QueryUnescapes and then decodes when it starts with `b64:` (text, label, watermark
 * image). Text that itself starts with `b64:` is sent base64-encoded so that the decoding gives it back.
 */
function decodedArg(name: string, value: unknown, base64: boolean): string {
  if (typeof value !== 'string' || value === '') invalidParameter(name, 'a non-empty string', value);
  if (base64 || value.startsWith('b64:')) return 'b64:' + encodeBase64Url(utf8(value), false);
  return escapeArg(value, "!$&'*;=:@/");
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

function filter(name: string, args: readonly string[] = []): ImagorFilter {
  // An argument-less filter is written `name()`: imagor drops a name without parentheses.
  return Object.freeze({ name, args: args.join(',') });
}

function trimTrailing(args: Array<string | undefined>): string[] {
  let end = args.length;
  while (end > 0 && args[end - 1] === undefined) end--;
  return args.slice(0, end).map((a) => a ?? '');
}

export interface WatermarkOptions {
  /** Image key or URL, loaded with the server's loaders. */
  readonly image: string;
  readonly x?: ImagorPosition;
  readonly y?: ImagorPosition;
  /** 0 (opaque, default) to 100 (invisible). */
  readonly alpha?: number;
  /** Percent of the canvas width (or 'none') the watermark is fitted into. */
  readonly wRatio?: number | 'none';
  readonly hRatio?: number | 'none';
  /** Send the image as `b64:` (imagor decodes it). */
  readonly base64?: boolean;
}

export interface TextOptions {
  readonly x?: ImagorPosition;
  readonly y?: ImagorPosition;
  /** Pango font description, e.g. `sans bold 24` (written with hyphens: `sans-bold-24`). */
  readonly font?: string;
  readonly color?: ImagorColor;
  readonly alpha?: number;
  readonly blend?: ImagorBlendMode;
  /** Wrap width: pixels, a fraction below 1, `'80p'`, `'f'`/`'full'` or `'f-N'`. */
  readonly width?: number | string;
  readonly align?: 'low' | 'left' | 'centre' | 'center' | 'high' | 'right';
  readonly justify?: boolean;
  readonly wrap?: 'word' | 'char' | 'wordchar' | 'none';
  readonly spacing?: number;
  readonly dpi?: number;
  /** Send the text as `b64:` instead of percent-encoding it. */
  readonly base64?: boolean;
}

export interface LabelOptions {
  readonly x?: ImagorPosition;
  readonly y?: ImagorPosition;
  /** Pixels, default 20. */
  readonly size?: number;
  readonly color?: ImagorColor;
  readonly alpha?: number;
  readonly font?: string;
  readonly base64?: boolean;
}

export interface ImageFilterOptions {
  readonly x?: ImagorPosition;
  readonly y?: ImagorPosition;
  readonly alpha?: number;
  readonly blend?: ImagorBlendMode;
}

function font(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.includes('-')) {
    invalidParameter(name, 'a Pango font description without hyphens, e.g. "sans bold 24"', value);
  }
  // imagor reads hyphens as spaces (parseFontArg), so spaces go out as hyphens.
  return escapeArg(value.trim().replace(/ +/g, '-'), '-');
}

function textWidth(value: unknown): string {
  if (typeof value === 'number') {
    if (isSafeInteger(value, 0)) return String(value);
    if (isFiniteNumber(value) && value > 0 && value < 1) return formatFloat(value);
  } else if (typeof value === 'string' && /^(?:\d+p?|0\.\d+|f|full|(?:f|full)-\d+)$/.test(value)) {
    return value;
  }
  return invalidParameter('text width', "pixels, a fraction below 1, 'Np', 'f', 'full' or 'f-N'", value);
}

function nestedPath(value: unknown): string {
  if (typeof value === 'string') {
    if (value === '') invalidParameter('image path', 'a non-empty imagor path', value);
    // Parentheses stay readable when they nest properly; commas and everything QueryUnescape would change are encoded.
    return escapeArg(value, balanced(value) ? "!$&'*;=:@/()" : "!$&'*;=:@/");
  }
  if (typeof value === 'object' && value !== null) {
    const opts = value as ImagorOptions;
    if (opts.presets !== undefined && opts.presets.length > 0) invalidParameter('image path presets', 'no presets in a nested path', opts.presets);
    return nestedPath(buildImagorPath(opts));
  }
  return invalidParameter('image path', 'an imagor path or ImagorOptions', value);
}

/**
 * Typed builders for every imagor filter, with argument checks. Each returns `{ name, args }` for
 * `ImagorOptions.filters`; arguments are escaped so that the server reads back exactly what was given.
 * @example
 * filters: [f.format('webp'), f.quality(80), f.fill('blur'), f.watermark({ image: 'logo.png', x: -10, y: -10, alpha: 30 })]
 * @example
 * // tone and kernel filters imagor does not have (thumbor's, and a sepia tone)
 * filters: [f.colorize(40, 80, 20, 'ff0000'), f.noise(10), f.convolution([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), f.sepia()]
 */
export const f = {
  /** Flatten transparency onto a colour. */
  backgroundColor: (c: ImagorColor) => filter('background_color', [color('background_color color', c)]),
  /** Gaussian blur: one argument is a radius (sigma = radius / 2), two are radius and sigma. */
  blur: (radiusOrSigma: number, sigma?: number) =>
    filter('blur', sigma === undefined ? [num('blur radius', radiusOrSigma, 0, 1000)] : [num('blur radius', radiusOrSigma, 0, 1000), num('blur sigma', sigma, 0, 1000)]),
  brightness: (amount: number) => filter('brightness', [num('brightness', amount, -100, 100)]),
  contrast: (amount: number) => filter('contrast', [num('contrast', amount, -100, 100)]),
  /** Crop after resizing: pixels, or fractions (0..1) of the current image. */
  crop: (left: number, top: number, width: number, height: number) =>
    filter('crop', [
      num('crop left', left, 0, Number.MAX_SAFE_INTEGER),
      num('crop top', top, 0, Number.MAX_SAFE_INTEGER),
      num('crop width', width, 0, Number.MAX_SAFE_INTEGER),
      num('crop height', height, 0, Number.MAX_SAFE_INTEGER),
    ]),
  /** Render DPI for SVG and PDF sources. */
  dpi: (dpi: number) => filter('dpi', [int('dpi', dpi, 1, 10000)]),
  drawDetections: () => filter('draw_detections'),
  /** Hard expiry: after this time (unix milliseconds or a Date) the server answers 410. */
  expire: (at: number | Date) => filter('expire', [int('expire', at instanceof Date ? at.getTime() : at, 0, Number.MAX_SAFE_INTEGER)]),
  /** `Content-Disposition: attachment`, with the source's file name or this one. */
  attachment: (filename?: string) => {
    if (filename !== undefined && (typeof filename !== 'string' || !/^[A-Za-z0-9._~!$&'*+=@-]+$/.test(filename))) {
      invalidParameter('attachment filename', "letters, digits and . _ ~ ! $ & ' * + = @ -", filename);
    }
    return filter('attachment', filename === undefined ? [] : [filename]);
  },
  /** Cache lifetime of the response in seconds (0 = no-cache). */
  maxAge: (seconds: number) => filter('max_age', [int('max_age', seconds, 0, Number.MAX_SAFE_INTEGER)]),
  /** Fill the fit-in letterbox and padding: a colour, `blur`, `auto`, `none` or `transparent`. */
  fill: (c: ImagorColor | 'blur' | 'auto' | 'none' | 'transparent') => filter('fill', [color('fill color', c)]),
  /** Steer the crop to a region (left, top, right, bottom) or to a point (x, y); pixels or fractions below 1. */
  focal: (...args: [region: { left: number; top: number; right: number; bottom: number }] | [x: number, y: number]) => {
    const n = (name: string, v: unknown) => num(`focal ${name}`, v, 0, Number.MAX_SAFE_INTEGER);
    if (args.length === 1) {
      const r = args[0];
      return filter('focal', [`${n('left', r?.left)}x${n('top', r?.top)}:${n('right', r?.right)}x${n('bottom', r?.bottom)}`]);
    }
    return filter('focal', [n('x', args[0]), n('y', args[1])]);
  },
  format: (format: ImagorFormat) => filter('format', [oneOf('format', format, FORMATS)]),
  /** Format for animated results when `format` cannot animate. */
  fallbackFormat: (format: ImagorFormat) => filter('fallback_format', [oneOf('fallback_format', format, FORMATS)]),
  grayscale: () => filter('grayscale'),
  hue: (degrees: number) => filter('hue', [num('hue', degrees, -360, 360)]),
  /** Composite another imagor path (a string, or options built the same way) onto the image. */
  image: (path: string | ImagorOptions, options: ImageFilterOptions = {}) => {
    const o = options;
    const last = [o.x, o.y, o.alpha, o.blend].reduce<number>((at, v, i) => (v === undefined ? at : i), -1);
    // Gaps before the last given argument get imagor's defaults (image() in filteroverlay.go).
    const all = [
      o.x === undefined ? '0' : position('image x', o.x),
      o.y === undefined ? '0' : position('image y', o.y),
      alpha('image alpha', o.alpha ?? 0),
      oneOf('image blend', o.blend ?? 'normal', BLEND_MODES),
    ];
    return filter('image', [nestedPath(path), ...all.slice(0, last + 1)]);
  },
  invert: () => filter('invert'),
  /** Deprecated by imagor in favour of `text`. */
  label: (text: string, options: LabelOptions = {}) => {
    const given = [options.x, options.y, options.size, options.color, options.alpha, options.font];
    const last = given.reduce<number>((at, v, i) => (v === undefined ? at : i), -1);
    const args = [decodedArg('label text', text, options.base64 === true)];
    if (last >= 0) args.push(options.x === undefined ? '0' : position('label x', options.x));
    if (last >= 1) args.push(options.y === undefined ? '0' : position('label y', options.y));
    if (last >= 2) args.push(int('label size', options.size ?? 20, 1, 10000));
    if (last >= 3) args.push(color('label color', options.color ?? 'black'));
    if (last >= 4) args.push(alpha('label alpha', options.alpha ?? 0));
    if (last >= 5) args.push(font('label font', options.font));
    return filter('label', args);
  },
  lossless: () => filter('lossless'),
  /** Re-encode with lower quality until the result is at most this many bytes. */
  maxBytes: (bytes: number) => filter('max_bytes', [int('max_bytes', bytes, 1, Number.MAX_SAFE_INTEGER)]),
  maxFrames: (frames: number) => filter('max_frames', [int('max_frames', frames, 1, Number.MAX_SAFE_INTEGER)]),
  /** Brightness and saturation in percent (-100..100), hue in degrees. */
  modulate: (brightness: number, saturation: number, hue: number) =>
    filter('modulate', [num('modulate brightness', brightness, -100, 100), num('modulate saturation', saturation, -100, 100), num('modulate hue', hue, -360, 360)]),
  noUpscale: () => filter('no_upscale'),
  upscale: () => filter('upscale'),
  /** Rotate before resizing (and clear the EXIF orientation). */
  orient: (angle: 0 | 90 | 180 | 270) => filter('orient', [oneOf('orient', String(angle), ['0', '90', '180', '270'])]),
  /** Add a border: one width for all sides, left and top (mirrored), or all four. */
  padding: (c: ImagorColor, left: number, top?: number, right?: number, bottom?: number) => {
    if ((right === undefined) !== (bottom === undefined) || (right !== undefined && top === undefined)) {
      invalidParameter('padding', 'left, left and top, or all four sides', [left, top, right, bottom]);
    }
    const side = (name: string, v: number | undefined) => (v === undefined ? undefined : int(`padding ${name}`, v, 0, Number.MAX_SAFE_INTEGER));
    return filter('padding', trimTrailing([color('padding color', c), side('left', left), side('top', top), side('right', right), side('bottom', bottom)]));
  },
  /** 1-based page of a PDF or frame of an animation. */
  page: (page: number) => filter('page', [int('page', page, 1, Number.MAX_SAFE_INTEGER)]),
  palette: () => filter('palette'),
  bitdepth: (bits: 1 | 2 | 4 | 8 | 16) => filter('bitdepth', [oneOf('bitdepth', String(bits), ['1', '2', '4', '8', '16'])]),
  compression: (level: number) => filter('compression', [int('compression', level, 0, 9)]),
  autojpg: () => filter('autojpg'),
  pixelate: (blockSize?: number) => filter('pixelate', blockSize === undefined ? [] : [int('pixelate block size', blockSize, 1, 10000)]),
  preview: () => filter('preview'),
  /** Scale by a fraction (0 < p <= 1) or a percentage (1 < p <= 100). */
  proportion: (p: number) => {
    if (!isFiniteNumber(p) || p <= 0 || p > 100) invalidParameter('proportion', 'a number above 0 and at most 100', p);
    return filter('proportion', [formatFloat(p)]);
  },
  quality: (q: number) => filter('quality', [int('quality', q, 0, 100)]),
  /** Serve the source bytes untouched. */
  raw: () => filter('raw'),
  /** Obscure detected regions: `blur` (default), `pixelate` or a colour, with a strength. */
  redact: (mode?: 'blur' | 'pixelate' | ImagorColor, strength?: number) => filter('redact', redactArgs('redact', mode, strength)),
  redactOval: (mode?: 'blur' | 'pixelate' | ImagorColor, strength?: number) => filter('redact_oval', redactArgs('redact_oval', mode, strength)),
  /** Per-channel offsets in percent, -100..100. */
  rgb: (r: number, g: number, b: number) => filter('rgb', [num('rgb r', r, -100, 100), num('rgb g', g, -100, 100), num('rgb b', b, -100, 100)]),
  /** Rotate after resizing. */
  rotate: (angle: 0 | 90 | 180 | 270) => filter('rotate', [oneOf('rotate', String(angle), ['0', '90', '180', '270'])]),
  /** Round the corners with radius rx (and ry), optionally flattening onto a colour. */
  roundCorner: (rx: number, ry?: number, c?: ImagorColor) => {
    const args = [int('round_corner rx', rx, 0, Number.MAX_SAFE_INTEGER)];
    if (ry !== undefined || c !== undefined) args.push(int('round_corner ry', ry ?? rx, 0, Number.MAX_SAFE_INTEGER));
    if (c !== undefined) args.push(color('round_corner color', c));
    return filter('round_corner', args);
  },
  saturation: (amount: number) => filter('saturation', [num('saturation', amount, -100, 100)]),
  /** `sharpen(sigma)`, or thumbor's `sharpen(amount, radius[, luminanceOnly])` (imagor uses the second as sigma). */
  sharpen: (...args: [sigma: number] | [amount: number, sigma: number, luminanceOnly?: boolean]) => {
    if (args.length === 1) return filter('sharpen', [num('sharpen sigma', args[0], 0, 1000)]);
    const out = [num('sharpen amount', args[0], 0, 1000), num('sharpen sigma', args[1], 0, 1000)];
    if (args[2] !== undefined) out.push(args[2] ? 'true' : 'false');
    return filter('sharpen', out);
  },
  stripExif: () => filter('strip_exif'),
  stripIcc: () => filter('strip_icc'),
  stripMetadata: () => filter('strip_metadata'),
  stretch: () => filter('stretch'),
  /** Multi-line text overlay (Pango). */
  text: (text: string, options: TextOptions = {}) => {
    const o = options;
    const given = [o.x, o.y, o.font, o.color, o.alpha, o.blend, o.width, o.align, o.justify, o.wrap, o.spacing, o.dpi];
    const last = given.reduce<number>((at, v, i) => (v === undefined ? at : i), -1);
    // Gaps before the last given argument get imagor's own defaults (text() in filteroverlay.go).
    const all = [
      o.x === undefined ? '0' : position('text x', o.x),
      o.y === undefined ? '0' : position('text y', o.y),
      font('text font', o.font ?? 'sans 20'),
      color('text color', o.color ?? 'black'),
      alpha('text alpha', o.alpha ?? 0),
      oneOf('text blend', o.blend ?? 'normal', BLEND_MODES),
      textWidth(o.width ?? 0),
      oneOf('text align', o.align ?? 'low', ['low', 'left', 'centre', 'center', 'high', 'right']),
      o.justify === undefined ? 'false' : typeof o.justify === 'boolean' ? String(o.justify) : invalidParameter('text justify', 'a boolean', o.justify),
      oneOf('text wrap', o.wrap ?? 'word', ['word', 'char', 'wordchar', 'none']),
      int('text spacing', o.spacing ?? 0, 0, 10000),
      int('text dpi', o.dpi ?? 72, 1, 10000),
    ];
    return filter('text', [decodedArg('text', text, o.base64 === true), ...all.slice(0, last + 1)]);
  },
  /** ICC transform to `srgb` (default), `p3`, `cmyk` or another profile name the server has. */
  toColorspace: (profile?: string) => {
    if (profile !== undefined && (typeof profile !== 'string' || !/^[A-Za-z0-9_-]+$/.test(profile))) {
      invalidParameter('to_colorspace profile', 'a profile name such as srgb, p3 or cmyk', profile);
    }
    return filter('to_colorspace', profile === undefined ? [] : [profile]);
  },
  /** Trim borders after resizing (the URL's `trim` option trims before). */
  trim: (tolerance?: number, by?: TrimBy) =>
    filter('trim', trimTrailing([
      tolerance === undefined ? (by === undefined ? undefined : '0') : int('trim tolerance', tolerance, 0, 442),
      by === undefined ? undefined : oneOf('trim position', by, ['top-left', 'bottom-right']),
    ])),
  watermark: (options: WatermarkOptions) => {
    if (typeof options !== 'object' || options === null) invalidParameter('watermark', 'an options object', options);
    const ratio = (name: string, v: unknown) => (v === 'none' ? 'none' : num(name, v, 0, 100));
    const args = [
      decodedArg('watermark image', options.image, options.base64 === true),
      options.x === undefined ? '0' : position('watermark x', options.x),
      options.y === undefined ? '0' : position('watermark y', options.y),
      alpha('watermark alpha', options.alpha ?? 0),
    ];
    // imagor only reads the ratios as a pair.
    if (options.wRatio !== undefined || options.hRatio !== undefined) {
      args.push(ratio('watermark wRatio', options.wRatio ?? 'none'), ratio('watermark hRatio', options.hRatio ?? 'none'));
    }
    return filter('watermark', args);
  },
  /**
   * A sepia tone (pixgate's own: neither imagor nor thumbor has one).
   * @example
   * f.sepia() // sepia()
   */
  sepia: () => filter('sepia'),
  /**
   * thumbor's histogram equalisation (imagor has none).
   * @example
   * f.equalize() // equalize()
   */
  equalize: () => filter('equalize'),
  /**
   * thumbor's colorize: move red, green and blue that many percent (0..100) towards the fill colour's channels.
   * @example
   * f.colorize(40, 80, 20, 'ff0000') // colorize(40,80,20,ff0000)
   */
  colorize: (red: number, green: number, blue: number, fillColor: ImagorColor) =>
    filter('colorize', [
      num('colorize red', red, 0, 100),
      num('colorize green', green, 0, 100),
      num('colorize blue', blue, 0, 100),
      solidColor('colorize fill', fillColor),
    ]),
  /**
   * thumbor's tone curves: each channel goes through its own curve, then through the one for all channels.
   * A curve is a list of [x, y] points (integers 0..255, x rising); `[[0, 0], [255, 255]]` changes nothing.
   * @example
   * const same: ImagorCurve = [[0, 0], [255, 255]];
   * f.curve(same, [[0, 50], [128, 170], [255, 255]], same, same)
   * // curve([(0,0),(255,255)],[(0,50),(128,170),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])
   */
  curve: (all: ImagorCurve, red: ImagorCurve, green: ImagorCurve, blue: ImagorCurve) =>
    filter('curve', [curveArg('curve all', all), curveArg('curve red', red), curveArg('curve green', green), curveArg('curve blue', blue)]),
  /**
   * thumbor's noise: amount 0..100 (integer). The server always seeds its noise, so one URL always gives the
   * same pixels; give a seed (0..4294967295) for a different pattern.
   * @example
   * f.noise(40) // noise(40)
   */
  noise: (amount: number, seed?: number) =>
    filter('noise', seed === undefined ? [int('noise amount', amount, 0, 100)] : [int('noise amount', amount, 0, 100), int('noise seed', seed, 0, 0xffffffff)]),
  /**
   * thumbor's convolution: a kernel as rows (or thumbor's flat items and a number of columns), odd sides of at
   * most 25, divided by the sum of its items unless `normalize` is false (or the sum is 0). Edges are extended.
   * @example
   * f.convolution([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) // convolution(1;2;1;2;4;2;1;2;1,3,true)
   * f.convolution([-1, -1, -1, -1, 8, -1, -1, -1, -1], 3, false) // convolution(-1;-1;-1;-1;8;-1;-1;-1;-1,3,false)
   */
  convolution: (
    ...args: [rows: readonly (readonly number[])[], normalize?: boolean] | [items: readonly number[], columns: number, normalize?: boolean]
  ) => {
    const [first] = args;
    if (Array.isArray(first) && first.length > 0 && first.every((row) => Array.isArray(row))) {
      const rows = first as readonly (readonly number[])[];
      const columns = rows[0]!.length;
      if (rows.some((row) => row.length !== columns)) invalidParameter('convolution rows', 'rows of one length', rows.map((row) => row.length));
      return filter('convolution', convolutionArgs(rows.flat(), columns, args[1]));
    }
    return filter('convolution', convolutionArgs(first, args[1], args[2]));
  },
  /** /meta only: add a BlurHash with x and y components (1..9). */
  blurhash: (x: number, y: number) => filter('blurhash', [int('blurhash x', x, 1, 9), int('blurhash y', y, 1, 9)]),
  /** /meta only: add a ThumbHash. */
  thumbhash: () => filter('thumbhash'),
  /** /meta only: add the average colour. */
  avgcolor: () => filter('avgcolor'),
  /**
   * Any other filter (a newer imagor's, a plugin's): the name must be `[a-z][a-z0-9_]*` and each argument must
   * already be URL-safe and keep the filter grammar (balanced parentheses, no comma outside them).
   */
  custom: (name: string, ...args: string[]) => {
    for (const a of args) {
      if (typeof a !== 'string' || splitFilterArgs(a).length > 1) invalidParameter(`${name} argument`, 'a string without top-level commas', a);
    }
    const out = filter(name, args);
    checkFilter(out);
    return out;
  },
} as const;

function redactArgs(name: string, mode: unknown, strength: unknown): string[] {
  if (mode === undefined) {
    if (strength !== undefined) invalidParameter(`${name} strength`, 'a mode before a strength', strength);
    return [];
  }
  const m = mode === 'blur' || mode === 'pixelate' ? mode : color(`${name} mode`, mode);
  return strength === undefined ? [m] : [m, int(`${name} strength`, strength, 1, 1000)];
}

/** A filter written as `name(args)` must read back as itself, and hold nothing a URL would rewrite. */
function checkFilter(filter: ImagorFilter): void {
  if (typeof filter !== 'object' || filter === null) invalidParameter('filter', 'an object from the f helpers', filter);
  if (typeof filter.name !== 'string' || !FILTER_NAME.test(filter.name)) invalidParameter('filter name', 'a name matching [a-z][a-z0-9_]*', filter.name);
  if (typeof filter.args !== 'string' || !URL_SAFE.test(filter.args) || /%(?![0-9A-Fa-f]{2})/.test(filter.args)) {
    invalidParameter(`${filter.name} arguments`, 'URL-safe text (escape others as %XX)', filter.args);
  }
  const back = scanFiltersSegment(`filters:${filter.name}(${filter.args})/x`);
  const one = back.filters[0];
  if (back.filters.length !== 1 || back.image !== 'x' || one?.name !== filter.name || one.args !== filter.args) {
    invalidParameter(`${filter.name} arguments`, 'balanced parentheses', filter.args);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Paths

function flag(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') invalidParameter(name, 'a boolean', value);
  return value === true;
}

function toParams(options: ImagorOptions): Partial<ImagorParams> {
  if (typeof options !== 'object' || options === null) invalidParameter('options', 'an ImagorOptions object', options);
  if (typeof options.image !== 'string' || options.image === '') invalidParameter('image', 'a non-empty string', options.image);
  const p: { -readonly [K in keyof ImagorParams]?: ImagorParams[K] } = { image: options.image };
  p.base64Image = flag('base64Image', options.base64Image);
  p.meta = flag('meta', options.meta);
  if (options.trim !== undefined && options.trim !== false) {
    p.trim = true;
    if (typeof options.trim === 'object' && options.trim !== null) {
      p.trimBy = options.trim.by === undefined ? 'top-left' : oneOf<TrimBy>('trim.by', options.trim.by, ['top-left', 'bottom-right']);
      p.trimTolerance = options.trim.tolerance === undefined ? 0 : Number(int('trim.tolerance', options.trim.tolerance, 0, 442));
    } else if (options.trim !== true) {
      invalidParameter('trim', 'a boolean or { by, tolerance }', options.trim);
    }
  }
  if (options.crop !== undefined) {
    const c = options.crop;
    if (typeof c !== 'object' || c === null) invalidParameter('crop', '{ left, top, right, bottom }', c);
    // The grammar takes D, .D or 0.D on the near edges and also 1.D on the far ones (imagorpath/parse.go).
    const edge = (name: string, value: unknown, far: boolean): number => {
      const max = far ? 2 : 1;
      if (!isFiniteNumber(value) || value < 0 || (!Number.isInteger(value) && value >= max) || value > Number.MAX_SAFE_INTEGER) {
        invalidParameter(`crop.${name}`, `integer pixels >= 0 or a fraction below ${max}`, value);
      }
      return value;
    };
    p.cropLeft = edge('left', c.left, false);
    p.cropTop = edge('top', c.top, false);
    p.cropRight = edge('right', c.right, true);
    p.cropBottom = edge('bottom', c.bottom, true);
  }
  p.fitIn = flag('fitIn', options.fitIn);
  p.adaptiveFitIn = flag('adaptive', options.adaptive);
  p.fullFitIn = flag('full', options.full);
  if ((p.adaptiveFitIn || p.fullFitIn) && !p.fitIn) invalidParameter('fitIn', 'true when adaptive or full is set', options.fitIn);
  p.stretch = flag('stretch', options.stretch);
  if (options.width !== undefined) p.width = Number(int('width', options.width, 0, Number.MAX_SAFE_INTEGER));
  if (options.height !== undefined) p.height = Number(int('height', options.height, 0, Number.MAX_SAFE_INTEGER));
  p.hFlip = flag('hFlip', options.hFlip);
  p.vFlip = flag('vFlip', options.vFlip);
  if (options.padding !== undefined) {
    const pad = options.padding;
    const side = (name: string, v: unknown) => Number(int(`padding.${name}`, v, 0, Number.MAX_SAFE_INTEGER));
    if (typeof pad === 'number') {
      p.paddingLeft = p.paddingTop = p.paddingRight = p.paddingBottom = side('all', pad);
    } else if (typeof pad === 'object' && pad !== null) {
      p.paddingLeft = side('left', pad.left);
      p.paddingTop = side('top', pad.top);
      p.paddingRight = pad.right === undefined ? p.paddingLeft : side('right', pad.right);
      p.paddingBottom = pad.bottom === undefined ? p.paddingTop : side('bottom', pad.bottom);
    } else {
      invalidParameter('padding', 'a number or { left, top, right?, bottom? }', pad);
    }
  }
  if (options.hAlign !== undefined) p.hAlign = oneOf<'left' | 'right' | 'center'>('hAlign', options.hAlign, ['left', 'right', 'center']);
  if (options.vAlign !== undefined) p.vAlign = oneOf<'top' | 'bottom' | 'middle'>('vAlign', options.vAlign, ['top', 'bottom', 'middle']);
  p.smart = flag('smart', options.smart);
  if (options.filters !== undefined) {
    if (!Array.isArray(options.filters)) invalidParameter('filters', 'an array of filters', options.filters);
    for (const one of options.filters) checkFilter(one);
    p.filters = options.filters.map((one) => ({ name: one.name, args: one.args }));
  }
  return p;
}

function presetSegment(presets: unknown): string {
  if (presets === undefined) return '';
  if (!Array.isArray(presets)) invalidParameter('presets', 'an array of preset names', presets);
  for (const name of presets) {
    if (typeof name !== 'string' || !PRESET_NAME.test(name)) invalidParameter('preset name', 'letters, digits, _ and -', name);
  }
  return presets.length === 0 ? '' : `preset:${presets.join(',')}/`;
}

// A path a browser or fetch() would send as it is: anything else is percent-encoded on the way and no longer
// matches the signature on the first try.
const URL_SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/**
 * The imagor path (no hash, no leading slash) for these options: `[preset:a,b/]meta/trim/crop/fit-in/...
 * /filters:.../image`. Options the grammar cannot carry are refused rather than written ambiguously.
 * @example
 * buildImagorPath({ image: 'example.com/a.jpg', fitIn: true, width: 300, height: 200, filters: [f.quality(80)] })
 * // 'fit-in/300x200/filters:quality(80)/example.com/a.jpg'
 */
export function buildImagorPath(options: ImagorOptions): string {
  const params = toParams(options);
  const presets = presetSegment(options.presets);
  let path = generateImagorPath(params);
  // An image that would be sent with characters a client re-encodes, or that reads as a preset segment,
  // goes out as b64: instead (imagor decodes it back to the same image). The filters were checked on their own
  // (checkFilter, which also lets curve()'s brackets through).
  const filters = formatFiltersSegment(params.filters ?? []);
  const rest = filters === '' ? path : path.replace(filters, '');
  if (!params.base64Image && (!URL_SAFE_PATH.test(rest) || (presets === '' && /^preset:/.test(path)))) {
    path = generateImagorPath({ ...params, base64Image: true });
  }
  const full = presets + path;
  assertReadsBack(full, options, params);
  return full;
}

/** The server reads the written path with the same grammar; anything that comes back different is refused. */
function assertReadsBack(path: string, options: ImagorOptions, params: Partial<ImagorParams>): void {
  const back = parsePresetPath(path);
  const want = normalizeOptions({ ...options, filters: params.filters });
  const got = normalizeOptions({ ...back.options, base64Image: options.base64Image });
  const a = JSON.stringify(got);
  const b = JSON.stringify(want);
  if (a !== b) {
    invalidParameter('options', `options the imagor grammar can express (would read back as ${a})`, b);
  }
}

/** Options with defaults dropped and shorthands expanded, for comparing what two option objects mean. */
function normalizeOptions(o: ImagorOptions): Record<string, unknown> {
  const trim = o.trim === true ? {} : o.trim === false || o.trim === undefined ? undefined : o.trim;
  const pad =
    typeof o.padding === 'number'
      ? { left: o.padding, top: o.padding, right: o.padding, bottom: o.padding }
      : o.padding === undefined
        ? undefined
        : { left: o.padding.left, top: o.padding.top, right: o.padding.right ?? o.padding.left, bottom: o.padding.bottom ?? o.padding.top };
  const cropSet = o.crop !== undefined && (o.crop.left > 0 || o.crop.top > 0 || o.crop.right > 0 || o.crop.bottom > 0);
  const padSet = pad !== undefined && (pad.left > 0 || pad.top > 0 || pad.right > 0 || pad.bottom > 0);
  return {
    image: o.image,
    presets: o.presets !== undefined && o.presets.length > 0 ? [...o.presets] : undefined,
    meta: o.meta === true,
    trim: trim === undefined ? undefined : { by: trim.by ?? 'top-left', tolerance: trim.tolerance ?? 0 },
    crop: cropSet ? { left: o.crop!.left, top: o.crop!.top, right: o.crop!.right, bottom: o.crop!.bottom } : undefined,
    fitIn: o.fitIn === true,
    adaptive: o.adaptive === true,
    full: o.full === true,
    stretch: o.stretch === true,
    width: o.width ?? 0,
    height: o.height ?? 0,
    hFlip: o.hFlip === true,
    vFlip: o.vFlip === true,
    padding: padSet ? pad : undefined,
    hAlign: o.hAlign === 'center' ? undefined : o.hAlign,
    vAlign: o.vAlign === 'middle' ? undefined : o.vAlign,
    smart: o.smart === true,
    filters: (o.filters ?? []).map((x) => [x.name, x.args]),
  };
}

/** Splits a leading `preset:a,b/` segment off the path after the hash, then reads the rest with imagor's grammar. */
function parsePresetPath(path: string): { presets: string[]; options: ImagorOptions } {
  const m = /^preset:([^/]*)\//.exec(path);
  const presets = m ? m[1]!.split(',').filter((n) => n !== '') : [];
  const params = parseImagorParamsPath(m ? path.slice(m[0].length) : path);
  return { presets, options: optionsFromParams(params, presets) };
}

function optionsFromParams(p: ImagorParams, presets: readonly string[]): ImagorOptions {
  const o: { -readonly [K in keyof ImagorOptions]?: ImagorOptions[K] } = { image: p.image };
  if (presets.length > 0) o.presets = [...presets];
  if (p.meta) o.meta = true;
  if (p.trim) {
    o.trim = p.trimBy === 'top-left' && p.trimTolerance === 0
      ? true
      : { ...(p.trimBy !== 'top-left' ? { by: p.trimBy } : {}), ...(p.trimTolerance !== 0 ? { tolerance: p.trimTolerance } : {}) };
  }
  if (p.cropLeft > 0 || p.cropTop > 0 || p.cropRight > 0 || p.cropBottom > 0) {
    o.crop = { left: p.cropLeft, top: p.cropTop, right: p.cropRight, bottom: p.cropBottom };
  }
  if (p.fitIn) o.fitIn = true;
  if (p.adaptiveFitIn) o.adaptive = true;
  if (p.fullFitIn) o.full = true;
  if (p.stretch) o.stretch = true;
  if (p.width !== 0) o.width = p.width;
  if (p.height !== 0) o.height = p.height;
  if (p.hFlip) o.hFlip = true;
  if (p.vFlip) o.vFlip = true;
  if (p.paddingLeft > 0 || p.paddingTop > 0 || p.paddingRight > 0 || p.paddingBottom > 0) {
    o.padding =
      p.paddingLeft === p.paddingTop && p.paddingTop === p.paddingRight && p.paddingRight === p.paddingBottom
        ? p.paddingLeft
        : { left: p.paddingLeft, top: p.paddingTop, right: p.paddingRight, bottom: p.paddingBottom };
  }
  if (p.hAlign !== '') o.hAlign = p.hAlign;
  if (p.vAlign !== '') o.vAlign = p.vAlign;
  if (p.smart) o.smart = true;
  if (p.filters.length > 0) o.filters = p.filters.map((x) => Object.freeze({ name: x.name, args: x.args }));
  if (p.base64Image) o.base64Image = true;
  return o as ImagorOptions;
}

// ---------------------------------------------------------------------------------------------------------
// Signing and URLs

function signer(options: ImagorSignOptions): ImagorSigner {
  if (typeof options !== 'object' || options === null) invalidParameter('signing options', '{ secret, type?, truncate? }', options);
  const secret = options.secret;
  if (!((typeof secret === 'string' && secret !== '') || (secret instanceof Uint8Array && secret.length > 0))) {
    invalidParameter('secret', 'a non-empty string or Uint8Array', secret);
  }
  const type = options.type === undefined ? 'sha1' : oneOf<ImagorSignerType>('type', options.type, ['sha1', 'sha256', 'sha512']);
  const truncate = options.truncate ?? 0;
  // imagor reads a first segment as a hash only from 17 characters on (imagorpath/parse.go).
  if (!isSafeInteger(truncate, 0) || (truncate > 0 && truncate < 17)) invalidParameter('truncate', '0 or an integer of at least 17', truncate);
  return { secret, type, truncate };
}

/** The path as imagor signs it: everything after `HASH/`, without a leading slash. */
function pathToSign(path: unknown): string {
  if (typeof path !== 'string' || path.replace(/^\/+/, '') === '') invalidParameter('path', 'a non-empty imagor path', path);
  return path.replace(/^\/+/, '');
}

/**
 * The imagor hash for a path (HMAC, base64url with padding, truncated if asked), on Web Crypto by default.
 * Leading slashes are not part of what imagor signs and are dropped.
 * @example
 * await signImagorPath('500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png', { secret: 'mysecret' })
 * // 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk='
 */
export async function signImagorPath(path: string, options: ImagorSignAsyncOptions): Promise<string> {
  const text = pathToSign(path);
  return signImagorPathAsync(text, signer(options), asyncMac(options.mac) ?? webCryptoMac);
}

/**
 * signImagorPath with a synchronous MAC.
 * @example
 * signImagorPathSync('fit-in/100x100/a.png', { secret: 's', type: 'sha256', truncate: 40 }, mac)
 */
export function signImagorPathSync(path: string, options: ImagorSignOptions, mac: MacFn): string {
  const text = pathToSign(path);
  return signImagorPathWith(text, signer(options), syncMac(mac, 'signImagorPath'));
}

function joinBase(baseUrl: unknown, rest: string): string {
  if (baseUrl === undefined) return '/' + rest;
  if (typeof baseUrl !== 'string') invalidParameter('baseUrl', 'a string', baseUrl);
  return `${baseUrl.replace(/\/+$/, '')}/${rest}`;
}

/**
 * A signed imagor URL from typed options, on Web Crypto by default.
 * @example
 * await imagorUrl(
 *   { image: 'https://example.com/a.jpg', fitIn: true, width: 800, filters: [f.format('webp'), f.quality(80)] },
 *   { secret: 'mysecret', baseUrl: 'https://img.example.com' },
 * ) // 'https://img.example.com/<hash>/fit-in/800x0/filters:format(webp):quality(80)/https://example.com/a.jpg'
 */
export async function imagorUrl(options: ImagorOptions, signing: ImagorUrlAsyncOptions): Promise<string> {
  const path = buildImagorPath(options);
  if (signing?.unsafe === true) return joinBase(signing.baseUrl, `unsafe/${path}`);
  const hash = await signImagorPathAsync(path, signer(signing as ImagorSignOptions), asyncMac(signing.mac) ?? webCryptoMac);
  return joinBase(signing.baseUrl, `${hash}/${path}`);
}

/**
 * imagorUrl with a synchronous MAC.
 * @example
 * imagorUrlSync({ image: 'a.com/b.png', width: 100 }, { secret: 's' }, mac) // '/<hash>/100x0/a.com/b.png'
 */
export function imagorUrlSync(options: ImagorOptions, signing: ImagorUrlOptions, mac: MacFn): string {
  const path = buildImagorPath(options);
  if (signing?.unsafe === true) return joinBase(signing.baseUrl, `unsafe/${path}`);
  const sign = signer(signing as ImagorSignOptions);
  return joinBase(signing.baseUrl, `${signImagorPathWith(path, sign, syncMac(mac, 'imagorUrl'))}/${path}`);
}

export interface ParsedImagorUrl {
  /** The hash in the URL, '' when there is none. */
  readonly hash: string;
  readonly unsafe: boolean;
  /** The part the hash signs. */
  readonly path: string;
  readonly options: ImagorOptions;
}

export interface ParseImagorUrlOptions {
  /** The server's base URL or base path, removed from the front before reading (as given to imagorUrl). */
  readonly baseUrl?: string;
}

/** The raw URL path, still escaped: URL objects would normalise `..`, `\` and some escapes. */
function rawPath(url: unknown, baseUrl: string | undefined): string {
  if (typeof url !== 'string') invalidParameter('url', 'a string', url);
  let text = url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, '');
  const end = text.search(/[?#]/);
  if (end >= 0) text = text.slice(0, end);
  if (baseUrl !== undefined) {
    const basePath = rawPath(baseUrl, undefined).replace(/\/+$/, '');
    if (basePath !== '' && (text === basePath || text.startsWith(basePath + '/'))) text = text.slice(basePath.length);
  }
  return text;
}

/**
 * Reads an imagor URL (or path) back into options, for debugging; never checks the hash (see verifyImagorUrl).
 * @example
 * parseImagorUrl('https://img.example.com/abc.../fit-in/300x200/filters:quality(80)/a.com/b.jpg').options
 * // { image: 'a.com/b.jpg', fitIn: true, width: 300, height: 200, filters: [{ name: 'quality', args: '80' }] }
 */
export function parseImagorUrl(url: string, options: ParseImagorUrlOptions = {}): ParsedImagorUrl {
  const parsed = parseImagorPath(rawPath(url, options.baseUrl));
  const { options: opts } = parsePresetPath(parsed.path);
  return { hash: parsed.hash, unsafe: parsed.unsafe, path: parsed.path, options: opts };
}

export interface VerifyImagorUrlOptions extends ParseImagorUrlOptions {
  /** One secret, or several (any one verifying is enough). */
  readonly secret: string | Uint8Array | readonly (string | Uint8Array)[];
  readonly type?: ImagorSignerType;
  readonly truncate?: number;
  readonly mac?: AsyncMacFn;
}

/**
 * True when the URL's hash signs its path, as the server checks it (including imagor's second try on the
 * unescaped path). `unsafe/` URLs carry no hash and give false.
 * @example
 * await verifyImagorUrl(await imagorUrl({ image: 'a.com/b.png' }, { secret: 's' }), { secret: 's' }) // true
 */
export async function verifyImagorUrl(url: string, options: VerifyImagorUrlOptions): Promise<boolean> {
  const secrets = Array.isArray(options?.secret) ? options.secret : [options?.secret];
  const signers = secrets.map((secret) => signer({ secret: secret as string, type: options.type, truncate: options.truncate }));
  const path = rawPath(url, options.baseUrl);
  const mac = asyncMac(options.mac) ?? webCryptoMac;
  const attempt = async (text: string): Promise<boolean> => {
    const parsed = parseImagorPath(text);
    if (parsed.hash === '' || parsed.path === '') return false;
    return runWithAsyncMac((m) => verifyImagorHash(parsed.hash, parsed.path, signers, m), mac);
  };
  if (await attempt(path)) return true;
  const unescaped = queryUnescape(path);
  return unescaped !== undefined && unescaped !== path && (await attempt(unescaped));
}
