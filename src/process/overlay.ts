/**
 * Draws overlay steps (watermark, image(), label, text) on decoded frames, as imagor's compositeOverlay does
 * (processor/vipsprocessor/overlay.go): the overlay is faded by its alpha, placed by imagor's position grammar,
 * tiled for `repeat`, cut to the canvas and composited with a libvips blend mode on every frame, frame i of an
 * animated overlay on frame i of an animated base. Overlay images come only through the caller's `loadImage`
 * (the server's loaders and source policy) and pass the same probe and pixel limits as the main image; nested
 * image() paths are planned and executed like the main path, with a bounded depth and a shared overlay budget.
 */
import type { OverlayOptions } from 'sharp';
import { runVips, vips } from './vips.js';
import { splitFilterArgs } from '../parse/imagor-filters.js';
import type { ImagorParams } from '../parse/imagor-params.js';
import { isColorImage, parseImagorPath, queryUnescape } from '../parse/imagor-path.js';
import { capFrames, checkLimits, type Limits } from '../policy/limits.js';
import { fail } from '../respond/errors.js';
import { executePlanToPixels, type ExecuteHooks, type RawImage } from './execute.js';
import { prepareFilters, type PrepareFiltersOptions } from './filters/registry.js';
import {
  BLEND_MODES,
  OVERLAY_FILTERS,
  resolveFullDimensions,
  resolvePosition,
  type BlendMode,
  type OverlaySpec,
  type Position,
  type WatermarkSpec,
} from './overlay-position.js';
import { buildPlan } from './plan.js';
import { colourSource, probeImage } from './probe.js';
import type { ProcessOptions } from './process-image.js';
import type { Rgba, Size } from './steps.js';
import { renderText, type Layer } from './text.js';

export type { Layer } from './text.js';

/** Most overlays one request may draw, nested image() paths included, unless ProcessOptions says otherwise. */
export const DEFAULT_MAX_OVERLAYS = 10;
/** Deepest image() inside image() inside ... unless ProcessOptions says otherwise. */
export const DEFAULT_MAX_OVERLAY_DEPTH = 3;

const EMPTY = new Uint8Array(0);

interface OverlayContext {
  readonly options: ProcessOptions;
  readonly limits: Limits;
  /** 0 for the main image, n for an image() path nested n deep. */
  readonly depth: number;
  /** Overlays still allowed, shared by every level of one request. */
  readonly budget: { remaining: number };
}

const maxOverlays = (o: ProcessOptions): number => o.maxOverlays ?? DEFAULT_MAX_OVERLAYS;
/** The filter checks of the main path, for a nested one. */
const prepareOptions = (o: ProcessOptions): PrepareFiltersOptions => ({
  lenient: o.lenientFilters,
  disabled: o.disabledFilters,
  disableBlur: o.disableBlur,
  maxOps: o.maxFilterOps,
  registry: o.registry,
});
const maxDepth = (o: ProcessOptions): number => o.maxOverlayDepth ?? DEFAULT_MAX_OVERLAY_DEPTH;

/** The nested params of an image() argument, `full` sizes resolved against the parent (1x1 when unknown). */
function nestedParams(arg: string, parent: Size): ImagorParams {
  return parseImagorPath(resolveFullDimensions(arg, parent.width, parent.height));
}

/**
 * Checks the overlays of a URL before anything is loaded: the filters of every nested image() path (unknown
 * names and bad arguments, as the main path's), the nesting depth and the total number of overlays.
 * INVALID_PARAMS naming what is wrong.
 */
export function checkOverlays(params: ImagorParams, options: ProcessOptions, depth = 0, seen = { count: 0 }): void {
  const prepared = prepareFilters(params.filters, prepareOptions(options));
  for (const f of prepared) {
    if (!OVERLAY_FILTERS.has(f.name)) continue;
    if (++seen.count > maxOverlays(options)) {
      fail('INVALID_PARAMS', `more than ${maxOverlays(options)} overlays`, `more than ${maxOverlays(options)} overlays`);
    }
    if (f.name !== 'image') continue;
    if (depth + 1 > maxDepth(options)) {
      fail('INVALID_PARAMS', `image() nested deeper than ${maxDepth(options)}`, `image() nested deeper than ${maxDepth(options)}`);
    }
    const raw = splitFilterArgs(params.filters[f.index]!.args)[0] ?? '';
    const nested = nestedParams(queryUnescape(raw) ?? raw, { width: 1, height: 1 });
    if (nested.image === '') fail('INVALID_PARAMS', 'image() path names no image', 'image: no image in the path');
    checkOverlays(nested, options, depth + 1, seen);
  }
}

/** The executor hooks that draw overlays for a request processed with `options` and `limits`. */
export function createOverlayHooks(options: ProcessOptions, limits: Limits): ExecuteHooks {
  return hooksFor({ options, limits, depth: 0, budget: { remaining: maxOverlays(options) } });
}

function hooksFor(ctx: OverlayContext): ExecuteHooks {
  return { overlay: (base, step, signal) => drawOverlay(base, step.overlay, ctx, signal) };
}

async function drawOverlay(base: RawImage, spec: OverlaySpec, ctx: OverlayContext, signal: AbortSignal | undefined): Promise<RawImage> {
  if (--ctx.budget.remaining < 0) {
    fail('INVALID_PARAMS', `more than ${maxOverlays(ctx.options)} overlays`, `more than ${maxOverlays(ctx.options)} overlays`);
  }
  const canvas = { width: base.width, height: base.height };
  switch (spec.kind) {
    case 'watermark': {
      const layer = await loadWatermark(spec, canvas, base.frames > 1, ctx, signal);
      return compositeLayer(base, layer, { x: spec.x, y: spec.y, alpha: spec.alpha, blend: 'normal' });
    }
    case 'image': {
      const layer = await renderNested(spec.path, canvas, ctx, signal);
      return compositeLayer(base, layer, spec);
    }
    case 'text': {
      const colour = spec.colour.kind === 'auto' ? averageColour(base) : spec.colour.colour;
      const layer = await renderText(spec, base.width, colour, ctx.limits);
      // imagor gives the base an alpha channel before drawing text, whether or not the text lands on it.
      return compositeLayer(toRgba(base), layer, spec);
    }
  }
}

function requireLoader(ctx: OverlayContext, what: string): NonNullable<ProcessOptions['loadImage']> {
  const load = ctx.options.loadImage;
  if (load === undefined) fail('INVALID_PARAMS', `${what}: no image loader`, `${what}: overlay images are not available here`);
  return load;
}

/**
 * imagor's watermark load (overlay.go loadOverlayImage): every frame when the base is animated, else the first;
 * fitted into w_ratio% x h_ratio% of the canvas (up or down) when both ratios are given, else only shrunk to the
 * size limits.
 */
async function loadWatermark(spec: WatermarkSpec, canvas: Size, animated: boolean, ctx: OverlayContext, signal: AbortSignal | undefined): Promise<Layer> {
  const bytes = await requireLoader(ctx, 'watermark')(spec.image, signal);
  let box: { width: number; height: number; enlarge: boolean } = { width: ctx.limits.maxWidth, height: ctx.limits.maxHeight, enlarge: false };
  if (spec.ratio !== undefined) {
    const side = (r: number | 'none', full: number): number => (r === 'none' ? full : Math.trunc((full * r) / 100));
    const w = side(spec.ratio.width, canvas.width);
    const h = side(spec.ratio.height, canvas.height);
    // Ratios above 100% may enlarge it, but never past the size limits.
    if (w > 0 && h > 0) box = { width: Math.min(w, ctx.limits.maxWidth), height: Math.min(h, ctx.limits.maxHeight), enlarge: true };
  }
  return decodeLayer(bytes, box, animated, ctx.limits);
}

/** Decodes an overlay image, checked like a main image, fitted inside `box`, as RGBA frames. */
export async function decodeLayer(
  bytes: Uint8Array,
  box: { readonly width: number; readonly height: number; readonly enlarge: boolean },
  animated: boolean,
  limits: Limits,
): Promise<Layer> {
  const info = await probeImage(bytes, limits);
  const frames = animated && info.animated ? capFrames(info.pages, limits) : 1;
  checkLimits({ width: info.width, height: info.height, frames }, limits, 'overlay source');
  let s = vips(bytes, {
    failOn: 'error',
    limitInputPixels: info.width * info.height * frames,
    autoOrient: frames === 1,
    ...(frames > 1 ? { pages: frames } : {}),
  });
  s = s.resize(box.width, box.height, { fit: 'inside', withoutEnlargement: !box.enlarge });
  const { data, info: out } = await runVips(s.toColourspace('srgb').ensureAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }), 'overlay');
  const height = out.height / frames;
  checkLimits({ width: out.width, height, frames }, limits, 'overlay');
  return toLayer({ data, width: out.width, height, frames, channels: out.channels as 1 | 2 | 3 | 4 });
}

/**
 * image(): the nested path parsed (after `full` sizes take the canvas size), its image loaded through the same
 * loader, planned and executed with the same options and limits, one level deeper.
 */
async function renderNested(path: string, canvas: Size, ctx: OverlayContext, signal: AbortSignal | undefined): Promise<Layer> {
  if (ctx.depth + 1 > maxDepth(ctx.options)) {
    fail('INVALID_PARAMS', `image() nested deeper than ${maxDepth(ctx.options)}`, `image() nested deeper than ${maxDepth(ctx.options)}`);
  }
  const params = nestedParams(path, canvas);
  if (params.image === '') fail('INVALID_PARAMS', 'image() path names no image', 'image: no image in the path');
  const o = ctx.options;
  prepareFilters(params.filters, prepareOptions(o));
  const colour = isColorImage(params.image);
  const input = colour ? EMPTY : await requireLoader(ctx, 'image')(params.image, signal);
  const source = colour ? colourSource(params.image, params.width, params.height, ctx.limits) : await probeImage(input, ctx.limits);
  // A nested image is never encoded, so the Accept header has no say in it.
  const plan = buildPlan(params, source, { ...o, accept: undefined, autoAvif: false, autoWebp: false, autoJpeg: false, limits: ctx.limits });
  const raw = await executePlanToPixels(plan, input, signal, hooksFor({ ...ctx, depth: ctx.depth + 1 }));
  return toLayer(raw);
}


/** Frames as RGBA: grey becomes RGB, a missing alpha channel becomes opaque. */
export function toRgba(raw: RawImage): RawImage {
  if (raw.channels === 4) return raw;
  const n = raw.width * raw.height * raw.frames;
  const out = Buffer.alloc(n * 4);
  const ch = raw.channels;
  for (let i = 0; i < n; i++) {
    const at = i * ch;
    const grey = ch <= 2;
    out[i * 4] = raw.data[at]!;
    out[i * 4 + 1] = raw.data[grey ? at : at + 1]!;
    out[i * 4 + 2] = raw.data[grey ? at : at + 2]!;
    out[i * 4 + 3] = ch === 2 ? raw.data[at + 1]! : 255;
  }
  return { ...raw, data: out, channels: 4 };
}

function toLayer(raw: RawImage): Layer {
  const rgba = toRgba(raw);
  return { data: rgba.data, width: rgba.width, height: rgba.height, frames: rgba.frames };
}

/** imagor's average colour of the first frame, transparency over white (getColor `auto`). */
function averageColour(raw: RawImage): Rgba {
  const rgba = toRgba(raw);
  const n = rgba.width * rgba.height;
  const sums = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const a = rgba.data[i * 4 + 3]! / 255;
    for (let c = 0; c < 3; c++) sums[c]! += rgba.data[i * 4 + c]! * a + 255 * (1 - a);
  }
  const mean = (c: number): number => Math.round(sums[c]! / Math.max(1, n));
  return { r: mean(0), g: mean(1), b: mean(2), alpha: 1 };
}

/** The layer with its alpha multiplied by `factor` (imagor's `Linear([1,1,1,1 - alpha/100])`). */
function fade(layer: Layer, factor: number): Layer {
  const data = Buffer.from(layer.data);
  const f = Math.max(0, factor);
  for (let i = 3; i < data.length; i += 4) data[i] = Math.min(255, Math.round(data[i]! * f));
  return { ...layer, data };
}

/**
 * `across` x `down` copies of every frame side by side (libvips embed with extend repeat), cut at `maxWidth` x
 * `maxHeight`: a repeated axis starts at 0, so nothing past the canvas would be seen.
 */
function tile(layer: Layer, across: number, down: number, maxWidth: number, maxHeight: number): Layer {
  const width = Math.min(layer.width * across, maxWidth);
  const height = Math.min(layer.height * down, maxHeight);
  const out = Buffer.alloc(width * height * layer.frames * 4);
  const row = layer.width * 4;
  for (let f = 0; f < layer.frames; f++) {
    for (let y = 0; y < height; y++) {
      const src = (f * layer.height + (y % layer.height)) * row;
      const dst = (f * height + y) * width * 4;
      for (let a = 0, x = 0; x < width; a++, x += layer.width) {
        const bytes = Math.min(layer.width, width - x) * 4;
        layer.data.copy(out, dst + a * row, src, src + bytes);
      }
    }
  }
  return { data: out, width, height, frames: layer.frames };
}

/** Frame `f` of the layer cut to a rectangle. */
function cut(layer: Layer, f: number, left: number, top: number, width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const src = ((f * layer.height + top + y) * layer.width + left) * 4;
    layer.data.copy(out, y * width * 4, src, src + width * 4);
  }
  return out;
}

export interface Placement {
  readonly x: Position;
  readonly y: Position;
  /** 0 (opaque) to 100 (invisible). */
  readonly alpha: number;
  readonly blend: BlendMode;
}

/**
 * Composites `layer` on every frame of `base` (imagor's compositeOverlay): frame i gets layer frame i modulo the
 * layer's frames. An overlay entirely off the canvas leaves the base as it is. The result is RGBA, as libvips
 * composite writes it.
 */
export async function compositeLayer(base: RawImage, layer: Layer, at: Placement): Promise<RawImage> {
  let over = at.alpha > 0 ? fade(layer, 1 - at.alpha / 100) : layer;
  const W = base.width;
  const H = base.height;
  const px = resolvePosition(at.x, W, over.width);
  const py = resolvePosition(at.y, H, over.height);
  if (px.repeat * py.repeat > 1) {
    over = tile(over, px.repeat, py.repeat, px.repeat > 1 ? W : over.width * px.repeat, py.repeat > 1 ? H : over.height * py.repeat);
  }
  const x = px.at;
  const y = py.at;
  if (x >= W || y >= H || x + over.width <= 0 || y + over.height <= 0) return base;
  const left = Math.max(0, -x);
  const top = Math.max(0, -y);
  const width = Math.min(over.width, W - x) - left;
  const height = Math.min(over.height, H - y) - top;
  if (width <= 0 || height <= 0) return base;

  const rgba = toRgba(base);
  const blend = BLEND_MODES[at.blend];
  const pieces = new Map<number, Buffer>();
  const piece = (frame: number): Buffer => {
    const f = frame % over.frames;
    let p = pieces.get(f);
    if (p === undefined) pieces.set(f, (p = cut(over, f, left, top, width, height)));
    return p;
  };
  const entry = (frame: number, topOffset: number): OverlayOptions => ({
    input: piece(frame),
    raw: { width, height, channels: 4 },
    left: Math.max(0, x),
    top: Math.max(0, y) + topOffset,
    blend,
  });
  const frameBytes = W * H * 4;
  if (blend === 'dest-in' || rgba.frames === 1) {
    // dest-in clears everything outside its overlay, so each frame is composited on its own.
    const parts: Buffer[] = [];
    for (let f = 0; f < rgba.frames; f++) {
      const frame = rgba.data.subarray(f * frameBytes, (f + 1) * frameBytes);
      parts.push(
        await runVips(vips(frame, { raw: { width: W, height: H, channels: 4 }, limitInputPixels: false }).composite([entry(f, 0)]).raw().toBuffer(), 'overlay'),
      );
    }
    return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts), width: W, height: H, frames: rgba.frames, channels: 4 };
  }
  const entries = Array.from({ length: rgba.frames }, (_, f) => entry(f, f * H));
  const data = await runVips(
    vips(rgba.data, { raw: { width: W, height: H * rgba.frames, channels: 4 }, limitInputPixels: false }).composite(entries).raw().toBuffer(),
    'overlay',
  );
  return { data, width: W, height: H, frames: rgba.frames, channels: 4 };
}
