/**
 * How a filter is declared: its imagor name, when it acts (load, geometry, pixel, export, or outside the
 * processor), what it does to animations, how its arguments are read and what it contributes to the plan.
 * Pure; a filter never touches pixels itself, it only emits Steps or sets options the planner reads.
 */
import { fail } from '../../respond/errors.js';
import type { FormatName } from '../negotiate.js';
import type { DroppedFilterText, TrimBy } from '../../parse/imagor-params.js';
import type { Edges, Size, Step } from '../steps.js';
import type { ColourProfile } from './encode.js';
import type { FocalRegion } from './geometry-filters.js';

/**
 * When a filter acts. `load`: read before decoding (frames, page). `geometry`: changes how the URL geometry is
 * computed (upscale, stretch, orient). `pixel`: emits steps after resize and flips, in URL order. `export`:
 * encoder options. `response` and `meta`: handled by the server or the meta endpoint; the processor accepts
 * them and does nothing.
 */
export type FilterPhase = 'load' | 'geometry' | 'pixel' | 'export' | 'response' | 'meta';

/**
 * What the filter does on an animated image: `all-frames` applies to every frame, `skipped` is a no-op on
 * animations (imagor does this for blur, sharpen, trim), `not-applicable` does not touch pixels.
 */
export type AnimationSupport = 'all-frames' | 'skipped' | 'not-applicable';

/** Options gathered from the filters in URL order before planning (later filters override earlier ones). */
export interface CollectedOptions {
  /** upscale() / no_upscale(); undefined = the geometry's default. */
  upscale: boolean | undefined;
  stretch: boolean;
  format: FormatName | undefined;
  fallbackFormat: FormatName | undefined;
  /** 0 = encoder default. */
  quality: number;
  lossless: boolean;
  stripExif: boolean;
  stripIcc: boolean;
  stripMetadata: boolean;
  /** max_frames(n), at most n frames. */
  maxFrames: number | undefined;
  /** page(n), 1-based. */
  page: number | undefined;
  /** orient(angle), counter-clockwise degrees as imagor and thumbor give them. */
  orient: 90 | 180 | 270 | undefined;
  /** Filters that make imagor decode the full image rather than shrink on load (its thumbnailNotSupported). */
  fullDecode: string[];
  /** focal(): regions steering the cover crop, as written. */
  focal: FocalRegion[];
  /** dpi(n): SVG render density. */
  dpi: number | undefined;
  /** max_bytes(n). */
  maxBytes: number | undefined;
  /** PNG knobs: palette(), bitdepth(n), compression(n). */
  palette: boolean;
  bitdepth: number | undefined;
  compression: number | undefined;
  /** autojpg(): an opaque PNG output is written as JPEG. */
  autojpg: boolean;
  /** to_colorspace(profile). */
  colourspace: ColourProfile | undefined;
}

export function createCollectedOptions(): CollectedOptions {
  return {
    upscale: undefined,
    stretch: false,
    format: undefined,
    fallbackFormat: undefined,
    quality: 0,
    lossless: false,
    stripExif: false,
    stripIcc: false,
    stripMetadata: false,
    maxFrames: undefined,
    page: undefined,
    orient: undefined,
    fullDecode: [],
    focal: [],
    dpi: undefined,
    maxBytes: undefined,
    palette: false,
    bitdepth: undefined,
    compression: undefined,
    autojpg: false,
    colourspace: undefined,
  };
}

/** The image as a pixel-time filter sees it. */
export interface PixelState {
  /** One frame's size. */
  readonly size: Size;
  readonly frames: number;
  readonly hasAlpha: boolean;
  /** imagor's target box (w, h after fit-in, full-fit-in and adaptive swap), which `fill` letterboxes to. */
  readonly box: Size;
  /** The URL's padding segment, added by `fill`. */
  readonly padding: Edges;
  /** An odd number of 90/270 rotations happened (imagor swaps the fill box then). */
  readonly rotated90: boolean;
}

export interface PixelResult {
  readonly steps: readonly Step[];
  /** The filter rotated by 90 or 270 degrees. */
  readonly rotated90?: boolean;
  /** The filter needs the image measured first (the trim filter): the planner pauses here, then crops. */
  readonly measure?: { readonly kind: 'trim'; readonly by: TrimBy; readonly tolerance: number } | undefined;
}

export interface FilterContext {
  readonly name: string;
  /** imagor's behaviour: a malformed argument falls back to imagor's default instead of a 400. */
  readonly lenient: boolean;
}

export interface FilterSpec<A> {
  readonly name: string;
  readonly phases: readonly FilterPhase[];
  readonly animation: AnimationSupport;
  /** Reads the split arguments. Undefined = ignore this filter (lenient fallbacks); throws INVALID_PARAMS. */
  readonly parse: (args: readonly string[], ctx: FilterContext) => A | undefined;
  readonly collect?: (arg: A, into: CollectedOptions) => void;
  readonly apply?: (arg: A, state: PixelState) => PixelResult;
}

/** A filter from the URL with its arguments read, ready for the planner. */
export interface PreparedFilter {
  readonly name: string;
  /** Position in the URL's filter list (VIPS_MAX_FILTER_OPS counts it). */
  readonly index: number;
  readonly def: FilterDef;
  collect(into: CollectedOptions): void;
  readonly apply: ((state: PixelState) => PixelResult) | undefined;
}

export interface FilterDef {
  readonly name: string;
  readonly phases: readonly FilterPhase[];
  readonly animation: AnimationSupport;
  prepare(args: readonly string[], ctx: FilterContext, index: number): PreparedFilter | undefined;
}

/** Declares a filter; the argument type stays private to the declaration. */
export function defineFilter<A>(spec: FilterSpec<A>): FilterDef {
  const def: FilterDef = {
    name: spec.name,
    phases: spec.phases,
    animation: spec.animation,
    prepare(args, ctx, index) {
      const arg = spec.parse(args, ctx);
      if (arg === undefined) return undefined;
      const apply = spec.apply;
      return {
        name: spec.name,
        index,
        def,
        collect: (into) => spec.collect?.(arg, into),
        apply: apply === undefined ? undefined : (state) => apply(arg, state),
      };
    },
  };
  return def;
}

/**
 * A malformed argument: INVALID_PARAMS naming the filter and what it expects (never echoing the argument),
 * or undefined (ignore the filter) in lenient mode.
 */
export function badArgument(ctx: FilterContext, expected: string): undefined {
  if (ctx.lenient) return undefined;
  return fail('INVALID_PARAMS', `filter ${ctx.name}: ${expected}`, `${ctx.name}: ${expected}`);
}

/**
 * Text imagor's parser drops from a `filters:` segment, as a sentence safe for an error body (names are echoed
 * as unknown filter names are, odd characters as `?`): "filter blurr has no parentheses", "unexpected text
 * after blur(...)", "filter (5) has no name".
 */
export function describeDroppedFilterText(d: DroppedFilterText): string {
  const safe = (text: string): string => text.replace(/[^\w.,()%-]/g, '?').slice(0, 40);
  switch (d.kind) {
    case 'bare':
      return `filter ${safe(d.text)} has no parentheses`;
    case 'unnamed':
      return `filter ${safe(d.text)} has no name`;
    case 'trailing':
      return `unexpected text after ${safe(d.after ?? '')}(...)`;
  }
}

/** Strict mode: INVALID_PARAMS for the first piece of dropped filter text, its public text after `prefix`. */
export function refuseDroppedFilterText(dropped: readonly DroppedFilterText[], prefix = ''): void {
  const first = dropped[0];
  if (first !== undefined) fail('INVALID_PARAMS', `dropped filter text ${JSON.stringify(first)}`, prefix + describeDroppedFilterText(first));
}

/** A filter that takes no arguments; strict mode refuses any. */
export function noArguments(args: readonly string[], ctx: FilterContext): true | undefined {
  if (args.length === 0 || (args.length === 1 && args[0]!.trim() === '')) return true;
  return ctx.lenient ? true : badArgument(ctx, 'takes no arguments');
}

const INTEGER = /^[+-]?\d+$/;

/** Go's strconv.Atoi, as imagor reads integer arguments: undefined when the text is not an integer. */
export function readInteger(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!INTEGER.test(t)) return undefined;
  const n = Number.parseInt(t, 10);
  return Number.isSafeInteger(n) ? n : undefined;
}
