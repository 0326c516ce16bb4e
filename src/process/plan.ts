/**
 * buildPlan: imagor params + what the probe read from the header -> a Plan (what to decode, ordered Steps, the
 * output format and encoder options), checked against the limits before anything is decoded. Pure data in,
 * data out; process/execute.ts is the only code that turns a plan into pixels.
 */
import type { ImagorParams, TrimBy } from '../parse/imagor-params.js';
import { capFrames, checkLimits, type Limits } from '../policy/limits.js';
import { defaultFilterRegistry, prepareFilters, type FilterRegistry } from './filters/registry.js';
import { createCollectedOptions, type PixelState } from './filters/types.js';
import { orientedSize, planGeometry, type LoadPath, type Rect } from './geometry.js';
import { CONTENT_TYPES, chooseOutputFormat, resolveOutputFormat, type FormatChoice, type OutputFormat } from './negotiate.js';
import { alphaAfter, sizeAfter, type Size, type SourceInfo, type Step } from './steps.js';

export interface PlanOptions {
  readonly limits: Limits;
  /** The request's Accept header, for IMAGOR_AUTO_WEBP / _AVIF / _JPEG. */
  readonly accept?: string | undefined;
  readonly autoWebp?: boolean | undefined;
  readonly autoAvif?: boolean | undefined;
  readonly autoJpeg?: boolean | undefined;
  /** imagor's behaviour for unknown filters and bad arguments: ignore them instead of INVALID_PARAMS. */
  readonly lenientFilters?: boolean | undefined;
  /** VIPS_DISABLE_FILTERS. */
  readonly disabledFilters?: readonly string[] | undefined;
  /** VIPS_MAX_FILTER_OPS: pixel filters at or beyond this index in the URL are skipped; <= 0 = all. */
  readonly maxFilterOps?: number | undefined;
  /** VIPS_DISABLE_BLUR: fill(blur) paints black, as imagor does. */
  readonly disableBlur?: boolean | undefined;
  /** VIPS_AVIF_SPEED (0-9, default 8): AVIF effort is 9 - speed. */
  readonly avifSpeed?: number | undefined;
  /** VIPS_MOZJPEG: imagor's MozJPEG export (progressive, trellis, quant table 3, metadata stripped). */
  readonly mozjpeg?: boolean | undefined;
  /** VIPS_STRIP_METADATA / VIPS_STRIP_COLOR_PROFILE as defaults for every image. */
  readonly stripMetadata?: boolean | undefined;
  readonly stripIcc?: boolean | undefined;
  readonly registry?: FilterRegistry | undefined;
}

/** What the decoder reads. */
export interface LoadSpec {
  /** 0-based first frame. */
  readonly page: number;
  /** Frames decoded (1 for a still image or a single chosen frame). */
  readonly pages: number;
  /** Apply the EXIF orientation while decoding (off for animations, whose frames cannot be turned one by one). */
  readonly autoOrient: boolean;
  /** The first step is a downscale the decoder can take on (JPEG DCT scaling, WebP and SVG scale-on-load). */
  readonly shrinkOnLoad: boolean;
}

export interface OutputSpec {
  readonly format: OutputFormat;
  readonly contentType: string;
  /** Encoder quality 1-100; imagor's 0 ("encoder default") already resolved to libvips' defaults. */
  readonly quality: number;
  readonly lossless: boolean;
  /** Encoder effort: WebP 4 (imagor), AVIF 9 - VIPS_AVIF_SPEED. */
  readonly effort: number | undefined;
  /** JPEG/AVIF chroma subsampling; libvips' automatic mode subsamples below quality 90. */
  readonly chromaSubsampling: '4:2:0' | '4:4:4' | undefined;
  /** Baseline, non-mozjpeg JPEG unless VIPS_MOZJPEG. */
  readonly mozjpeg: boolean;
  /** Metadata copied from the source (imagor keeps everything unless stripped). */
  readonly keep: { readonly exif: boolean; readonly icc: boolean; readonly xmp: boolean };
  /** Frames are written as an animation. */
  readonly animated: boolean;
  readonly loop: number | undefined;
  readonly delay: readonly number[] | undefined;
}

/** A trim that must be measured on decoded pixels before the rest of the plan can be computed. */
export interface PendingTrim {
  readonly kind: 'trim';
  readonly by: TrimBy;
  /** imagor's tolerance; 0 reads as 1. */
  readonly tolerance: number;
  /** Number of steps to run before measuring; completePlan keeps them and appends the rest. */
  readonly after: number;
  readonly params: ImagorParams;
  readonly options: PlanOptions;
}

export interface Plan {
  readonly source: SourceInfo;
  readonly load: LoadSpec;
  readonly steps: readonly Step[];
  /** Set when a measurement must happen after `steps`; see completePlan. */
  readonly pending: PendingTrim | undefined;
  readonly output: OutputSpec;
  /** The output's frame size and frame count; undefined while a measurement is pending. */
  readonly size: { readonly width: number; readonly height: number; readonly pages: number } | undefined;
  /** The response depends on Accept: send `Vary: Accept`. */
  readonly vary: boolean;
  /** How the format was chosen (negotiation result), for logs. */
  readonly formatChoice: FormatChoice;
}

/** What the executor measured for a pending plan. */
export interface Measured {
  /** The trim box in pixels of the image at the measuring point; null when nothing can be trimmed. */
  readonly trim: Rect | null;
}

/** libvips' encoder defaults, which imagor relies on for quality(0) or no quality(). */
const DEFAULT_QUALITY: Readonly<Record<OutputFormat, number>> = { jpeg: 75, webp: 75, tiff: 75, avif: 50, png: 0, gif: 0 };

const clockwise = (counterClockwise: 90 | 180 | 270): 90 | 180 | 270 =>
  counterClockwise === 90 ? 270 : counterClockwise === 270 ? 90 : 180;

/**
 * Plans the processing of `source` for `params`. Throws INVALID_PARAMS for an unknown filter or a malformed
 * argument (unless lenient) and TOO_MANY_PIXELS when the decoded source, any step or the output would exceed
 * the limits. `measured` completes a plan whose trim was pending (use completePlan).
 */
export function buildPlan(params: ImagorParams, source: SourceInfo, options: PlanOptions, measured?: Measured): Plan {
  const limits = options.limits;
  const filters = prepareFilters(params.filters, {
    lenient: options.lenientFilters,
    disabled: options.disabledFilters,
    registry: options.registry ?? defaultFilterRegistry,
  });
  const collected = createCollectedOptions();
  for (const f of filters) f.collect(collected);

  const formatChoice = chooseOutputFormat({
    explicit: collected.format,
    fallback: collected.fallbackFormat,
    accept: options.accept,
    autoWebp: options.autoWebp,
    autoAvif: options.autoAvif,
    autoJpeg: options.autoJpeg,
  });

  // Frames: page(n > 1) picks one (clamped to the last, as imagor); otherwise all, capped by
  // VIPS_MAX_ANIMATION_FRAMES and max_frames(), or one when the output cannot animate.
  let page = 0;
  let frames = 1;
  if (source.animated) {
    if (collected.page !== undefined && collected.page > 1) {
      page = Math.min(collected.page, source.pages) - 1;
    } else {
      frames = capFrames(source.pages, limits);
      if (collected.maxFrames !== undefined) frames = Math.min(frames, collected.maxFrames);
      if (!resolveOutputFormat(formatChoice, source.format, frames > 1).animated) frames = 1;
    }
  }
  const resolved = resolveOutputFormat(formatChoice, source.format, frames > 1);

  const autoOrient = source.format !== 'color' && frames === 1 && source.orientation > 1;
  const start = autoOrient ? orientedSize(source.width, source.height, source.orientation) : { width: source.width, height: source.height };
  checkLimits({ ...start, frames }, limits, 'source');

  const steps: Step[] = [];
  let size: Size = start;
  let hasAlpha = source.hasAlpha;
  let rotated90 = false;
  const push = (step: Step): void => {
    steps.push(step);
    size = sizeAfter(step, size);
    hasAlpha = alphaAfter(step, hasAlpha);
    checkLimits({ ...size, frames }, limits, `step ${step.op}`);
  };

  // imagor turns only loaded images; generated color: images skip orient().
  if (collected.orient !== undefined && source.format !== 'color') push({ op: 'rotate', angle: clockwise(collected.orient) });

  const output = outputSpec(resolved.format, resolved.animated, collected, options, source, page, frames);
  const base = {
    source,
    load: { page, pages: frames, autoOrient, shrinkOnLoad: false },
    output,
    vary: formatChoice.vary,
    formatChoice,
  };

  // imagor measures trim on the decoded image and skips it on animations.
  const trimWanted = params.trim && frames === 1;
  if (trimWanted && measured === undefined) {
    return {
      ...base,
      steps,
      size: undefined,
      pending: {
        kind: 'trim',
        by: params.trimBy,
        tolerance: params.trimTolerance === 0 ? 1 : params.trimTolerance,
        after: steps.length,
        params,
        options,
      },
    };
  }

  const upscaleDefault = !(params.fitIn && !params.fullFitIn);
  const fullDecode = params.trim || params.vFlip || params.fullFitIn || params.adaptiveFitIn || collected.fullDecode.length > 0;
  const path: LoadPath = source.format === 'color' ? 'sized' : fullDecode ? 'full' : 'shrink';
  const geometry = planGeometry(
    {
      crop: { left: params.cropLeft, top: params.cropTop, right: params.cropRight, bottom: params.cropBottom },
      fitIn: params.fitIn,
      fullFitIn: params.fullFitIn,
      adaptiveFitIn: params.adaptiveFitIn,
      stretch: params.stretch || collected.stretch,
      width: params.width,
      height: params.height,
      // imagor passes upscale=false for generated color: images.
      upscale: source.format === 'color' ? false : (collected.upscale ?? upscaleDefault),
      hFlip: params.hFlip,
      vFlip: params.vFlip,
      hAlign: params.hAlign,
      vAlign: params.vAlign,
      smart: params.smart,
      path,
      animated: frames > 1,
      trim: trimWanted ? (measured?.trim ?? null) : undefined,
    },
    size,
    limits,
  );
  for (const step of geometry.steps) push(step);

  const maxOps = options.maxFilterOps ?? -1;
  for (const f of filters) {
    if (f.apply === undefined) continue;
    if (maxOps > 0 && f.index >= maxOps) break;
    const state: PixelState = {
      size,
      frames,
      hasAlpha,
      box: geometry.box,
      padding: { left: params.paddingLeft, top: params.paddingTop, right: params.paddingRight, bottom: params.paddingBottom },
      rotated90,
    };
    const result = f.apply(state);
    for (const step of result.steps) {
      if (step.op === 'embed' && step.background.kind === 'blur' && options.disableBlur === true) {
        push({ ...step, background: { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } } });
      } else {
        push(step);
      }
    }
    if (result.rotated90 === true) rotated90 = !rotated90;
  }

  const first = steps[0];
  const shrinkOnLoad =
    first?.op === 'resize' &&
    first.width < start.width &&
    first.height < start.height &&
    (source.format === 'jpeg' || source.format === 'webp' || source.format === 'svg');

  return {
    ...base,
    load: { ...base.load, shrinkOnLoad },
    steps,
    size: { width: size.width, height: size.height, pages: frames },
    pending: undefined,
  };
}

/** Completes a plan whose trim was pending, given the trim box measured after `plan.pending.after` steps. */
export function completePlan(plan: Plan, measured: Measured): Plan {
  if (plan.pending === undefined) return plan;
  return buildPlan(plan.pending.params, plan.source, plan.pending.options, measured);
}

function outputSpec(
  format: OutputFormat,
  animated: boolean,
  collected: ReturnType<typeof createCollectedOptions>,
  options: PlanOptions,
  source: SourceInfo,
  page: number,
  frames: number,
): OutputSpec {
  const mozjpeg = format === 'jpeg' && options.mozjpeg === true;
  const quality = collected.quality > 0 ? collected.quality : DEFAULT_QUALITY[format];
  const stripAll = collected.stripMetadata || options.stripMetadata === true || mozjpeg || source.format === 'color';
  const speed = Math.min(9, Math.max(0, Math.trunc(options.avifSpeed ?? 8)));
  return {
    format,
    contentType: CONTENT_TYPES[format],
    quality,
    lossless: collected.lossless && (format === 'webp' || format === 'avif'),
    effort: format === 'avif' ? 9 - speed : format === 'webp' ? 4 : undefined,
    chromaSubsampling: format === 'jpeg' || format === 'avif' ? (quality >= 90 ? '4:4:4' : '4:2:0') : undefined,
    mozjpeg,
    keep: {
      exif: !stripAll && !collected.stripExif,
      // A CMYK profile cannot describe the sRGB pixels we write, so it is never carried over.
      icc: !stripAll && !collected.stripIcc && options.stripIcc !== true && source.space !== 'cmyk',
      xmp: !stripAll,
    },
    animated,
    loop: animated ? source.loop : undefined,
    delay: animated && source.delay !== undefined ? source.delay.slice(page, page + frames) : undefined,
  };
}
