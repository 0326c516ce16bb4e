/**
 * Geometry filters that run after the URL's resize, in URL order: crop, rotate, proportion, trim, padding and
 * round_corner (imagor's filter.go), and focal, which steers the cover crop of a plain WxH resize
 * (process.go). All act on every frame of an animation; trim measures the union of the frames' boxes. Pure:
 * they emit steps, the executor measures and paints.
 */
import type { TrimBy } from '../../parse/imagor-params.js';
import { fitInside } from '../geometry.js';
import type { Effect } from '../effects.js';
import type { Rgba, Size, Step } from '../steps.js';
import { parseFilterColour, parseFilterColourLenient } from './colour.js';
import { fillSteps, parseFillArg, type FillArg } from './fill.js';
import { argumentCount, readNumber } from './numbers.js';
import { badArgument, defineFilter, readInteger, type FilterContext, type FilterDef } from './types.js';

const clockwise = (counterClockwise: 90 | 180 | 270): 90 | 180 | 270 =>
  counterClockwise === 90 ? 270 : counterClockwise === 270 ? 90 : 180;

interface CropArg {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * imagor's crop filter on the current frame size: each value strictly between 0 and 1 is a fraction (of the
 * width for left and width, of the height for top and height), the box is clamped to the image, and nothing
 * happens when it is empty.
 */
export function cropFilterRect(arg: CropArg, size: Size): Step | undefined {
  const W = size.width;
  const H = size.height;
  const frac = (v: number, of: number): number => (v > 0 && v < 1 ? v * of : v);
  const left = Math.max(0, Math.min(frac(arg.left, W), W));
  const top = Math.max(0, Math.min(frac(arg.top, H), H));
  const width = Math.trunc(Math.min(frac(arg.width, W), W - left));
  const height = Math.trunc(Math.min(frac(arg.height, H), H - top));
  if (width <= 0 || height <= 0) return undefined;
  const l = Math.trunc(left);
  const t = Math.trunc(top);
  if (l === 0 && t === 0 && width === W && height === H) return undefined;
  return { op: 'crop', left: l, top: t, width, height };
}

export const cropFilter = defineFilter<CropArg>({
  name: 'crop',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects left,top,width,height in pixels or fractions, each at least 0';
    if (args.length < 4) return ctx.lenient ? undefined : badArgument(ctx, expected);
    if (args.length > 4 && !ctx.lenient) return badArgument(ctx, expected);
    const values = args.slice(0, 4).map((a) => readNumber(a));
    if (values.some((v) => v === undefined || v < 0) && !ctx.lenient) return badArgument(ctx, expected);
    const [left = 0, top = 0, width = 0, height = 0] = values.map((v) => v ?? 0);
    return { left, top, width, height };
  },
  apply: (arg, state) => {
    const step = cropFilterRect(arg, state.size);
    return { steps: step === undefined ? [] : [step] };
  },
});

/**
 * rotate(angle): counter-clockwise as thumbor and imagor turn (imagor's rotate(90) is libvips' D270). Any
 * multiple of 90 is taken modulo 360 as thumbor does; imagor turns only 90, 180 and 270 and ignores the rest,
 * which lenient mode reproduces.
 */
export const rotateFilter = defineFilter<{ readonly angle: 0 | 90 | 180 | 270 }>({
  name: 'rotate',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects a multiple of 90 degrees';
    const n = readInteger(args.join(','));
    if (ctx.lenient) return n === 90 || n === 180 || n === 270 ? { angle: n } : undefined;
    if (n === undefined || n % 90 !== 0) return badArgument(ctx, expected);
    return { angle: (((n % 360) + 360) % 360) as 0 | 90 | 180 | 270 };
  },
  collect: (_, into) => {
    into.fullDecode.push('rotate');
  },
  apply: ({ angle }) => (angle === 0 ? { steps: [] } : { steps: [{ op: 'rotate', angle: clockwise(angle) }], rotated90: angle !== 180 }),
});

/** imagor's proportion: p <= 1 is a fraction, 1 < p <= 100 a percentage; sizes truncate, libvips fits inside. */
export function proportionSize(scale: number, size: Size): Size | undefined {
  const s = scale > 1 ? Math.min(scale, 100) / 100 : scale;
  const w = Math.trunc(size.width * s);
  const h = Math.trunc(size.height * s);
  if (w <= 0 || h <= 0) return undefined;
  return fitInside(size, { width: w, height: h }, true);
}

export const proportionFilter = defineFilter<number>({
  name: 'proportion',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects a fraction from 0 to 1 or a percentage up to 100';
    if (!argumentCount(args, [1], ctx, expected)) return undefined;
    const p = readNumber(args[0]);
    if (p !== undefined && p > 0 && p <= 100) return p;
    if (!ctx.lenient) return badArgument(ctx, expected);
    return p !== undefined && p > 0 ? 100 : undefined;
  },
  apply: (scale, state) => {
    const to = proportionSize(scale, state.size);
    if (to === undefined || (to.width === state.size.width && to.height === state.size.height)) return { steps: [] };
    return { steps: [{ op: 'resize', width: to.width, height: to.height }] };
  },
});

/** The trim filter's arguments; the box is measured on pixels by the executor when the plan reaches it. */
export interface TrimArg {
  readonly by: TrimBy;
  /** 0 reads as 1, as imagor's findTrim does. */
  readonly tolerance: number;
}

export const trimFilter = defineFilter<TrimArg>({
  name: 'trim',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects an optional tolerance (an integer from 0) and top-left or bottom-right';
    if (!argumentCount(args, [0, 1, 2], ctx, expected)) return undefined;
    let tolerance = 0;
    if (args[0] !== undefined && args[0].trim() !== '') {
      const n = readInteger(args[0]);
      if (n !== undefined && n >= 0) tolerance = n;
      else if (!ctx.lenient) return badArgument(ctx, expected);
    }
    const pos = args[1]?.trim().toLowerCase();
    if (pos !== undefined && pos !== '' && pos !== 'top-left' && pos !== 'bottom-right' && !ctx.lenient) return badArgument(ctx, expected);
    return { by: pos === 'bottom-right' ? 'bottom-right' : 'top-left', tolerance: tolerance === 0 ? 1 : tolerance };
  },
  collect: (_, into) => {
    into.fullDecode.push('trim');
  },
  apply: (arg) => ({ steps: [], measure: { kind: 'trim', by: arg.by, tolerance: arg.tolerance } }),
});

interface PaddingArg {
  readonly fill: FillArg;
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/**
 * padding(colour, l[, t[, r, b]]): a border around the current image, painted as fill() paints (a colour,
 * `auto`, `blur`, `none`/`transparent`). With three arguments t is also the bottom; r and b come together.
 * imagor reads four arguments as three (the fourth is ignored), which lenient mode reproduces.
 */
export const paddingFilter = defineFilter<PaddingArg>({
  name: 'padding',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects a colour and left[,top[,right,bottom]] in pixels, each at least 0';
    if (args.length < 2) return ctx.lenient ? undefined : badArgument(ctx, expected);
    if (!argumentCount(args, [2, 3, 5], ctx, expected)) return undefined;
    const fill = parseFillArg(args[0]!, ctx.lenient);
    if (fill === undefined) return badArgument(ctx, expected);
    const px = (text: string | undefined): number | undefined => {
      const n = readInteger(text);
      if (n !== undefined && n >= 0) return n;
      return ctx.lenient ? Math.max(0, n ?? 0) : undefined;
    };
    const left = px(args[1]);
    const top = args.length > 2 ? px(args[2]) : left;
    const right = args.length > 4 ? px(args[3]) : left;
    const bottom = args.length > 4 ? px(args[4]) : top;
    if (left === undefined || top === undefined || right === undefined || bottom === undefined) return badArgument(ctx, expected);
    return { fill, left, top, right, bottom };
  },
  // imagor's padding goes through its fill, which also swaps the box after rotate(90); the box here is the
  // image itself, so swapping it would only misplace the image, and pixgate does not.
  apply: (arg, state) => ({
    steps: fillSteps(
      { ...state, box: state.size, padding: { left: arg.left, top: arg.top, right: arg.right, bottom: arg.bottom }, rotated90: false },
      arg.fill,
      true,
    ),
  }),
});

type CornerPaint = Extract<Effect, { kind: 'round-corner' }>['background'];

function cornerPaint(text: string, ctx: FilterContext): CornerPaint | null {
  const key = text.trim().toLowerCase();
  if (key === 'none' || key === 'transparent') return undefined;
  const c = ctx.lenient ? parseFilterColourLenient(text) : parseFilterColour(text);
  if (c === undefined) return null;
  return c.kind === 'auto' ? { kind: 'average' } : { kind: 'colour', colour: c.colour };
}

function radius(text: string | undefined): number | undefined {
  const n = readInteger(text);
  return n !== undefined && n >= 0 ? n : undefined;
}

const BYTE = (text: string | undefined): number | undefined => {
  const n = readInteger(text);
  return n !== undefined && n >= 0 && n <= 255 ? n : undefined;
};

/**
 * round_corner in imagor's form (rx[, ry[, colour]]) and thumbor's (a|b, r, g, b[, transparent]): corners cut
 * to an ellipse, then flattened onto the colour when one is given. Without a colour the corners are
 * transparent (formats without alpha write them as black, as libvips does for imagor).
 */
export const roundCornerFilter = defineFilter<Extract<Effect, { kind: 'round-corner' }> | null>({
  name: 'round_corner',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects rx[,ry[,colour]] or thumbor\'s a|b,r,g,b[,transparent] with radii in pixels';
    if (args.length === 0) return ctx.lenient ? undefined : badArgument(ctx, expected);
    let first = args[0]!;
    try {
      first = decodeURIComponent(first);
    } catch {
      // imagor keeps the text when it does not unescape.
    }
    const [a, b] = first.split('|');
    let rx = radius(a);
    let ry = b === undefined ? rx : radius(b);
    const thumbor = (args.length === 4 || args.length === 5) && args.slice(1, 4).every((t) => BYTE(t) !== undefined);
    let background: CornerPaint;
    if (thumbor) {
      const transparent = args[4] !== undefined && /^(?:true|1)$/i.test(args[4].trim());
      if (args[4] !== undefined && !/^(?:true|false|1|0)$/i.test(args[4].trim()) && !ctx.lenient) return badArgument(ctx, expected);
      const [r, g, bl] = args.slice(1, 4).map((t) => BYTE(t)!) as [number, number, number];
      const colour: Rgba = { r, g, b: bl, alpha: 1 };
      background = transparent ? undefined : { kind: 'colour', colour };
    } else {
      if (args.length > 3) return ctx.lenient ? undefined : badArgument(ctx, expected);
      if (args.length >= 2 && b === undefined) ry = radius(args[1]);
      background = undefined;
      if (args.length === 3) {
        const paint = cornerPaint(args[2]!, ctx);
        if (paint === null) return badArgument(ctx, expected);
        background = paint;
      }
    }
    if (rx === undefined || ry === undefined) {
      if (!ctx.lenient) return badArgument(ctx, expected);
      rx ??= 0;
      ry ??= 0;
    }
    if (rx === 0 || ry === 0) return background === undefined ? null : { kind: 'round-corner', rx: 0, ry: 0, background };
    return { kind: 'round-corner', rx, ry, background };
  },
  apply: (effect) => ({ steps: effect === null ? [] : [{ op: 'effect', effect }] }),
});

/**
 * A focal() region as written: a rectangle, or a point (`point`, right and bottom unused), which counts as a
 * 1 x 1 pixel rectangle; fractions of the size when `fractions`.
 */
export interface FocalRegion {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly point: boolean;
  readonly fractions: boolean;
}

/**
 * The point the cover crop centres on (imagor's parseFocalPoint): the centres of the regions, weighted by
 * their areas, in pixels of an image of `size` (the image after loading and orient, before the URL crop).
 */
export function focalPoint(regions: readonly FocalRegion[], size: Size): { readonly x: number; readonly y: number } | undefined {
  const rects = regions.map((r) => {
    const left = r.fractions ? r.left * size.width : r.left;
    const top = r.fractions ? r.top * size.height : r.top;
    if (r.point) return { left, top, right: left + 1, bottom: top + 1 };
    return r.fractions ? { left, top, right: r.right * size.width, bottom: r.bottom * size.height } : r;
  });
  let total = 0;
  for (const r of rects) total += (r.right - r.left) * (r.bottom - r.top);
  if (!(total > 0)) return undefined;
  let x = 0;
  let y = 0;
  for (const r of rects) {
    const w = ((r.right - r.left) * (r.bottom - r.top)) / total;
    x += ((r.left + r.right) / 2) * w;
    y += ((r.top + r.bottom) / 2) * w;
  }
  return { x, y };
}

/**
 * focal(AxB:CxD) or focal(X,Y) (also focal(XxY)): pixels, or fractions when the left and top are below 1 and
 * the right and bottom at most 1. Several may be given; they steer only the cover crop of a plain WxH resize.
 */
export const focalFilter = defineFilter<FocalRegion>({
  name: 'focal',
  phases: ['geometry', 'load'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects a rectangle LxT:RxB or a point X,Y, in pixels or fractions';
    const parts = args.join(',').split(/[x,:]/).filter((p) => p !== '');
    const values = parts.map((p) => readNumber(p));
    if ((parts.length !== 2 && parts.length !== 4) || values.some((v) => v === undefined || v < 0)) {
      return ctx.lenient ? undefined : badArgument(ctx, expected);
    }
    const [l, t, r, b] = values as number[];
    if (parts.length === 2) {
      return { left: l!, top: t!, right: l!, bottom: t!, point: true, fractions: l! < 1 && t! < 1 };
    }
    if (!(r! > l! && b! > t!)) return ctx.lenient ? undefined : badArgument(ctx, expected);
    return { left: l!, top: t!, right: r!, bottom: b!, point: false, fractions: l! < 1 && t! < 1 && r! <= 1 && b! <= 1 };
  },
  collect: (region, into) => {
    into.focal.push(region);
    into.fullDecode.push('focal');
  },
});

export const geometryFilters: readonly FilterDef[] = [
  cropFilter,
  rotateFilter,
  proportionFilter,
  trimFilter,
  paddingFilter,
  roundCornerFilter,
  focalFilter,
];
