/**
 * buildPlan: imagor params + what the probe read from the header -> a Plan (what to decode, ordered Steps, the
 * output format and encoder options), checked against the limits before anything is decoded. Pure data in,
 * data out; process/execute.ts is the only code that turns a plan into pixels.
 */
import type { ImagorParams, TrimBy } from '../parse/imagor-params.js';
import { capFrames, checkLimits, type Limits } from '../policy/limits.js';
import { defaultFilterRegistry, prepareFilters, type FilterRegistry } from './filters/registry.js';
import { renderedSize } from './filters/density.js';
import { encoderKnobs, type EncoderKnobs } from './filters/encode.js';
import { focalPoint } from './filters/geometry-filters.js';
import { createCollectedOptions, type PixelState } from './filters/types.js';
import { checkStep, orientedSize, planGeometry, type LoadPath, type Rect } from './geometry.js';
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
  /**
   * VIPS_MAX_FILTER_OPS (<= 0 = no limit): more pixel filters than this is INVALID_PARAMS; in lenient mode
   * pixel filters at or beyond this index in the URL are skipped, as imagor does.
   */
  readonly maxFilterOps?: number | undefined;
  /** VIPS_DISABLE_BLUR: blur() and sharpen() are skipped and fill(blur) paints black, as imagor does. */
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
  /**
   * Apply the EXIF orientation while decoding (off for animations, whose frames cannot be turned one by one).
   * There is no shrink-on-load switch: sharp shrinks JPEG, WebP and SVG on load by itself when the pipeline's
   * resize allows it (test/integration/shrink-on-load.test.ts holds it to that).
   */
  readonly autoOrient: boolean;
  /** dpi(n) for an SVG source: render density; the source size is scaled by density / 72. */
  readonly density?: number | undefined;
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
  /** max_bytes, PNG knobs and to_colorspace. */
  readonly encoder: EncoderKnobs;
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
  /** `url`: the URL's trim/ segment, before the geometry; `filter`: a trim() filter, after it. */
  readonly stage: 'url' | 'filter';
  /** What was measured before this point. */
  readonly known: Measured | undefined;
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
  /** The boxes of the trim() filters measured so far, in URL order. */
  readonly filterTrims?: readonly (Rect | null)[] | undefined;
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
    disableBlur: options.disableBlur,
    maxOps: options.maxFilterOps,
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
  const density = source.format === 'svg' ? collected.dpi : undefined;
  const decoded = renderedSize({ width: source.width, height: source.height }, density);
  const start = autoOrient ? orientedSize(decoded.width, decoded.height, source.orientation) : decoded;
  checkLimits({ ...start, frames }, limits, 'source');

  const steps: Step[] = [];
  let size: Size = start;
  let hasAlpha = source.hasAlpha;
  let rotated90 = false;
  const push = (step: Step): void => {
    // Filter steps (crop(), proportion(), padding, a measured trim box) get the same guard as the URL geometry.
    checkStep(step, size);
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
    load: { page, pages: frames, autoOrient, ...(density !== undefined ? { density } : {}) },
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
        stage: 'url',
        known: undefined,
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
      focal: collected.focal.length > 0 ? focalPoint(collected.focal, size) : undefined,
    },
    size,
    limits,
  );
  for (const step of geometry.steps) push(step);

  const maxOps = options.maxFilterOps ?? -1;
  let trims = 0;
  for (const f of filters) {
    if (f.apply === undefined) continue;
    // Strict mode refused too many operations in prepareFilters; lenient mode skips them as imagor does.
    if (maxOps > 0 && options.lenientFilters === true && f.index >= maxOps) break;
    const state: PixelState = {
      size,
      frames,
      hasAlpha,
      box: geometry.box,
      padding: { left: params.paddingLeft, top: params.paddingTop, right: params.paddingRight, bottom: params.paddingBottom },
      rotated90,
    };
    const result = f.apply(state);
    if (result.measure !== undefined) {
      // A trim() filter: pause until the executor has measured the image as it is here.
      const box = measured?.filterTrims?.[trims];
      if (box === undefined) {
        const { by, tolerance } = result.measure;
        return {
          ...base,
          steps,
          size: undefined,
          pending: { kind: 'trim', by, tolerance, after: steps.length, params, options, stage: 'filter', known: measured },
        };
      }
      trims++;
      if (box !== null && !(box.left === 0 && box.top === 0 && box.width === size.width && box.height === size.height)) {
        push({ op: 'crop', ...box });
      }
    }
    for (const step of result.steps) {
      if (step.op === 'embed' && step.background.kind === 'blur' && options.disableBlur === true) {
        push({ ...step, background: { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } } });
      } else {
        push(step);
      }
    }
    if (result.rotated90 === true) rotated90 = !rotated90;
  }

  // autojpg(): thumbor's AUTO_PNG_TO_JPG, decided once the planner knows whether transparency is left.
  const finalOutput =
    collected.autojpg && collected.format === undefined && output.format === 'png' && !output.animated && !hasAlpha
      ? outputSpec('jpeg', false, collected, options, source, page, frames)
      : output;
  return {
    ...base,
    output: finalOutput,
    steps,
    size: { width: size.width, height: size.height, pages: frames },
    pending: undefined,
  };
}

/** Completes a plan whose trim was pending, given the trim box measured after `plan.pending.after` steps. */
export function completePlan(plan: Plan, measured: Measured): Plan {
  const pending = plan.pending;
  if (pending === undefined) return plan;
  const known: Measured =
    pending.stage === 'url'
      ? { ...pending.known, trim: measured.trim }
      : { trim: pending.known?.trim ?? null, filterTrims: [...(pending.known?.filterTrims ?? []), measured.trim] };
  return buildPlan(pending.params, plan.source, pending.options, known);
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
    encoder: encoderKnobs(collected, format, stripAll || collected.stripIcc || options.stripIcc === true),
  };
}
