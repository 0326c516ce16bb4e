/**
 * The overlay filters: watermark (an image from the loaders), image (a nested imagor path), label and text
 * (Pango text). Each reads its arguments as imagor does (processor/vipsprocessor/filteroverlay.go) and emits one
 * `overlay` step; process/overlay.ts loads, renders and composites it. Pure: no loading, no pixels.
 */
import { parseImagorPath, queryUnescape } from '../../parse/imagor-path.js';
import { fail } from '../../respond/errors.js';
import { decodeBase64Url } from '../../verify/encoding.js';
import {
  isValidPosition,
  isValidTextWidth,
  parseBlendMode,
  resolveFullDimensions,
  type Axis,
  type BlendMode,
  type OverlaySpec,
  type Position,
  type TextAlign,
  type TextSpec,
  type TextWrap,
} from '../overlay-position.js';
import { parseFilterColour, parseFilterColourLenient, type ColourArg } from './colour.js';
import { badArgument, defineFilter, readInteger, refuseDroppedFilterText, type FilterContext, type FilterDef } from './types.js';

/** Longest text a label or text() may draw; a safety bound of ours (imagor has none). */
export const MAX_TEXT_LENGTH = 1000;

/** `b64:` + unpadded base64url of UTF-8 text is decoded, anything else kept (imagor's decodeTextArg / watermark). */
export function decodeB64Arg(text: string): string {
  if (!text.startsWith('b64:')) return text;
  const body = text.slice(4);
  if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) return text;
  const bytes = decodeBase64Url(body);
  if (bytes === undefined) return text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return text;
  }
}

/** imagor's decodeTextArg: query-unescape, then `b64:`. */
export function decodeTextArg(text: string): string {
  return decodeB64Arg(queryUnescape(text) ?? text);
}

/** imagor's parseFontArg: query-unescape, then hyphens become spaces (`sans-bold-24` is `sans bold 24`). */
export function decodeFontArg(text: string): string {
  return (queryUnescape(text) ?? text).replace(/-/g, ' ');
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

function readAlpha(text: string | undefined, ctx: FilterContext): number | undefined {
  if (text === undefined || text === '') return 0;
  if (DECIMAL.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= 100) return n;
  }
  if (!ctx.lenient) return badArgument(ctx, 'alpha is a number from 0 (opaque) to 100 (invisible)');
  const n = Number.parseFloat(text);
  return Number.isFinite(n) ? n : 0;
}

function readPosition(text: string | undefined, axis: Axis, ctx: FilterContext): Position | undefined {
  const t = text ?? '';
  if (!ctx.lenient && !isValidPosition(t, axis)) {
    return badArgument(ctx, `${axis} is pixels, Np, 0.x, center, repeat, ${axis === 'x' ? 'left, right, left-N or right-N' : 'top, bottom, top-N or bottom-N'}`);
  }
  return { axis, text: t };
}

function readBlend(text: string | undefined, ctx: FilterContext): BlendMode | undefined {
  const mode = parseBlendMode(text ?? '');
  if (mode !== undefined) return mode;
  return ctx.lenient ? 'normal' : badArgument(ctx, 'unknown blend mode');
}

function readColour(text: string | undefined, ctx: FilterContext): ColourArg | undefined {
  if (text === undefined || text.trim() === '') return { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } };
  const c = parseFilterColour(text);
  if (c !== undefined) return c;
  return ctx.lenient ? parseFilterColourLenient(text) : badArgument(ctx, 'unknown colour');
}

function readCount(text: string | undefined, fallback: number, min: number, what: string, ctx: FilterContext): number | undefined {
  if (text === undefined || text === '') return fallback;
  const n = readInteger(text);
  if (n !== undefined && n >= min) return n;
  return ctx.lenient ? (n ?? fallback) : badArgument(ctx, what);
}

function readText(text: string | undefined, ctx: FilterContext): string | undefined {
  const decoded = decodeTextArg(text ?? '');
  // A text too long to be a caption is refused even leniently: it only serves to make rendering expensive.
  if (decoded.length > MAX_TEXT_LENGTH) fail('INVALID_PARAMS', `filter ${ctx.name}: ${decoded.length} characters`, `${ctx.name}: text longer than ${MAX_TEXT_LENGTH} characters`);
  // imagor draws nothing for blank text.
  return decoded.trim() === '' ? undefined : decoded;
}

function tooMany(args: readonly string[], max: number, ctx: FilterContext): boolean {
  if (args.length <= max || ctx.lenient) return false;
  badArgument(ctx, `takes at most ${max} arguments`);
  return true;
}

function readWatermark(args: readonly string[], ctx: FilterContext): OverlaySpec | undefined {
  if (tooMany(args, 6, ctx)) return undefined;
  const image = decodeB64Arg(queryUnescape(args[0] ?? '') ?? args[0] ?? '');
  if (image === '') return ctx.lenient ? undefined : badArgument(ctx, 'needs an image');
  const x = readPosition(args[1], 'x', ctx);
  const y = readPosition(args[2], 'y', ctx);
  const alpha = readAlpha(args[3], ctx);
  if (x === undefined || y === undefined || alpha === undefined) return undefined;
  // imagor reads the ratios only when both are given.
  if (args.length === 5 && !ctx.lenient) return badArgument(ctx, 'w_ratio and h_ratio go together');
  let ratio: { width: number | 'none'; height: number | 'none' } | undefined;
  if (args.length >= 6) {
    const side = (text: string): number | 'none' | undefined => {
      if (text === 'none') return 'none';
      const n = readInteger(text);
      if (n !== undefined && n > 0) return n;
      // imagor: 0 or unreadable leaves the size unknown, so the watermark is loaded at its own size.
      return ctx.lenient ? 0 : badArgument(ctx, 'w_ratio and h_ratio are percentages above 0, or none');
    };
    const width = side(args[4]!);
    const height = side(args[5]!);
    if (width === undefined || height === undefined) return undefined;
    ratio = { width, height };
  }
  return { kind: 'watermark', image, x, y, alpha, ratio };
}

function readNestedImage(args: readonly string[], ctx: FilterContext): OverlaySpec | undefined {
  if (tooMany(args, 5, ctx)) return undefined;
  const path = queryUnescape(args[0] ?? '') ?? args[0] ?? '';
  if (path.trim() === '') return ctx.lenient ? undefined : badArgument(ctx, 'needs an imagor path');
  const x = readPosition(args[1], 'x', ctx);
  const y = readPosition(args[2], 'y', ctx);
  const alpha = readAlpha(args[3], ctx);
  const blend = readBlend(args[4], ctx);
  if (x === undefined || y === undefined || alpha === undefined || blend === undefined) return undefined;
  // The nested path's own filters are checked when its overlay is (process/overlay.ts); what its parse drops is
  // refused here, as for the main path. Sizes are irrelevant to the filters segment, so `full` reads as 1x1.
  if (!ctx.lenient) refuseDroppedFilterText(parseImagorPath(resolveFullDimensions(path, 1, 1)).droppedFilterText, `${ctx.name}: `);
  return { kind: 'image', path, x, y, alpha, blend };
}

const TEXT_DEFAULTS = {
  blend: 'normal',
  width: '',
  align: 'left',
  justify: false,
  wrap: 'word',
  spacing: 0,
  dpi: 0,
} as const satisfies Partial<TextSpec>;

/** label(text, x, y, size, color[, alpha[, font]]), which imagor keeps for thumbor URLs. */
function readLabel(args: readonly string[], ctx: FilterContext): OverlaySpec | undefined {
  if (tooMany(args, 7, ctx)) return undefined;
  const text = readText(args[0], ctx);
  if (text === undefined) return undefined;
  const x = readPosition(args[1], 'x', ctx);
  const y = readPosition(args[2], 'y', ctx);
  const size = readCount(args[3], 20, 1, 'size is a whole number of pixels above 0', ctx);
  const colour = readColour(args[4], ctx);
  const alpha = readAlpha(args[5], ctx);
  if (x === undefined || y === undefined || size === undefined || colour === undefined || alpha === undefined) return undefined;
  const font = args[6] !== undefined && args[6] !== '' ? decodeFontArg(args[6]) : 'sans';
  // Only reachable leniently: no line fits in 0 pixels or fewer, so nothing is drawn.
  if (size <= 0) return undefined;
  return { kind: 'text', ...TEXT_DEFAULTS, text, font, colour, x, y, alpha, lineHeight: size };
}

function readAlign(text: string | undefined, ctx: FilterContext): TextAlign | undefined {
  switch ((text ?? '').toLowerCase()) {
    case '':
    case 'low':
    case 'left':
      return 'left';
    case 'centre':
    case 'center':
      return 'centre';
    case 'high':
    case 'right':
      return 'right';
    default:
      return ctx.lenient ? 'left' : badArgument(ctx, 'align is low, centre or high');
  }
}

function readWrap(text: string | undefined, ctx: FilterContext): TextWrap | undefined {
  switch ((text ?? '').toLowerCase()) {
    case '':
    case 'word':
      return 'word';
    case 'char':
      return 'char';
    case 'wordchar':
    case 'word_char':
      return 'word-char';
    case 'none':
      return 'none';
    default:
      return ctx.lenient ? 'word' : badArgument(ctx, 'wrap is word, char, wordchar or none');
  }
}

function readJustify(text: string | undefined, ctx: FilterContext): boolean | undefined {
  const t = text ?? '';
  if (t === 'true' || t === '1') return true;
  if (t === '' || t === 'false' || t === '0' || ctx.lenient) return false;
  return badArgument(ctx, 'justify is true or false');
}

/** text(text, x, y[, font, color, alpha, blend, width, align, justify, wrap, spacing, dpi]). */
function readTextFilter(args: readonly string[], ctx: FilterContext): OverlaySpec | undefined {
  if (tooMany(args, 13, ctx)) return undefined;
  const text = readText(args[0], ctx);
  if (text === undefined) return undefined;
  const x = readPosition(args[1], 'x', ctx);
  const y = readPosition(args[2], 'y', ctx);
  const font = args[3] !== undefined && args[3] !== '' ? decodeFontArg(args[3]) : 'sans 20';
  const colour = readColour(args[4], ctx);
  const alpha = readAlpha(args[5], ctx);
  const blend = readBlend(args[6], ctx);
  const width = args[7] ?? '';
  if (!ctx.lenient && !isValidTextWidth(width)) return badArgument(ctx, 'width is pixels, Np, 0.x, f or f-N');
  const align = readAlign(args[8], ctx);
  const justify = readJustify(args[9], ctx);
  const wrap = readWrap(args[10], ctx);
  const spacing = readCount(args[11], 0, 0, 'spacing is a whole number of pixels', ctx);
  const dpi = readCount(args[12], 0, 0, 'dpi is a whole number', ctx);
  if (
    x === undefined || y === undefined || colour === undefined || alpha === undefined || blend === undefined ||
    align === undefined || justify === undefined || wrap === undefined || spacing === undefined || dpi === undefined
  ) {
    return undefined;
  }
  return { kind: 'text', text, font, colour, x, y, alpha, blend, width, align, justify, wrap, spacing: Math.max(0, spacing), dpi: Math.max(0, dpi) };
}

function overlayFilter(name: string, read: (args: readonly string[], ctx: FilterContext) => OverlaySpec | undefined): FilterDef {
  return defineFilter<OverlaySpec>({
    name,
    phases: ['pixel'],
    animation: 'all-frames',
    parse: read,
    apply: (overlay) => ({ steps: [{ op: 'overlay', overlay }] }),
  });
}

export const overlayFilters: readonly FilterDef[] = [
  overlayFilter('watermark', readWatermark),
  overlayFilter('image', readNestedImage),
  overlayFilter('label', readLabel),
  overlayFilter('text', readTextFilter),
];
