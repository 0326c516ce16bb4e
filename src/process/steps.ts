/**
 * The vocabulary of a processing plan: what the source is (SourceInfo), the Step union the planner emits and
 * the executor runs, and the size each step leaves behind. Data and pure arithmetic only; no sharp here.
 */
import { alphaAfterEffect, type Effect } from './effects.js';
import type { OverlaySpec } from './overlay-position.js';

/** An sRGB colour; `alpha` from 0 (transparent) to 1 (opaque). */
export interface Rgba {
  readonly r: number;
  readonly g: number;
  readonly b: number;
  readonly alpha: number;
}

/** The source formats we can decode (sharp's prebuilt libvips; BMP: process/bmp.ts), plus generated `color:` images. */
export type SourceFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'tiff' | 'svg' | 'bmp' | 'color';

/** What the header says about the source; see process/probe.ts. */
export interface SourceInfo {
  readonly format: SourceFormat;
  /** Width as stored, before EXIF orientation. */
  readonly width: number;
  /** Height of one page/frame as stored, before EXIF orientation. */
  readonly height: number;
  /** Frames of an animation or pages of a document; 1 for a still image. */
  readonly pages: number;
  /** EXIF orientation 1-8; 1 when absent. */
  readonly orientation: number;
  readonly hasAlpha: boolean;
  /** True for a GIF or WebP with more than one frame. */
  readonly animated: boolean;
  /** Animation loop count (0 = forever) and per-frame delays in ms, when the source has them. */
  readonly loop?: number | undefined;
  readonly delay?: readonly number[] | undefined;
  /** libvips interpretation, e.g. 'srgb', 'cmyk', 'b-w'. */
  readonly space?: string | undefined;
  readonly hasProfile: boolean;
  /** For `color:` images only: the colour to fill with. */
  readonly colour?: Rgba | undefined;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** Pixels on each side of an image (the URL padding segment). */
export interface Edges {
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
  readonly left: number;
}

/**
 * What fills new canvas around an image: a colour, the image's average colour (imagor's `auto`, measured on
 * pixels when the step runs), or the image itself stretched to the canvas and blurred (imagor's `fill(blur)`).
 */
export type Paint =
  | { readonly kind: 'colour'; readonly colour: Rgba }
  | { readonly kind: 'average' }
  | { readonly kind: 'blur'; readonly sigma: number };

/**
 * One operation on every frame of the image. Coordinates and sizes are concrete pixels of the image as it is
 * when the step runs (after EXIF orientation); the executor may reorder or merge steps only where the result is
 * the same.
 */
export type Step =
  /** Rotate clockwise (imagor's orient filter runs before resizing). */
  | { readonly op: 'rotate'; readonly angle: 90 | 180 | 270 }
  /** Keep a rectangle. */
  | { readonly op: 'crop'; readonly left: number; readonly top: number; readonly width: number; readonly height: number }
  /** Scale to exactly width x height (the planner has already kept or given up the aspect ratio). */
  | { readonly op: 'resize'; readonly width: number; readonly height: number }
  /** Keep the most interesting width x height rectangle (libvips attention, imagor's `smart`). Still images only. */
  | { readonly op: 'smartcrop'; readonly width: number; readonly height: number }
  | { readonly op: 'flip'; readonly horizontal: boolean; readonly vertical: boolean }
  /** Merge transparency onto an opaque background and drop the alpha channel (no-op without alpha). */
  | { readonly op: 'flatten'; readonly background: Paint }
  /**
   * Place the image with its top-left corner at (left, top), possibly negative, on a width x height canvas of
   * `background`, flattening its own transparency onto the background first when `flatten` (imagor's fill).
   */
  | {
      readonly op: 'embed';
      readonly left: number;
      readonly top: number;
      readonly width: number;
      readonly height: number;
      readonly background: Paint;
      readonly flatten: boolean;
    }
  /** Draw an image or text over every frame (watermark, image, label, text); process/overlay.ts draws it. */
  | { readonly op: 'overlay'; readonly overlay: OverlaySpec }
  /** A colour, tone, sharpness or mask effect on every frame, size unchanged; process/apply-effect.ts runs it. */
  | { readonly op: 'effect'; readonly effect: Effect };

export type StepOp = Step['op'];

/** The size of each frame after the step. */
export function sizeAfter(step: Step, size: Size): Size {
  switch (step.op) {
    case 'rotate':
      return step.angle === 180 ? size : { width: size.height, height: size.width };
    case 'crop':
    case 'resize':
    case 'smartcrop':
    case 'embed':
      return { width: step.width, height: step.height };
    case 'flip':
    case 'flatten':
    case 'overlay':
    case 'effect':
      return size;
  }
}

/** Whether the image has an alpha channel after the step. */
export function alphaAfter(step: Step, hasAlpha: boolean): boolean {
  if (step.op === 'flatten') return false;
  // libvips composite always writes an alpha channel (imagor's bands are 4 after any overlay).
  if (step.op === 'overlay') return true;
  if (step.op === 'effect') return alphaAfterEffect(step.effect, hasAlpha);
  if (step.op === 'embed') {
    const bg = step.background;
    if (bg.kind === 'colour' && bg.colour.alpha < 1) return true;
    if (bg.kind === 'blur') return hasAlpha;
    return step.flatten ? false : hasAlpha;
  }
  return hasAlpha;
}
