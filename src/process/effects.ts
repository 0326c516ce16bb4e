/**
 * Pixel effects as plan data: the colour, tone, sharpness and mask operations that pixel filters emit as one
 * `effect` Step each. They keep the frame size and act on every frame; process/apply-effect.ts runs them. Pure:
 * no sharp and no pixels here.
 */
import type { Rgba } from './steps.js';

/** Three channel values in R, G, B order. */
export type Triple = readonly [number, number, number];

export type Effect =
  /** out = a * in + b on R, G and B, clamped to 0..255; alpha untouched (imagor's linearRGB). */
  | { readonly kind: 'linear'; readonly a: Triple; readonly b: Triple }
  /** Multiply lightness and chroma and turn the hue, in LCh (libvips/imagor Modulate, sharp modulate). */
  | { readonly kind: 'modulate'; readonly brightness: number; readonly saturation: number; readonly hue: number }
  /** libvips' B_W colourspace, written back as equal R, G and B. */
  | { readonly kind: 'grayscale' }
  /** out = matrix x (R, G, B), clamped; alpha untouched. */
  | { readonly kind: 'recomb'; readonly matrix: readonly [Triple, Triple, Triple] }
  /** A lookup table per colour channel (256 entries each, R, G, B); alpha untouched (thumbor's curve). */
  | { readonly kind: 'lut'; readonly tables: readonly [readonly number[], readonly number[], readonly number[]] }
  /**
   * A convolution kernel of odd width and height, already normalised if asked, edges extended, each frame on
   * its own (thumbor's convolution).
   */
  | { readonly kind: 'convolve'; readonly width: number; readonly height: number; readonly kernel: readonly number[] }
  /** Histogram equalisation per colour channel and per frame (thumbor's equalize). */
  | { readonly kind: 'equalize' }
  /** One value in [-amount/2, amount/2) per pixel added to R, G and B (thumbor's noise), from a seeded PRNG. */
  | { readonly kind: 'noise'; readonly amount: number; readonly seed: number }
  /** Gaussian blur, each frame on its own. */
  | { readonly kind: 'blur'; readonly sigma: number }
  /** libvips sharpen with imagor's parameters (x1 = 1, m2 = 2), each frame on its own. */
  | { readonly kind: 'sharpen'; readonly sigma: number }
  /** Blocks of block x block pixels replaced by their mean, anchored at the top-left of each frame. */
  | { readonly kind: 'pixelate'; readonly block: number }
  /**
   * Corners cut to an rx x ry ellipse (transparent), then flattened onto `background` when given:
   * a colour, or `average` for the image's average colour measured before cutting (imagor's `auto`).
   */
  | {
      readonly kind: 'round-corner';
      readonly rx: number;
      readonly ry: number;
      readonly background: { readonly kind: 'colour'; readonly colour: Rgba } | { readonly kind: 'average' } | undefined;
    };

export type EffectKind = Effect['kind'];

/** Whether the image has an alpha channel after the effect. */
export function alphaAfterEffect(effect: Effect, hasAlpha: boolean): boolean {
  if (effect.kind === 'round-corner') return effect.background === undefined;
  return hasAlpha;
}

/** The sepia tone matrix (the widely used Microsoft coefficients). */
export const SEPIA_MATRIX: readonly [Triple, Triple, Triple] = Object.freeze([
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
] as const);
