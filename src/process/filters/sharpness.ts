/**
 * Sharpness filters: blur, sharpen (imagor's mappings to libvips gaussblur and sharpen, filter.go), pixelate,
 * and thumbor's convolution, which imagor ignores. imagor skips blur and sharpen on animations; pixgate runs them on every frame, each frame on its
 * own. VIPS_DISABLE_BLUR turns blur and sharpen off (the planner adds them to the disabled filters).
 */
import type { Effect } from '../effects.js';
import { argumentCount, readNumber, readRanged } from './numbers.js';
import { badArgument, defineFilter, readInteger, type FilterDef } from './types.js';

/** Above this sigma a blur only costs time: the image is a flat average long before. */
export const MAX_BLUR_SIGMA = 100;
/** sharp's (libvips') largest sharpen sigma. */
export const MAX_SHARPEN_SIGMA = 10;
/** sharp's smallest gaussian sigma; below it libvips' blur leaves the image as it is anyway. */
const MIN_BLUR_SIGMA = 0.3;

type Maybe = Effect | null;

/**
 * imagor's blur: one argument is a radius (sigma = radius / 2), two are thumbor's (radius, sigma) of which only
 * sigma is used. A sigma of 0 does nothing.
 */
export const blurFilter = defineFilter<Maybe>({
  name: 'blur',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = `expects a radius, or a radius and a sigma, giving a sigma up to ${MAX_BLUR_SIGMA}`;
    if (!argumentCount(args, [1, 2], ctx, expected)) return undefined;
    if (args.length === 0 || args.length > 2) return undefined;
    const radius = readNumber(args[0]);
    if (radius === undefined || radius < 0) {
      if (!ctx.lenient) return badArgument(ctx, expected);
      if (args.length === 1) return undefined;
    }
    let sigma: number | undefined = args.length === 2 ? readNumber(args[1]) : radius === undefined ? undefined : radius / 2;
    if (sigma === undefined || sigma < 0 || sigma > MAX_BLUR_SIGMA) {
      if (!ctx.lenient) return badArgument(ctx, expected);
      if (sigma === undefined || sigma <= 0) return undefined;
      sigma = MAX_BLUR_SIGMA;
    }
    return sigma < MIN_BLUR_SIGMA ? null : { kind: 'blur', sigma };
  },
  apply: (effect) => ({ steps: effect === null ? [] : [{ op: 'effect', effect }] }),
});

const BOOLEAN = /^(?:true|false|1|0)$/i;

/**
 * imagor's sharpen: sharpen(s) or thumbor's sharpen(amount, radius[, luminance_only]) of which only the radius
 * is used; sigma = 1 + 2s (so sharpen() sharpens with sigma 1, as in imagor), clamped to libvips' 10. libvips
 * sharpens lightness only, so luminance_only is accepted and changes nothing.
 */
export const sharpenFilter = defineFilter<Maybe>({
  name: 'sharpen',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects a sigma, or amount, radius[, luminance_only], each from 0 to 10';
    const range = { min: 0, max: 10 };
    let s = 0;
    if (args.length === 1) {
      const v = readRanged(args[0], range, ctx, expected.replace('expects ', ''));
      if (v === undefined) return undefined;
      s = v;
    } else if (args.length === 2 || args.length === 3) {
      if (!ctx.lenient && readNumber(args[0]) === undefined) return badArgument(ctx, expected);
      if (!ctx.lenient && args[2] !== undefined && !BOOLEAN.test(args[2].trim())) return badArgument(ctx, expected);
      const v = readRanged(args[1], range, ctx, expected.replace('expects ', ''));
      if (v === undefined) return undefined;
      s = v;
    } else if (args.length > 3 && !ctx.lenient) {
      return badArgument(ctx, expected);
    }
    const sigma = Math.min(MAX_SHARPEN_SIGMA, 1 + s * 2);
    return sigma > 0 ? { kind: 'sharpen', sigma } : null;
  },
  apply: (effect) => ({ steps: effect === null ? [] : [{ op: 'effect', effect }] }),
});

/** imagor's pixelate([block=10]): block x block cells of their mean colour; a block of 1 changes nothing. */
export const pixelateFilter = defineFilter<Maybe>({
  name: 'pixelate',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = 'expects an optional block size, a positive integer';
    if (!argumentCount(args, [0, 1], ctx, expected)) return undefined;
    let block = 10;
    if (args[0] !== undefined && args[0].trim() !== '') {
      const n = readInteger(args[0]);
      if (n !== undefined && n > 0) block = n;
      else if (!ctx.lenient) return badArgument(ctx, expected);
    }
    return block <= 1 ? null : { kind: 'pixelate', block };
  },
  apply: (effect) => ({ steps: effect === null ? [] : [{ op: 'effect', effect }] }),
});

/** Largest convolution kernel side: beyond it a kernel only costs time (thumbor has no limit). */
export const MAX_KERNEL_SIDE = 25;

const KERNEL_ITEM = /^-?\d+(?:\.\d*)?$/;

/**
 * thumbor's convolution(items, columns[, normalize=true]): semicolon-separated kernel items, row by row, with an
 * odd number of columns and rows; normalised by the sum of the items when asked (and the sum is not 0). Edge
 * pixels are extended; every frame of an animation is convolved on its own.
 */
export const convolutionFilter = defineFilter<Maybe>({
  name: 'convolution',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const expected = `expects items;separated;by;semicolons, an odd number of columns and an optional true or false, at most ${MAX_KERNEL_SIDE}x${MAX_KERNEL_SIDE}`;
    if (args.length < 2 || args.length > 3) return badArgument(ctx, expected);
    const items = args[0]!.split(';').map((t) => t.trim());
    const columns = readInteger(args[1]);
    const normalize = args[2] === undefined ? 'true' : args[2].trim().toLowerCase();
    if (!items.every((t) => KERNEL_ITEM.test(t)) || columns === undefined || columns <= 0) return badArgument(ctx, expected);
    if (!['true', 'false', '1', '0'].includes(normalize)) return badArgument(ctx, expected);
    const rows = items.length / columns;
    if (!Number.isInteger(rows) || columns % 2 === 0 || rows % 2 === 0 || columns > MAX_KERNEL_SIDE || rows > MAX_KERNEL_SIDE) {
      return badArgument(ctx, expected);
    }
    let kernel = items.map(Number);
    const sum = kernel.reduce((a, b) => a + b, 0);
    if ((normalize === 'true' || normalize === '1') && sum !== 0) kernel = kernel.map((k) => k / sum);
    return { kind: 'convolve', width: columns, height: rows, kernel };
  },
  apply: (effect) => ({ steps: effect === null ? [] : [{ op: 'effect', effect }] }),
});

export const sharpnessFilters: readonly FilterDef[] = [blurFilter, sharpenFilter, pixelateFilter, convolutionFilter];
