/**
 * Runs a Plan with sharp: the only module that builds sharp pipelines. Consecutive steps share one pipeline
 * while they fit sharp's fixed order (rotate, extract, resize, flip, extract, extend; flatten commutes), so the
 * source is decoded once, with shrink-on-load when the plan starts with a downscale. A new pipeline starts from
 * the raw pixels of the previous one only when a step needs pixels measured first (trim, fill(auto) and
 * background_color(auto), fill(blur)), when frames must be turned or flipped one by one (orient or a vertical
 * flip on an animation), for a pixel effect (process/apply-effect.ts runs it on the raw pixels), or when a step
 * would run out of sharp's order: a second resize or smart crop, anything after a border, a resize after a
 * post-resize crop, a rotation that is not first, a flip after a rotation combined with a crop or resize.
 * max_bytes re-encodes through process/max-bytes.ts.
 */
import type { Sharp, SharpOptions } from 'sharp';
import { isVipsTimeoutError, runVips, vips } from './vips.js';
import { PixgateError } from '../respond/errors.js';
import { completePlan, type OutputSpec, type Plan } from './plan.js';
import { applyEffect } from './apply-effect.js';
import { decodeBmpInSteps } from './bmp.js';
import { renderedSize } from './filters/density.js';
import { encodeWithinBytes } from './max-bytes.js';
import type { OutputFormat } from './negotiate.js';
import type { Rect } from './geometry.js';
import type { Edges, Paint, Rgba, Size, Step } from './steps.js';

export interface ProcessedImage {
  readonly data: Buffer;
  readonly format: OutputFormat;
  readonly contentType: string;
  /** Width and height of one frame. */
  readonly width: number;
  readonly height: number;
  readonly pages: number;
}

/** Decoded pixels, frames stacked vertically (libvips' "toilet roll"). */
export interface RawImage {
  readonly data: Buffer;
  readonly width: number;
  /** Height of one frame. */
  readonly height: number;
  readonly frames: number;
  readonly channels: 1 | 2 | 3 | 4;
}

type PipelineSource =
  | { readonly kind: 'input'; readonly data: Uint8Array }
  | { readonly kind: 'raw'; readonly raw: RawImage }
  | { readonly kind: 'create'; readonly size: Size; readonly colour: Rgba };

/** What one sharp pipeline will do, in sharp's own order (lib/resize.mjs, src/pipeline.cc). */
interface Recipe {
  rotate?: 90 | 180 | 270;
  preCrop?: Rect;
  resize?: { width: number; height: number; attention: boolean };
  /** Size entering sharp's post-resize stages (flip, crop of the resize, post-extract). */
  afterResize?: Size;
  flipH: boolean;
  flipV: boolean;
  postCrop?: Rect;
  extend?: { edges: Edges; background: Rgba };
  flatten?: Rgba;
}

/** Steps with paints already resolved to colours. */
type Primitive =
  | Extract<Step, { op: 'rotate' | 'crop' | 'resize' | 'smartcrop' | 'flip' }>
  | { readonly op: 'flatten'; readonly background: Rgba }
  | { readonly op: 'extend'; readonly edges: Edges; readonly background: Rgba };

class Pipeline {
  private recipe: Recipe = { flipH: false, flipV: false };

  constructor(
    readonly source: PipelineSource,
    private readonly load: { page: number; pages: number; autoOrient: boolean; limitPixels: number; density?: number | undefined } | undefined,
    public size: Size,
    public hasAlpha: boolean,
    readonly frames: number,
  ) {}

  get empty(): boolean {
    const r = this.recipe;
    return !r.rotate && !r.preCrop && !r.resize && !r.flipH && !r.flipV && !r.postCrop && !r.extend && !r.flatten;
  }

  /** Adds primitives as one unit if they all fit this pipeline's order; returns false (and changes nothing) if not. */
  tryAdd(prims: readonly Primitive[]): boolean {
    const saved = { recipe: structuredClone(this.recipe), size: this.size, hasAlpha: this.hasAlpha };
    for (const p of prims) {
      if (!this.addOne(p)) {
        this.recipe = saved.recipe;
        this.size = saved.size;
        this.hasAlpha = saved.hasAlpha;
        return false;
      }
    }
    return true;
  }

  private addOne(p: Primitive): boolean {
    const r = this.recipe;
    switch (p.op) {
      case 'rotate':
        // sharp rotates before anything else only as the first operation, and only single frames.
        if (!this.empty || this.frames > 1) return false;
        r.rotate = p.angle;
        if (p.angle !== 180) this.size = { width: this.size.height, height: this.size.width };
        return true;
      case 'flip': {
        if (r.extend) return false;
        let { horizontal, vertical } = p;
        if (r.rotate !== undefined) {
          // sharp flips before its rotation; a flip after a quarter turn is the other flip before it.
          if (r.preCrop || r.resize || r.postCrop) return false;
          if (r.rotate !== 180) [horizontal, vertical] = [vertical, horizontal];
        }
        if (r.postCrop && r.afterResize) {
          // sharp flips before its post-resize extract: mirror the crop already planned.
          r.postCrop = mirror(r.postCrop, r.afterResize, horizontal, vertical);
        }
        r.flipH = r.flipH !== horizontal;
        r.flipV = r.flipV !== vertical;
        return true;
      }
      case 'crop': {
        if (r.extend) return false;
        if (!r.resize) {
          // Runs before sharp's post-resize flips: give the rectangle in unflipped coordinates. After a
          // rotation sharp flips first (its rotate-before mode), so the rectangle stands as it is.
          const c = r.rotate === undefined ? mirror(p, this.size, r.flipH, r.flipV) : rect(p);
          r.preCrop = r.preCrop ? { ...c, left: r.preCrop.left + c.left, top: r.preCrop.top + c.top } : c;
        } else {
          // After the resize and sharp's flips: coordinates as they are.
          const c = rect(p);
          r.postCrop = r.postCrop ? { ...c, left: r.postCrop.left + c.left, top: r.postCrop.top + c.top } : c;
        }
        this.size = { width: p.width, height: p.height };
        return true;
      }
      case 'resize':
        if (r.resize || r.postCrop || r.extend) return false;
        r.resize = { width: p.width, height: p.height, attention: false };
        r.afterResize = this.size = { width: p.width, height: p.height };
        return true;
      case 'smartcrop':
        // libvips attention is sharp's resize strategy: merge with a plain resize, or add one at scale 1.
        if (this.frames > 1 || r.postCrop || r.extend || (r.resize && r.resize.attention)) return false;
        r.resize = { width: p.width, height: p.height, attention: true };
        r.afterResize = this.size = { width: p.width, height: p.height };
        return true;
      case 'flatten':
        // sharp flattens before resizing, which commutes with everything but an added border.
        if (r.extend) return false;
        if (!this.hasAlpha) return true;
        r.flatten = p.background;
        this.hasAlpha = false;
        return true;
      case 'extend':
        if (r.extend) return false;
        r.extend = { edges: p.edges, background: p.background };
        this.size = {
          width: this.size.width + p.edges.left + p.edges.right,
          height: this.size.height + p.edges.top + p.edges.bottom,
        };
        if (p.background.alpha < 1) this.hasAlpha = true;
        return true;
    }
  }

  /** The sharp instance for this recipe; output options are added by the caller. */
  build(): Sharp {
    const r = this.recipe;
    let s: Sharp;
    const src = this.source;
    if (src.kind === 'input') {
      const load = this.load!;
      s = vips(src.data, {
        // Corrupt or truncated pixel data fails (406) instead of a half-grey image; warnings such as trailing
        // bytes or odd metadata are tolerated.
        failOn: 'error',
        // Second guard behind the probe: the decoded size must be what the header promised.
        limitInputPixels: load.limitPixels,
        sequentialRead: true,
        autoOrient: load.autoOrient,
        ...(load.pages > 1 || load.page > 0 ? { pages: load.pages, page: load.page } : {}),
        ...(load.density !== undefined ? { density: load.density } : {}),
      });
    } else if (src.kind === 'raw') {
      const raw = src.raw;
      s = vips(raw.data, {
        raw: {
          width: raw.width,
          height: raw.height * raw.frames,
          channels: raw.channels,
          ...(raw.frames > 1 ? { pageHeight: raw.height } : {}),
        },
        // All pages: sharp then crops, resizes and extends each frame rather than the whole stack.
        ...(raw.frames > 1 ? { pages: -1 } : {}),
        limitInputPixels: false,
      });
    } else {
      const c = src.colour;
      s = vips({
        create: {
          width: src.size.width,
          height: src.size.height,
          channels: c.alpha < 1 ? 4 : 3,
          background: { r: c.r, g: c.g, b: c.b, alpha: c.alpha },
        },
      });
    }
    // Call order matters to sharp: rotate first so that extract/resize mark it as "before".
    if (r.rotate !== undefined) s = s.rotate(r.rotate);
    if (r.preCrop) s = s.extract(r.preCrop);
    if (r.resize) {
      s = s.resize(r.resize.width, r.resize.height, r.resize.attention ? { fit: 'cover', position: 'attention' } : { fit: 'fill' });
    }
    if (r.flipV) s = s.flip();
    if (r.flipH) s = s.flop();
    if (r.postCrop) s = s.extract(r.postCrop);
    if (r.extend) s = s.extend({ ...r.extend.edges, background: sharpColour(r.extend.background) });
    if (r.flatten) s = s.flatten({ background: sharpColour(r.flatten) });
    return s;
  }
}

const rect = (c: Rect): Rect => ({ left: c.left, top: c.top, width: c.width, height: c.height });

/** The rectangle that holds the same pixels once the image is flipped. */
function mirror(c: Rect, size: Size, horizontal: boolean, vertical: boolean): Rect {
  return {
    left: horizontal ? size.width - c.left - c.width : c.left,
    top: vertical ? size.height - c.top - c.height : c.top,
    width: c.width,
    height: c.height,
  };
}

const sharpColour = (c: Rgba): { r: number; g: number; b: number; alpha: number } => ({ r: c.r, g: c.g, b: c.b, alpha: c.alpha });

/** imagor's embed as primitives: flatten (optional), crop of what stays visible, borders. */
function embedPrimitives(step: Extract<Step, { op: 'embed' }>, colour: Rgba, size: Size, hasAlpha: boolean): Primitive[] {
  const out: Primitive[] = [];
  if (step.flatten && hasAlpha && colour.alpha >= 1) out.push({ op: 'flatten', background: colour });
  const x0 = Math.max(0, -step.left);
  const y0 = Math.max(0, -step.top);
  const x1 = Math.min(size.width, step.width - step.left);
  const y1 = Math.min(size.height, step.height - step.top);
  if (x1 <= x0 || y1 <= y0) {
    // The image falls outside the canvas: keep one pixel and paint over it, which is what remains visible.
    out.push({ op: 'crop', left: 0, top: 0, width: 1, height: 1 });
    out.push({ op: 'extend', edges: { top: 0, left: 0, right: step.width - 1, bottom: step.height - 1 }, background: colour });
    return out;
  }
  if (x0 > 0 || y0 > 0 || x1 < size.width || y1 < size.height) {
    out.push({ op: 'crop', left: x0, top: y0, width: x1 - x0, height: y1 - y0 });
  }
  const left = Math.max(0, step.left);
  const top = Math.max(0, step.top);
  const edges = { left, top, right: step.width - left - (x1 - x0), bottom: step.height - top - (y1 - y0) };
  if (edges.left > 0 || edges.top > 0 || edges.right > 0 || edges.bottom > 0) out.push({ op: 'extend', edges, background: colour });
  return out;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    // A deadline's own reason is a DOMException TimeoutError: the client must see imagor's 408, not a 500.
    const reason: unknown = signal.reason;
    throw reason instanceof PixgateError ? reason : new PixgateError('REQUEST_TIMEOUT', { detail: 'processing aborted', cause: reason });
  }
}

/** libvips failures are the image's fault (imagor answers them with 406); our own parameter bugs stay 500s. */

/**
 * Runs a pipeline to raw pixels. The size comes from our own bookkeeping: sharp's `info` reports the size of a
 * post-resize extract even when borders were added after it.
 */
async function materialize(p: Pipeline): Promise<RawImage> {
  const { data, info } = await runVips(p.build().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
  const channels = info.channels as 1 | 2 | 3 | 4;
  const raw = { data, width: p.size.width, height: p.size.height, frames: p.frames, channels };
  if (data.length !== raw.width * raw.height * raw.frames * channels) {
    throw new Error(`raw size ${data.length} is not ${raw.width}x${raw.height}x${raw.frames}x${channels}`);
  }
  return raw;
}

const fromRaw = (raw: RawImage): Pipeline =>
  new Pipeline({ kind: 'raw', raw }, undefined, { width: raw.width, height: raw.height }, raw.channels % 2 === 0, raw.frames);

const rawInput = (raw: RawImage, frames = raw.frames): SharpOptions => ({
  raw: { width: raw.width, height: raw.height * frames, channels: raw.channels, ...(frames > 1 ? { pageHeight: raw.height } : {}) },
  limitInputPixels: false,
});

/** Rotates every frame on its own (sharp cannot turn a multi-frame image by 90 degrees). */
async function rotateFrames(raw: RawImage, angle: 90 | 180 | 270): Promise<RawImage> {
  const frameBytes = raw.width * raw.height * raw.channels;
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.frames; i++) {
    const frame = { ...raw, data: raw.data.subarray(i * frameBytes, (i + 1) * frameBytes), frames: 1 };
    parts.push(await runVips(vips(frame.data, rawInput(frame, 1)).rotate(angle).raw().toBuffer()));
  }
  const size = angle === 180 ? { width: raw.width, height: raw.height } : { width: raw.height, height: raw.width };
  return { ...raw, ...size, data: Buffer.concat(parts) };
}

/**
 * Flips every frame on its own: sharp flips a multi-frame image as one tall stack, which would also reverse
 * the order of the frames.
 */
function flipFrames(raw: RawImage, horizontal: boolean, vertical: boolean): RawImage {
  const row = raw.width * raw.channels;
  const out = Buffer.alloc(raw.data.length);
  for (let f = 0; f < raw.frames; f++) {
    for (let y = 0; y < raw.height; y++) {
      const from = (f * raw.height + y) * row;
      const to = (f * raw.height + (vertical ? raw.height - 1 - y : y)) * row;
      if (!horizontal) {
        raw.data.copy(out, to, from, from + row);
        continue;
      }
      for (let x = 0; x < raw.width; x++) {
        raw.data.copy(out, to + (raw.width - 1 - x) * raw.channels, from + x * raw.channels, from + (x + 1) * raw.channels);
      }
    }
  }
  return { ...raw, data: out };
}

/**
 * imagor's trim measurement (process.go findTrim): transparency flattened onto magenta, the background taken
 * from the top-left or bottom-right pixel, libvips find_trim with the tolerance as threshold.
 */
async function measureTrim(raw: RawImage, by: 'top-left' | 'bottom-right', tolerance: number): Promise<Rect | null> {
  if (raw.frames > 1) {
    // An animation keeps what any frame shows: the union of the frames' boxes (imagor's trim fails on animations).
    const frameBytes = raw.width * raw.height * raw.channels;
    let box: { l: number; t: number; r: number; b: number } | undefined;
    for (let i = 0; i < raw.frames; i++) {
      const f = await measureTrim({ ...raw, frames: 1, data: raw.data.subarray(i * frameBytes, (i + 1) * frameBytes) }, by, tolerance);
      if (f === null) continue;
      box = box === undefined ? { l: f.left, t: f.top, r: f.left + f.width, b: f.top + f.height } : {
        l: Math.min(box.l, f.left), t: Math.min(box.t, f.top), r: Math.max(box.r, f.left + f.width), b: Math.max(box.b, f.top + f.height),
      };
    }
    return box === undefined ? null : { left: box.l, top: box.t, width: box.r - box.l, height: box.b - box.t };
  }
  if (raw.width < 3 && raw.height < 3) return null;
  let flat = raw;
  if (raw.channels === 2 || raw.channels === 4) {
    const data = await runVips(vips(raw.data, rawInput(raw)).flatten({ background: { r: 255, g: 0, b: 255 } }).raw().toBuffer());
    flat = { ...raw, data, channels: (raw.channels - 1) as 1 | 3 };
  }
  const x = by === 'bottom-right' ? flat.width - 1 : 0;
  const y = by === 'bottom-right' ? flat.height - 1 : 0;
  const at = (y * flat.width + x) * flat.channels;
  const px = flat.data.subarray(at, at + flat.channels);
  const background = flat.channels === 1 ? { r: px[0]!, g: px[0]!, b: px[0]! } : { r: px[0]!, g: px[1]!, b: px[2]! };
  try {
    const { info } = await vips(flat.data, rawInput(flat)).trim({ background, threshold: tolerance }).raw().toBuffer({ resolveWithObject: true });
    return { left: -(info.trimOffsetLeft ?? 0), top: -(info.trimOffsetTop ?? 0), width: info.width, height: info.height };
  } catch (err) {
    if (isVipsTimeoutError(err)) throw err;
    // imagor keeps the image untrimmed when find_trim fails.
    return null;
  }
}

/**
 * imagor's average colour (avgColorRGB): a thumbnail of at most 64x64, transparency over white, mean of each
 * channel. (sharp's stats() reads the input, not the pipeline, so the mean is taken here.)
 */
async function measureAverage(raw: RawImage): Promise<Rgba> {
  const first = { ...raw, frames: 1, data: raw.data.subarray(0, raw.width * raw.height * raw.channels) };
  const { data, info } = await runVips(
    vips(first.data, rawInput(first, 1))
      .resize(64, 64, { fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const ch = info.channels;
  const colour = ch >= 3 ? 3 : 1;
  const sums = [0, 0, 0];
  const n = info.width * info.height;
  for (let i = 0; i < n; i++) {
    const a = ch === 2 || ch === 4 ? data[i * ch + ch - 1]! / 255 : 1;
    for (let c = 0; c < 3; c++) sums[c]! += data[i * ch + Math.min(c, colour - 1)]! * a + 255 * (1 - a);
  }
  const mean = (c: number): number => Math.round(sums[c]! / n);
  return { r: mean(0), g: mean(1), b: mean(2), alpha: 1 };
}

/** imagor's fill(blur): the image on a copy of itself stretched to the canvas and blurred, each frame on its own. */
async function blurBackdrop(raw: RawImage, step: Extract<Step, { op: 'embed' }>, sigma: number): Promise<RawImage> {
  if (raw.frames > 1) {
    const frameBytes = raw.width * raw.height * raw.channels;
    const parts: RawImage[] = [];
    for (let i = 0; i < raw.frames; i++) {
      parts.push(await blurBackdrop({ ...raw, frames: 1, data: raw.data.subarray(i * frameBytes, (i + 1) * frameBytes) }, step, sigma));
    }
    return { ...parts[0]!, frames: raw.frames, data: Buffer.concat(parts.map((f) => f.data)) };
  }
  const backdrop = await runVips(
    vips(raw.data, rawInput(raw)).resize(step.width, step.height, { fit: 'fill' }).blur(sigma).raw().toBuffer(),
  );
  const x0 = Math.max(0, -step.left);
  const y0 = Math.max(0, -step.top);
  const w = Math.min(raw.width, step.width - step.left) - x0;
  const h = Math.min(raw.height, step.height - step.top) - y0;
  if (w <= 0 || h <= 0) return { ...raw, data: backdrop, width: step.width, height: step.height };
  const visible =
    x0 === 0 && y0 === 0 && w === raw.width && h === raw.height
      ? raw.data
      : await runVips(vips(raw.data, rawInput(raw)).extract({ left: x0, top: y0, width: w, height: h }).raw().toBuffer());
  let s = vips(backdrop, rawInput({ ...raw, width: step.width, height: step.height })).composite([
    {
      input: visible,
      raw: { width: w, height: h, channels: raw.channels },
      left: Math.max(0, step.left),
      top: Math.max(0, step.top),
    },
  ]);
  if (raw.channels % 2 === 1) s = s.removeAlpha();
  const { data, info } = await runVips(s.raw().toBuffer({ resolveWithObject: true }));
  return { data, width: info.width, height: info.height, frames: 1, channels: info.channels as 1 | 2 | 3 | 4 };
}

function firstPipeline(plan: Plan, input: Uint8Array): Pipeline {
  const { source, load } = plan;
  if (source.format === 'color') {
    const colour = source.colour ?? { r: 0, g: 0, b: 0, alpha: 1 };
    const size = { width: source.width, height: source.height };
    return new Pipeline({ kind: 'create', size, colour }, undefined, size, colour.alpha < 1, 1);
  }
  const decoded = renderedSize({ width: source.width, height: source.height }, load.density);
  const size = load.autoOrient && source.orientation > 4 ? { width: decoded.height, height: decoded.width } : decoded;
  return new Pipeline(
    { kind: 'input', data: input },
    {
      page: load.page,
      pages: load.pages,
      autoOrient: load.autoOrient,
      limitPixels: decoded.width * decoded.height * load.pages,
      density: load.density,
    },
    size,
    source.hasAlpha,
    load.pages,
  );
}

/**
 * A BMP source (sharp's libvips has no BMP loader): decoded by process/bmp.ts to raw pixels, never larger than
 * the probe saw, pausing between steps so that the event loop serves other requests and a deadline can stop it.
 */
async function bmpPipeline(plan: Plan, input: Uint8Array, signal: AbortSignal | undefined): Promise<Pipeline> {
  const { width, height } = plan.source;
  const steps = decodeBmpInSteps(input, { maxWidth: width, maxHeight: height, maxResolution: width * height, maxFrames: 1 });
  for (;;) {
    const step = steps.next();
    if (step.done) {
      const bmp = step.value;
      const data = Buffer.from(bmp.data.buffer, bmp.data.byteOffset, bmp.data.byteLength);
      return fromRaw({ data, width: bmp.width, height: bmp.height, frames: 1, channels: bmp.channels });
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
  }
}

/** Work the executor hands back to its caller: overlays need loaders and limits that it does not have. */
export interface ExecuteHooks {
  /** Draws an overlay step on the decoded frames and returns the new pixels (same frame size and count). */
  readonly overlay?: ((base: RawImage, step: Extract<Step, { op: 'overlay' }>, signal: AbortSignal | undefined) => Promise<RawImage>) | undefined;
}

/** Runs one step, starting a new pipeline from raw pixels when it does not fit the current one. */
async function runStep(p: Pipeline, step: Step, hooks?: ExecuteHooks, signal?: AbortSignal): Promise<Pipeline> {
  if (step.op === 'overlay') {
    if (hooks?.overlay === undefined) throw new PixgateError('INVALID_PARAMS', { detail: 'overlay without an overlay runner', publicDetail: 'overlays are not available here' });
    return fromRaw(await hooks.overlay(await materialize(p), step, signal));
  }
  if (step.op === 'effect') return fromRaw(await applyEffect(await materialize(p), step.effect));
  if (step.op === 'rotate' && p.frames > 1) return fromRaw(await rotateFrames(await materialize(p), step.angle));
  if (step.op === 'flip' && step.vertical && p.frames > 1) return fromRaw(flipFrames(await materialize(p), step.horizontal, true));
  if (step.op === 'embed' && step.background.kind === 'blur') {
    return fromRaw(await blurBackdrop(await materialize(p), step, step.background.sigma));
  }
  let pipeline = p;
  let colour: Rgba | undefined;
  if ((step.op === 'flatten' || step.op === 'embed') && step.background.kind !== 'colour') {
    if (step.op === 'flatten' && !pipeline.hasAlpha) return pipeline;
    const raw = await materialize(pipeline);
    colour = await measureAverage(raw);
    pipeline = fromRaw(raw);
  }
  const prims = primitives(step, colour, pipeline);
  if (pipeline.tryAdd(prims)) return pipeline;
  const next = fromRaw(await materialize(pipeline));
  if (!next.tryAdd(primitives(step, colour, next))) throw new Error(`step ${step.op} does not fit an empty pipeline`);
  return next;
}

function primitives(step: Step, measured: Rgba | undefined, p: Pipeline): Primitive[] {
  const paint = (bg: Paint): Rgba => (bg.kind === 'colour' ? bg.colour : (measured ?? { r: 0, g: 0, b: 0, alpha: 1 }));
  switch (step.op) {
    case 'flatten':
      return [{ op: 'flatten', background: paint(step.background) }];
    case 'embed':
      return embedPrimitives(step, paint(step.background), p.size, p.hasAlpha);
    case 'overlay':
      throw new Error('overlay steps run on raw pixels');
    case 'effect':
      throw new Error('effect steps run on raw pixels');
    default:
      return [step];
  }
}

/** Output formats whose libvips writer stores an EXIF block (gifsave and tiffsave write none). */
const EXIF_WRITERS: ReadonlySet<OutputFormat> = new Set(['jpeg', 'png', 'webp', 'avif']);

/** Source metadata reaches the encoder only while the pixels come from the source's own pipeline. */
function keepsSourceMetadata(pipeline: Pipeline): boolean {
  return pipeline.source.kind === 'input';
}

/** Whether the encoded output carries the source's EXIF: kept by the plan and the pipeline, and storable. */
function carriesExif(out: OutputSpec, pipeline: Pipeline): boolean {
  return keepsSourceMetadata(pipeline) && out.keep.exif && EXIF_WRITERS.has(out.format);
}

function encode(s: Sharp, out: OutputSpec, keepMetadata: boolean): Sharp {
  if (keepMetadata) {
    if (out.keep.exif && out.keep.icc && out.keep.xmp) s = s.keepMetadata();
    else {
      if (out.keep.exif) s = s.keepExif();
      if (out.keep.icc) s = s.keepIccProfile();
      if (out.keep.xmp) s = s.keepXmp();
    }
  }
  const knobs = out.encoder;
  if (knobs.profile !== undefined) s = s.withIccProfile(knobs.profile);
  const anim = out.animated ? { loop: out.loop, delay: out.delay !== undefined ? [...out.delay] : undefined } : {};
  switch (out.format) {
    case 'jpeg':
      return s.jpeg({
        quality: out.quality,
        progressive: out.mozjpeg,
        mozjpeg: out.mozjpeg,
        ...(out.mozjpeg ? {} : { chromaSubsampling: out.chromaSubsampling ?? '4:2:0' }),
      });
    case 'png':
      if (knobs.sixteenBit) s = s.toColourspace('rgb16');
      // sharp's PNG quality turns palette mode on, so it is passed only with palette() (imagor's Q steers libimagequant).
      return s.png({
        ...(knobs.palette ? { palette: true, ...(out.quality > 0 ? { quality: out.quality } : {}), ...(knobs.colours ? { colours: knobs.colours } : {}) } : {}),
        ...(knobs.compression !== undefined ? { compressionLevel: knobs.compression } : {}),
      });
    case 'webp':
      return s.webp({ quality: out.quality, lossless: out.lossless, effort: out.effort ?? 4, ...anim });
    case 'avif':
      return s.avif({
        quality: out.quality,
        lossless: out.lossless,
        effort: out.effort ?? 4,
        chromaSubsampling: out.chromaSubsampling ?? '4:2:0',
      });
    case 'gif':
      return s.gif({ ...anim });
    case 'tiff':
      // libvips' tiffsave default (imagor passes only Q): no compression.
      return s.tiff({ quality: out.quality, compression: 'none' });
  }
}

/**
 * Executes the plan on the source bytes (ignored for `color:` images). Checks `signal` between steps and
 * pipelines and throws its reason when aborted. Metadata (EXIF, ICC, XMP) is carried over as the plan says when
 * the output comes straight from the source's pipeline; after a restart from raw pixels the image has been
 * converted to sRGB and carries none.
 */
export async function executePlan(plan: Plan, input: Uint8Array, signal?: AbortSignal, hooks?: ExecuteHooks): Promise<ProcessedImage> {
  const { pipeline, plan: current } = await runSteps(plan, input, signal, hooks);
  const out = current.output;
  const fromSource = keepsSourceMetadata(pipeline);
  const data = await encodeWithinBytes(
    { quality: out.quality, maxBytes: out.encoder.maxBytes, retryFrom: out.encoder.retryFrom },
    (quality) => runVips(encode(pipeline.build(), { ...out, quality }, fromSource).toBuffer()),
    () => throwIfAborted(signal),
  );
  // GIF and WebP encoders merge identical consecutive frames: count what was written.
  const pages = out.animated && pipeline.frames > 1 ? ((await vips(data).metadata()).pages ?? pipeline.frames) : 1;
  return { data, format: out.format, contentType: out.contentType, width: pipeline.size.width, height: pipeline.size.height, pages };
}

/** Decoded output frames, and what executePlan would have written besides them. */
export interface ExecutedPixels extends RawImage {
  /** executePlan's output would carry the source's EXIF (the meta endpoint lists it only then). */
  readonly exif: boolean;
}

/** Executes the plan as executePlan does, but hands back the decoded frames instead of encoding them. */
export async function executePlanToPixels(plan: Plan, input: Uint8Array, signal?: AbortSignal, hooks?: ExecuteHooks): Promise<ExecutedPixels> {
  const { pipeline, plan: current } = await runSteps(plan, input, signal, hooks);
  return { ...(await materialize(pipeline)), exif: carriesExif(current.output, pipeline) };
}

async function runSteps(plan: Plan, input: Uint8Array, signal: AbortSignal | undefined, hooks: ExecuteHooks | undefined): Promise<{ pipeline: Pipeline; plan: Plan }> {
  throwIfAborted(signal);
  let current = plan;
  let pipeline = current.source.format === 'bmp' ? await bmpPipeline(current, input, signal) : firstPipeline(current, input);
  let i = 0;
  for (;;) {
    for (; i < current.steps.length; i++) {
      throwIfAborted(signal);
      pipeline = await runStep(pipeline, current.steps[i]!, hooks, signal);
    }
    const pending = current.pending;
    if (pending === undefined) break;
    throwIfAborted(signal);
    const raw = await materialize(pipeline);
    const trim = await measureTrim(raw, pending.by, pending.tolerance);
    current = completePlan(current, { trim });
    pipeline = fromRaw(raw);
  }
  throwIfAborted(signal);
  return { pipeline, plan: current };
}
