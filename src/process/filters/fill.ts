/**
 * fill() and background_color(): letterboxing the image to imagor's target box plus the URL padding, and
 * flattening transparency onto a colour. Pure geometry on the plan's state; the executor paints.
 */
import type { Paint, Rgba, Size, Step } from '../steps.js';
import { parseFilterColour, parseFilterColourLenient, TRANSPARENT } from './colour.js';
import { badArgument, defineFilter, type PixelState } from './types.js';

/** imagor's fill(): a colour, `none`/`transparent`, `auto` (average colour) or `blur` (blurred backdrop). */
export type FillArg =
  | { readonly kind: 'colour'; readonly colour: Rgba }
  | { readonly kind: 'transparent' }
  | { readonly kind: 'auto' }
  | { readonly kind: 'blur' };

/** Gaussian sigma of imagor's fill(blur) backdrop (filteroverlay.go). */
export const FILL_BLUR_SIGMA = 50;

const BOOLEAN = /^(?:true|false|1|0)$/i;

export function parseFillArg(text: string, lenient: boolean): FillArg | undefined {
  const key = text.trim().toLowerCase();
  if (key === 'none' || key === 'transparent') return { kind: 'transparent' };
  if (key === 'blur') return { kind: 'blur' };
  const c = lenient ? parseFilterColourLenient(text) : parseFilterColour(text);
  if (c === undefined) return undefined;
  return c.kind === 'auto' ? { kind: 'auto' } : { kind: 'colour', colour: c.colour };
}

function paintOf(fill: FillArg): Paint {
  switch (fill.kind) {
    case 'colour':
      return { kind: 'colour', colour: fill.colour };
    case 'transparent':
      return { kind: 'colour', colour: TRANSPARENT };
    case 'auto':
      return { kind: 'average' };
    case 'blur':
      return { kind: 'blur', sigma: FILL_BLUR_SIGMA };
  }
}

/**
 * The steps for imagor's fill on the current state: the canvas is the target box plus the padding (box and
 * padding swapped after an odd number of 90-degree rotations, as imagor does), the image centred in the box
 * with Go's truncating division. With `blurAllowed` false (imagor on animations and with VIPS_DISABLE_BLUR) imagor
 * paints `blur` as the colour it fails to parse: black.
 */
export function fillSteps(state: PixelState, fill: FillArg, blurAllowed: boolean): Step[] {
  let { width: w, height: h } = state.box;
  let { left: pl, top: pt, right: pr, bottom: pb } = state.padding;
  if (state.rotated90) {
    [w, h] = [h, w];
    [pl, pt] = [pt, pl];
    [pr, pb] = [pb, pr];
  }
  const canvas: Size = { width: w + pl + pr, height: h + pt + pb };
  const left = Math.trunc((w - state.size.width) / 2) + pl;
  const top = Math.trunc((h - state.size.height) / 2) + pt;
  const effective: FillArg = fill.kind === 'blur' && !blurAllowed ? { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } } : fill;
  const unchanged = left === 0 && top === 0 && canvas.width === state.size.width && canvas.height === state.size.height;
  const flatten = effective.kind === 'colour' || effective.kind === 'auto';
  if (unchanged && !(flatten && state.hasAlpha)) return [];
  if (unchanged) return [{ op: 'flatten', background: paintOf(effective) }];
  return [{ op: 'embed', left, top, width: canvas.width, height: canvas.height, background: paintOf(effective), flatten }];
}

export const fillFilter = defineFilter<FillArg>({
  name: 'fill',
  phases: ['pixel'],
  // Every frame is letterboxed; fill(blur) blurs each frame's own backdrop (imagor paints black on animations).
  animation: 'all-frames',
  parse: (args, ctx) => {
    const [first = '', second] = args;
    // thumbor's fill(colour, fill_transparent): the flag is accepted and, as in imagor, ignored.
    if (second !== undefined && !BOOLEAN.test(second.trim()) && !ctx.lenient) {
      return badArgument(ctx, 'expects a colour, auto, blur, none or transparent');
    }
    return parseFillArg(first, ctx.lenient) ?? badArgument(ctx, 'expects a colour, auto, blur, none or transparent');
  },
  collect: (fill, into) => {
    if (fill.kind === 'auto') into.fullDecode.push('fill(auto)');
  },
  apply: (fill, state) => ({ steps: fillSteps(state, fill, true) }),
});

export const backgroundColorFilter = defineFilter<Paint>({
  name: 'background_color',
  phases: ['pixel'],
  animation: 'all-frames',
  parse: (args, ctx) => {
    const text = args[0];
    // imagor: background_color() without an argument does nothing; extra arguments are ignored.
    if (text === undefined) return badArgument(ctx, 'expects a colour or auto');
    const c = ctx.lenient ? parseFilterColourLenient(text) : parseFilterColour(text);
    if (c === undefined || (args.length > 1 && !ctx.lenient)) return badArgument(ctx, 'expects a colour or auto');
    return c.kind === 'auto' ? { kind: 'average' } : { kind: 'colour', colour: c.colour };
  },
  collect: (paint, into) => {
    if (paint.kind === 'average') into.fullDecode.push('background_color(auto)');
  },
  // imagor: no-op on an image without alpha.
  apply: (paint, state) => ({ steps: state.hasAlpha ? [{ op: 'flatten', background: paint }] : [] }),
});

export const fillFilters = [fillFilter, backgroundColorFilter];
