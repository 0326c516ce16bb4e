/**
 * imagor's geometry as pure arithmetic (processor/vipsprocessor/process.go loadAndProcess and
 * applyTransformations, libvips thumbnail rounding): crop in pixels or fractions, trim intersection, fit-in,
 * adaptive and full fit-in, stretch, cover crop with alignment or attention, upscale rules and flips, turned
 * into concrete Steps. Never touches pixels; a trim box, when needed, is measured by the executor and passed in.
 * Never emits a step with a zero, negative, fractional or NaN size (checkStep).
 */
import type { HAlign, VAlign } from '../parse/imagor-params.js';
import { fail } from '../respond/errors.js';
import { sizeAfter, type Size, type Step } from './steps.js';

/** The URL's crop segment as parsed: pixels, or fractions when all four are below 1 (see cropEdges). */
export interface CropParams {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

export interface Rect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Crop edges in pixels of the current image, possibly fractional until truncated (imagor keeps floats). */
export interface CropEdges {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

/** The size an image shows after EXIF orientation: orientations 5-8 turn it by 90 degrees. */
export function orientedSize(width: number, height: number, orientation: number): Size {
  return orientation > 4 ? { width: height, height: width } : { width, height };
}

// libvips rounds output sizes half up and never below one pixel (resize.c, thumbnail.c).
const roundSize = (v: number): number => Math.max(1, Math.floor(v + 0.5));

/**
 * libvips thumbnail without crop: the largest size that fits inside the box, keeping the aspect ratio; no
 * bigger than the source unless `upscale` (imagor's SizeBoth versus SizeDown).
 */
export function fitInside(src: Size, box: Size, upscale: boolean): Size {
  let shrink = Math.max(src.width / box.width, src.height / box.height);
  if (!upscale) shrink = Math.max(1, shrink);
  return {
    width: roundSize(src.width / Math.min(shrink, src.width)),
    height: roundSize(src.height / Math.min(shrink, src.height)),
  };
}

/**
 * libvips thumbnail with a crop: scale so the box is covered, then crop to the box (or to the scaled image
 * where it is smaller, when upscaling is off).
 */
export function coverSize(src: Size, box: Size, upscale: boolean): { readonly resized: Size; readonly crop: Size } {
  let shrink = Math.min(src.width / box.width, src.height / box.height);
  if (!upscale) shrink = Math.max(1, shrink);
  const resized = {
    width: roundSize(src.width / Math.min(shrink, src.width)),
    height: roundSize(src.height / Math.min(shrink, src.height)),
  };
  return { resized, crop: { width: Math.min(box.width, resized.width), height: Math.min(box.height, resized.height) } };
}

export type Anchor = 'low' | 'centre' | 'high';

/** Offset of an `inner`-long window in an `outer`-long axis; centre uses integer division as libvips. */
export function anchorOffset(outer: number, inner: number, anchor: Anchor): number {
  if (anchor === 'low') return 0;
  if (anchor === 'high') return outer - inner;
  return Math.floor((outer - inner) / 2);
}

export function anchorOf(align: HAlign | VAlign): Anchor {
  if (align === 'left' || align === 'top') return 'low';
  if (align === 'right' || align === 'bottom') return 'high';
  return 'centre';
}

/**
 * imagor's crop: nothing when all four are 0; fractions of the current size when left and top are below 1 and
 * right and bottom at most 1 (rounded); a right or bottom of 0 means the far edge. Reproduces imagor's clamp to
 * `size - 1`, so the last row and column can never be kept by a URL crop (imagor's golden 30x20:100x150 on a
 * 121x128 GIF gives 70x107).
 */
export function cropEdges(crop: CropParams, size: Size): CropEdges | undefined {
  if (!(crop.right > 0 || crop.left > 0 || crop.bottom > 0 || crop.top > 0)) return undefined;
  let left = Math.max(crop.left, 0);
  let top = Math.max(crop.top, 0);
  let right = crop.right;
  let bottom = crop.bottom;
  if (crop.left < 1 && crop.top < 1 && crop.right <= 1 && crop.bottom <= 1) {
    left = Math.round(left * size.width);
    top = Math.round(top * size.height);
    right = Math.round(right * size.width);
    bottom = Math.round(bottom * size.height);
  }
  if (right === 0) right = size.width - 1;
  if (bottom === 0) bottom = size.height - 1;
  return { left, top, right: Math.min(right, size.width - 1), bottom: Math.min(bottom, size.height - 1) };
}

/** imagor's trim-and-crop intersection: the trim box narrowed by the URL crop, if any. */
export function intersectTrim(edges: CropEdges | undefined, trim: Rect): CropEdges {
  const trimRight = trim.left + trim.width;
  const trimBottom = trim.top + trim.height;
  return {
    left: Math.max(edges?.left ?? 0, trim.left),
    top: Math.max(edges?.top ?? 0, trim.top),
    right: edges !== undefined && edges.right > 0 ? Math.min(edges.right, trimRight) : trimRight,
    bottom: edges !== undefined && edges.bottom > 0 ? Math.min(edges.bottom, trimBottom) : trimBottom,
  };
}

/**
 * The rectangle to extract, truncated to whole pixels as imagor's int() does; undefined when empty, where imagor
 * skips the crop. Edges that are apart by less than a pixel (a pixel crop such as `0x0:0.9x20`) truncate to a
 * zero width or height, which imagor hands to libvips extract_area and fails on; that is INVALID_PARAMS here.
 */
export function edgesToRect(edges: CropEdges): Rect | undefined {
  if (!(edges.right > edges.left && edges.bottom > edges.top)) return undefined;
  const rect = {
    left: Math.trunc(edges.left),
    top: Math.trunc(edges.top),
    width: Math.trunc(edges.right - edges.left),
    height: Math.trunc(edges.bottom - edges.top),
  };
  if (rect.width < 1 || rect.height < 1) {
    fail(
      'INVALID_PARAMS',
      `crop ${edges.left},${edges.top} to ${edges.right},${edges.bottom} is ${rect.width}x${rect.height} px`,
      'crop: the area is less than one pixel wide or high',
    );
  }
  return rect;
}

const isPixels = (n: number, min: number): boolean => Number.isSafeInteger(n) && n >= min;

/**
 * Refuses (INVALID_PARAMS) a step that would hand sharp a size below one pixel, a fractional or non-finite
 * number, or a crop reaching outside the `size` it runs on: libvips answers those with a GLib critical and an
 * error, and NaN would slip past the pixel limits. Other steps carry no geometry and always pass.
 */
export function checkStep(step: Step, size: Size): void {
  let ok = true;
  switch (step.op) {
    case 'crop':
      ok =
        isPixels(step.left, 0) &&
        isPixels(step.top, 0) &&
        isPixels(step.width, 1) &&
        isPixels(step.height, 1) &&
        step.left + step.width <= size.width &&
        step.top + step.height <= size.height;
      break;
    case 'resize':
    case 'smartcrop':
      ok = isPixels(step.width, 1) && isPixels(step.height, 1);
      break;
    case 'embed':
      ok = Number.isSafeInteger(step.left) && Number.isSafeInteger(step.top) && isPixels(step.width, 1) && isPixels(step.height, 1);
      break;
    default:
      break;
  }
  if (!ok) fail('INVALID_PARAMS', `${describeStep(step)} on ${size.width}x${size.height}`, 'the geometry is empty or outside the image');
}

function describeStep(step: Step): string {
  if (step.op === 'crop' || step.op === 'embed') return `${step.op} ${step.width}x${step.height} at ${step.left},${step.top}`;
  if (step.op === 'resize' || step.op === 'smartcrop') return `${step.op} ${step.width}x${step.height}`;
  return step.op;
}

/**
 * How imagor loads the image, which decides its rounding: `shrink` when it may use libvips thumbnail (shrink on
 * load) because nothing asks for the full image, `full` when it decodes everything first (trim, vertical flip,
 * full or adaptive fit-in, orient, fill(auto) ...), `sized` for generated `color:` images that are never resized.
 */
export type LoadPath = 'shrink' | 'full' | 'sized';

export interface GeometryInput {
  readonly crop: CropParams;
  readonly fitIn: boolean;
  readonly fullFitIn: boolean;
  readonly adaptiveFitIn: boolean;
  readonly stretch: boolean;
  readonly width: number;
  readonly height: number;
  /** Resolved: fit-in defaults to false, everything else to true, upscale()/no_upscale() override. */
  readonly upscale: boolean;
  readonly hFlip: boolean;
  readonly vFlip: boolean;
  readonly hAlign: HAlign;
  readonly vAlign: VAlign;
  readonly smart: boolean;
  readonly path: LoadPath;
  /** Attention cropping is a still-image operation; animations are cropped in the centre (imagor). */
  readonly animated: boolean;
  /** A measured trim box (URL `trim/`), or null when trim found nothing to remove. */
  readonly trim?: Rect | null | undefined;
  /**
   * focal(): the point, in pixels of the input image, that a cover crop centres on as far as the image allows
   * (imagor's FocalThumbnail); it wins over `smart` and the alignment.
   */
  readonly focal?: { readonly x: number; readonly y: number } | undefined;
}

/** VIPS_MAX_WIDTH / VIPS_MAX_HEIGHT: imagor's stand-in for a 0 dimension on its shrink-on-load path. */
export interface GeometryBounds {
  readonly maxWidth: number;
  readonly maxHeight: number;
}

export interface GeometryResult {
  readonly steps: Step[];
  readonly size: Size;
  /** imagor's w x h after the geometry: what fill() letterboxes to. */
  readonly box: Size;
}

const sameSize = (a: Size, b: Size): boolean => a.width === b.width && a.height === b.height;

/**
 * The URL geometry of imagor as steps on an image of `size` (already oriented). Two deliberate differences
 * from imagor, both where its two load paths disagree with each other: a cover crop never upscales when
 * upscaling is off (imagor's full-decode path does), and a single `top`/`bottom`/`left`/`right` anchors only
 * its own axis (imagor's shrink path also pins the other axis to its low or high end).
 */
export function planGeometry(input: GeometryInput, size: Size, bounds: GeometryBounds): GeometryResult {
  const steps: Step[] = [];
  let cur = size;
  const push = (step: Step): void => {
    checkStep(step, cur);
    steps.push(step);
    cur = sizeAfter(step, cur);
  };
  const resizeTo = (target: Size): void => {
    if (!sameSize(target, cur)) push({ op: 'resize', width: target.width, height: target.height });
  };
  let origin = { left: 0, top: 0 };
  const coverTo = (box: Size, upscale: boolean): void => {
    const before = cur;
    const { resized, crop } = coverSize(cur, box, upscale);
    resizeTo(resized);
    if (sameSize(crop, cur)) return;
    if (input.focal !== undefined) {
      // The focal point as a fraction of the (cropped) image, then the window centred on it, clamped, truncated.
      const fx = (input.focal.x - origin.left) / before.width;
      const fy = (input.focal.y - origin.top) / before.height;
      const left = Math.max(0, Math.min(cur.width * fx - crop.width / 2, cur.width - crop.width));
      const top = Math.max(0, Math.min(cur.height * fy - crop.height / 2, cur.height - crop.height));
      // Regions whose areas overflow to Infinity weigh NaN; imagor then extracts at int(NaN) and fails.
      if (Number.isNaN(left) || Number.isNaN(top)) fail('INVALID_PARAMS', `focal point ${input.focal.x},${input.focal.y}`, 'focal: the point is not a number');
      push({ op: 'crop', left: Math.trunc(left), top: Math.trunc(top), width: crop.width, height: crop.height });
      return;
    }
    if (input.smart && !input.animated) {
      push({ op: 'smartcrop', width: crop.width, height: crop.height });
      return;
    }
    push({
      op: 'crop',
      left: anchorOffset(cur.width, crop.width, anchorOf(input.hAlign)),
      top: anchorOffset(cur.height, crop.height, anchorOf(input.vAlign)),
      width: crop.width,
      height: crop.height,
    });
  };

  const { width: w0, height: h0, upscale } = input;
  const hasCrop = cropEdges(input.crop, cur) !== undefined;
  let sized = input.path === 'sized';

  // imagor's shrink-on-load path (NewThumbnail): sizes come straight from libvips thumbnail rounding.
  if (input.path === 'shrink' && !hasCrop && input.trim === undefined) {
    if (input.fitIn) {
      if (w0 > 0 || h0 > 0) {
        resizeTo(fitInside(cur, { width: w0 || bounds.maxWidth, height: h0 || bounds.maxHeight }, upscale));
        sized = true;
      }
    } else if (input.stretch) {
      if (w0 > 0 && h0 > 0) {
        resizeTo({ width: w0, height: h0 });
        sized = true;
      }
    } else if (w0 > 0 && h0 > 0) {
      coverTo({ width: w0, height: h0 }, upscale);
      sized = true;
    } else if (w0 > 0) {
      resizeTo(fitInside(cur, { width: w0, height: bounds.maxHeight }, upscale));
      sized = true;
    } else if (h0 > 0) {
      resizeTo(fitInside(cur, { width: bounds.maxWidth, height: h0 }, upscale));
      sized = true;
    }
    // Otherwise imagor shrinks to VIPS_MAX_WIDTH x VIPS_MAX_HEIGHT, a no-op here: sources beyond the limits
    // are refused before decoding.
  }

  let edges = cropEdges(input.crop, cur);
  if (input.trim) edges = intersectTrim(edges, input.trim);
  const rect = edges === undefined ? undefined : edgesToRect(edges);
  if (rect !== undefined && !(rect.left === 0 && rect.top === 0 && sameSize(rect, cur))) {
    push({ op: 'crop', ...rect });
    origin = { left: rect.left, top: rect.top };
  }

  let w = w0;
  let h = h0;
  const imgAspect = cur.width / cur.height;
  if (input.adaptiveFitIn && w > 0 && h > 0 && imgAspect > 1 !== w / h > 1) [w, h] = [h, w];
  if (w === 0 && h === 0) {
    w = cur.width;
    h = cur.height;
  } else if (w === 0) {
    // Go integer arithmetic in imagor: truncation.
    w = Math.max(1, Math.trunc((cur.width * h) / cur.height));
    if (!upscale && w > cur.width) w = cur.width;
  } else if (h === 0) {
    h = Math.max(1, Math.trunc((cur.height * w) / cur.width));
    if (!upscale && h > cur.height) h = cur.height;
  }

  if (!sized) {
    if (input.fitIn) {
      if (input.fullFitIn && w > 0 && h > 0) {
        // The smaller side of the box is met and the other overflows it (rounded up, imagor).
        if (imgAspect < w / h) h = Math.ceil(w / imgAspect);
        else w = Math.ceil(h * imgAspect);
      }
      resizeTo(fitInside(cur, { width: w, height: h }, upscale));
    } else if (input.stretch) {
      if (upscale || (w < cur.width && h < cur.height)) resizeTo({ width: w, height: h });
    } else if (upscale || w < cur.width || h < cur.height) {
      coverTo({ width: w, height: h }, upscale);
    }
  }

  if (input.hFlip || input.vFlip) push({ op: 'flip', horizontal: input.hFlip, vertical: input.vFlip });
  return { steps, size: cur, box: { width: w, height: h } };
}
