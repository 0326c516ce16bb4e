/**
 * Colour and tone filters: imagor's brightness, contrast, grayscale, hue, saturation, rgb, modulate and invert
 * with imagor's arithmetic (processor/vipsprocessor/filter.go), and thumbor's equalize, noise, colorize and
 * curve plus a sepia tone, which imagor ignores. Each emits one `effect` step; every frame of an animation is
 * processed.
 */
import { SEPIA_MATRIX, type Effect } from '../effects.js';
import type { PixelResult } from './types.js';
import { badArgument, defineFilter, noArguments, readInteger, type FilterContext, type FilterDef } from './types.js';
import { argumentCount, readNumber, readRanged, readUnclamped } from './numbers.js';
import { parseFilterColour } from './colour.js';

const PERCENT = { min: -100, max: 100 } as const;

const effectStep = (effect: Effect): PixelResult => ({ steps: [{ op: 'effect', effect }] });

/** A pixel filter whose arguments read into one effect (or undefined: nothing to do). */
function toneFilter(name: string, parse: (args: readonly string[], ctx: FilterContext) => Effect | null | undefined): FilterDef {
  return defineFilter<Effect | null>({
    name,
    phases: ['pixel'],
    animation: 'all-frames',
    parse,
    apply: (effect) => (effect === null ? { steps: [] } : effectStep(effect)),
  });
}

/**
 * One percentage argument. imagor does nothing without an argument; strict mode refuses that and extra
 * arguments, lenient mode follows imagor (first argument, unparseable = 0, no argument = skip).
 */
function onePercent(args: readonly string[], ctx: FilterContext): number | undefined {
  if (args.length === 0 && ctx.lenient) return undefined;
  if (!argumentCount(args, [1], ctx, 'expects a number from -100 to 100')) return undefined;
  return readRanged(args[0], PERCENT, ctx);
}

const shift = (percent: number): number => (percent * 255) / 100;

export const brightnessFilter = toneFilter('brightness', (args, ctx) => {
  const n = onePercent(args, ctx);
  if (n === undefined) return undefined;
  const b = shift(n);
  return n === 0 ? null : { kind: 'linear', a: [1, 1, 1], b: [b, b, b] };
});

/** imagor's contrast: the classic 259 formula, a linear stretch around 128. */
export function contrastLine(percent: number): { a: number; b: number } {
  const c = Math.min(255, Math.max(-255, shift(percent)));
  const a = (259 * (c + 255)) / (255 * (259 - c));
  return { a, b: 128 - a * 128 };
}

export const contrastFilter = toneFilter('contrast', (args, ctx) => {
  const n = onePercent(args, ctx);
  if (n === undefined) return undefined;
  const { a, b } = contrastLine(n);
  return n === 0 ? null : { kind: 'linear', a: [a, a, a], b: [b, b, b] };
});

export const hueFilter = toneFilter('hue', (args, ctx) => {
  if (args.length === 0 && ctx.lenient) return undefined;
  if (!argumentCount(args, [1], ctx, 'expects an angle in degrees')) return undefined;
  const h = readNumber(args[0]) ?? (ctx.lenient ? 0 : badArgument(ctx, 'expects an angle in degrees'));
  if (h === undefined) return undefined;
  return h % 360 === 0 ? null : { kind: 'modulate', brightness: 1, saturation: 1, hue: h % 360 };
});

/**
 * libvips modulate as imagor calls it (multiply L and C in LCh, add to H) from imagor's percentages, which lenient
 * mode reads unclamped. A negative chroma factor (saturation below -100) is the same colour as its size with the
 * hue turned half a turn, which is how it is passed on (sharp takes no negative factor); a negative lightness
 * factor (brightness below -100) is taken as 0.
 */
function modulateEffect(brightness: number, saturation: number, hue: number): Effect {
  const s = 1 + saturation / 100;
  const h = (hue + (s < 0 ? 180 : 0)) % 360;
  return { kind: 'modulate', brightness: Math.max(0, 1 + brightness / 100), saturation: Math.abs(s), hue: h };
}

export const saturationFilter = toneFilter('saturation', (args, ctx) => {
  if (args.length === 0 && ctx.lenient) return undefined;
  if (!argumentCount(args, [1], ctx, 'expects a number from -100 to 100')) return undefined;
  const n = readUnclamped(args[0], PERCENT, ctx);
  if (n === undefined) return undefined;
  return n === 0 ? null : modulateEffect(0, n, 0);
});

/** Three arguments (imagor ignores any other count). */
function threeArgs(args: readonly string[], ctx: FilterContext, expected: string): readonly string[] | undefined {
  if (args.length !== 3) return ctx.lenient ? undefined : badArgument(ctx, expected);
  return args;
}

export const rgbFilter = toneFilter('rgb', (args, ctx) => {
  const expected = 'expects three numbers from -100 to 100 (r,g,b)';
  const three = threeArgs(args, ctx, expected);
  if (three === undefined) return undefined;
  const values = three.map((t) => readRanged(t, PERCENT, ctx, expected.replace('expects ', '')));
  if (values.some((v) => v === undefined)) return undefined;
  const [r, g, b] = values as [number, number, number];
  return r === 0 && g === 0 && b === 0 ? null : { kind: 'linear', a: [1, 1, 1], b: [shift(r), shift(g), shift(b)] };
});

export const modulateFilter = toneFilter('modulate', (args, ctx) => {
  const expected = 'expects brightness and saturation from -100 to 100 and a hue in degrees';
  const three = threeArgs(args, ctx, expected);
  if (three === undefined) return undefined;
  const b = readUnclamped(three[0], PERCENT, ctx, expected.replace('expects ', ''));
  const s = readUnclamped(three[1], PERCENT, ctx, expected.replace('expects ', ''));
  const h = readNumber(three[2]) ?? (ctx.lenient ? 0 : badArgument(ctx, expected));
  if (b === undefined || s === undefined || h === undefined) return undefined;
  return b === 0 && s === 0 && h % 360 === 0 ? null : modulateEffect(b, s, h);
});

export const invertFilter = toneFilter('invert', (args, ctx) =>
  noArguments(args, ctx) ? { kind: 'linear', a: [-1, -1, -1], b: [255, 255, 255] } : undefined,
);

export const grayscaleFilter = toneFilter('grayscale', (args, ctx) => (noArguments(args, ctx) ? { kind: 'grayscale' } : undefined));

export const equalizeFilter = toneFilter('equalize', (args, ctx) => (noArguments(args, ctx) ? { kind: 'equalize' } : undefined));

export const sepiaFilter = toneFilter('sepia', (args, ctx) => (noArguments(args, ctx) ? { kind: 'recomb', matrix: SEPIA_MATRIX } : undefined));

/**
 * thumbor's noise(amount[, seed]): amount 0-100. thumbor draws from an unseeded C random() unless a seed is
 * given; pixgate always seeds (with a fixed default), so one URL always gives the same pixels.
 */
export const noiseFilter = toneFilter('noise', (args, ctx) => {
  const expected = 'expects an amount from 0 to 100 and an optional seed';
  if (!argumentCount(args, [1, 2], ctx, expected)) return undefined;
  if (args.length === 0) return undefined;
  const amount = readRanged(args[0], { min: 0, max: 100, integer: true }, ctx, expected.replace('expects ', ''));
  if (amount === undefined) return undefined;
  let seed = 0;
  if (args[1] !== undefined) {
    const s = readInteger(args[1]);
    if (s === undefined || s < 0 || s > 0xffffffff) {
      if (!ctx.lenient) return badArgument(ctx, expected);
    } else {
      seed = s;
    }
  }
  return amount === 0 ? null : { kind: 'noise', amount, seed };
});

/**
 * thumbor's colorize(red%, green%, blue%, fill): each channel moves that far towards the fill colour's channel
 * (thumbor takes the fill as rrggbb hex; any filter colour is accepted here).
 */
export const colorizeFilter = toneFilter('colorize', (args, ctx) => {
  const expected = 'expects three percentages from 0 to 100 and a colour';
  if (args.length !== 4) return ctx.lenient ? undefined : badArgument(ctx, expected);
  const pct = args.slice(0, 3).map((t) => readRanged(t, { min: 0, max: 100 }, ctx, expected.replace('expects ', '')));
  const fill = parseFilterColour(args[3]!);
  if (pct.some((v) => v === undefined) || fill === undefined || fill.kind !== 'colour') {
    return ctx.lenient ? undefined : badArgument(ctx, expected);
  }
  const [r, g, b] = pct as [number, number, number];
  const c = fill.colour;
  return {
    kind: 'linear',
    a: [1 - r / 100, 1 - g / 100, 1 - b / 100],
    b: [(c.r * r) / 100, (c.g * g) / 100, (c.b * b) / 100],
  };
});

type Point = readonly [number, number];

/** Second derivatives of the natural cubic spline through the points (tridiagonal system, Thomas algorithm). */
function splineSecondDerivatives(points: readonly Point[]): number[] {
  const n = points.length;
  const m = new Array<number>(n).fill(0);
  if (n < 3) return m;
  const sub = new Array<number>(n).fill(0);
  const diag = new Array<number>(n).fill(1);
  const sup = new Array<number>(n).fill(0);
  const rhs = new Array<number>(n).fill(0);
  for (let i = 1; i < n - 1; i++) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[i + 1]!;
    sub[i] = (x1 - x0) / 6;
    diag[i] = (x2 - x0) / 3;
    sup[i] = (x2 - x1) / 6;
    rhs[i] = (y2 - y1) / (x2 - x1) - (y1 - y0) / (x1 - x0);
  }
  for (let i = 1; i < n; i++) {
    const k = sub[i]! / diag[i - 1]!;
    diag[i]! -= k * sup[i - 1]!;
    rhs[i]! -= k * rhs[i - 1]!;
  }
  m[n - 1] = rhs[n - 1]! / diag[n - 1]!;
  for (let i = n - 2; i >= 0; i--) m[i] = (rhs[i]! - sup[i]! * m[i + 1]!) / diag[i]!;
  return m;
}

/**
 * thumbor's curve table: a natural cubic spline through the points, rounded and clamped; the first point's
 * value before it and the last point's value from it on.
 */
export function curveTable(points: readonly Point[]): number[] {
  const table = new Array<number>(256).fill(points[0]![1]);
  const m = splineSecondDerivatives(points);
  for (let i = 0; i < points.length - 1; i++) {
    const [x0, y0] = points[i]!;
    const [x1, y1] = points[i + 1]!;
    const h = x1 - x0;
    for (let x = x0; x < x1; x++) {
      const b = (x - x0) / h;
      const a = 1 - b;
      const y = a * y0 + b * y1 + ((h * h) / 6) * ((a * a * a - a) * m[i]! + (b * b * b - b) * m[i + 1]!);
      table[x] = Math.min(255, Math.max(0, Math.round(y)));
    }
  }
  const [xLast, yLast] = points[points.length - 1]!;
  for (let x = xLast; x < 256; x++) table[x] = yLast;
  return table;
}

const CURVE = /\[([^\]]*)\]/g;
const POINT = /^\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

function readCurve(text: string): Point[] | undefined {
  const parts = text.trim() === '' ? [] : text.split(/(?<=\))\s*,\s*(?=\()/);
  const points: Point[] = [];
  for (const part of parts) {
    const m = POINT.exec(part.trim());
    if (m === null) return undefined;
    const x = Number(m[1]);
    const y = Number(m[2]);
    if (x > 255 || y > 255 || (points.length > 0 && x <= points[points.length - 1]![0])) return undefined;
    points.push([x, y]);
  }
  return points.length > 0 ? points : undefined;
}

/**
 * thumbor's curve(all, red, green, blue): four lists of (x,y) points, x rising from 0 to 255; each channel goes
 * through its own curve, then through the curve for all channels.
 */
export const curveFilter = toneFilter('curve', (args, ctx) => {
  const expected = 'expects four curves [(x,y),...] with x rising from 0 to 255';
  const text = args.join(',');
  const curves = [...text.matchAll(CURVE)].map((m) => readCurve(m[1]!));
  const rest = text.replace(CURVE, '').replace(/[\s,]/g, '');
  if (curves.length !== 4 || rest !== '' || curves.some((c) => c === undefined)) return ctx.lenient ? undefined : badArgument(ctx, expected);
  const [all, r, g, b] = (curves as Point[][]).map(curveTable) as [number[], number[], number[], number[]];
  return { kind: 'lut', tables: [r.map((v) => all[v]!), g.map((v) => all[v]!), b.map((v) => all[v]!)] };
});

export const toneFilters: readonly FilterDef[] = [
  brightnessFilter,
  contrastFilter,
  hueFilter,
  saturationFilter,
  rgbFilter,
  modulateFilter,
  invertFilter,
  grayscaleFilter,
  equalizeFilter,
  sepiaFilter,
  noiseFilter,
  colorizeFilter,
  curveFilter,
];
