/**
 * dpi(n): the density SVG sources are rendered at (imagor passes it to libvips' svgload and pdfload; our
 * libvips has no PDF loader). Other sources ignore it. Pure: the planner scales the source size, the executor
 * hands the density to the decoder.
 */
import type { Size } from '../steps.js';
import { badArgument, defineFilter, readInteger, type FilterDef } from './types.js';

/** libvips' SVG density when none is asked for. */
export const SVG_DEFAULT_DPI = 72;
export const MAX_DPI = 2400;

/** The size libvips renders an SVG of `size` (at 72 dpi) at `dpi`: scaled and rounded. */
export function renderedSize(size: Size, dpi: number | undefined): Size {
  if (dpi === undefined || dpi === SVG_DEFAULT_DPI) return size;
  const scale = dpi / SVG_DEFAULT_DPI;
  return { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) };
}

export const dpiFilter = defineFilter<number>({
  name: 'dpi',
  phases: ['load'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const n = readInteger(args.join(','));
    if (n !== undefined && n > 0 && n <= MAX_DPI) return n;
    // imagor ignores anything that is not a positive integer; the cap keeps a URL from asking for a huge render.
    if (ctx.lenient && n !== undefined && n > MAX_DPI) return MAX_DPI;
    return badArgument(ctx, `expects a density from 1 to ${MAX_DPI}`);
  },
  collect: (n, into) => {
    into.dpi = n;
  },
});

export const densityFilters: readonly FilterDef[] = [dpiFilter];
