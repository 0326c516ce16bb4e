/**
 * Filters that change how the URL's geometry is computed: upscale, no_upscale, stretch (as the URL's
 * `stretch/`) and orient (rotate before resizing). They set options; the planner emits the steps.
 */
import { badArgument, defineFilter, noArguments, readInteger } from './types.js';

export const upscaleFilter = defineFilter({
  name: 'upscale',
  phases: ['geometry'],
  animation: 'all-frames',
  parse: noArguments,
  collect: (_, into) => {
    into.upscale = true;
  },
});

export const noUpscaleFilter = defineFilter({
  name: 'no_upscale',
  phases: ['geometry'],
  animation: 'all-frames',
  parse: noArguments,
  collect: (_, into) => {
    into.upscale = false;
  },
});

export const stretchFilter = defineFilter({
  name: 'stretch',
  phases: ['geometry'],
  animation: 'all-frames',
  parse: noArguments,
  collect: (_, into) => {
    into.stretch = true;
  },
});

type Orient = { readonly angle: 90 | 180 | 270 | undefined };

export const orientFilter = defineFilter<Orient>({
  name: 'orient',
  phases: ['geometry', 'load'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const n = readInteger(args.join(','));
    if (n === 90 || n === 180 || n === 270) return { angle: n };
    if (!ctx.lenient) return badArgument(ctx, 'expects 90, 180 or 270');
    // imagor: any other positive number still turns shrink-on-load off but rotates nothing.
    return n !== undefined && n > 0 ? { angle: undefined } : undefined;
  },
  collect: (o, into) => {
    if (o.angle !== undefined) into.orient = o.angle;
    into.fullDecode.push('orient');
  },
});

export const sizingFilters = [upscaleFilter, noUpscaleFilter, stretchFilter, orientFilter];
