/**
 * Pixel limits for imagor processing (VIPS_MAX_WIDTH, VIPS_MAX_HEIGHT, VIPS_MAX_RESOLUTION,
 * VIPS_MAX_ANIMATION_FRAMES): resolving the settings to imagor's defaults and deciding whether a source or a
 * planned output fits. Pure; never looks at bytes (process/probe.ts reads the header and asks here).
 */
import { fail } from '../respond/errors.js';

export interface Limits {
  /** Widest image (one frame), in pixels. */
  readonly maxWidth: number;
  /** Tallest image (one frame / page height), in pixels. */
  readonly maxHeight: number;
  /** Most pixels in a decoded image, all loaded frames together (imagor multiplies width by the full height). */
  readonly maxResolution: number;
  /** Most animation frames loaded; -1 = all. Frames beyond it are dropped, not refused (as imagor). */
  readonly maxFrames: number;
}

/** The settings as a user gives them; 0 or absent means imagor's default. */
export interface LimitSettings {
  readonly maxWidth?: number;
  readonly maxHeight?: number;
  readonly maxResolution?: number;
  readonly maxFrames?: number;
}

/** imagor's processor defaults when VIPS_MAX_WIDTH / _HEIGHT / _RESOLUTION are 0 (processor.go NewProcessor). */
export const IMAGOR_DEFAULT_LIMITS: Limits = Object.freeze({
  maxWidth: 9999,
  maxHeight: 9999,
  maxResolution: 81_000_000,
  maxFrames: -1,
});

/**
 * Settings -> limits. Width, height and resolution fall back to imagor's defaults when unset, 0 or negative.
 * Frames follow imagor's loadAndProcess: unset or -1 = all frames, 0 or below -1 = one frame, N = at most N.
 */
export function resolveLimits(settings: LimitSettings = {}): Limits {
  const positive = (v: number | undefined, fallback: number): number =>
    v !== undefined && Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
  let maxFrames = settings.maxFrames ?? -1;
  if (!Number.isFinite(maxFrames)) maxFrames = -1;
  maxFrames = Math.trunc(maxFrames);
  if (maxFrames === 0 || maxFrames < -1) maxFrames = 1;
  return Object.freeze({
    maxWidth: positive(settings.maxWidth, IMAGOR_DEFAULT_LIMITS.maxWidth),
    maxHeight: positive(settings.maxHeight, IMAGOR_DEFAULT_LIMITS.maxHeight),
    maxResolution: positive(settings.maxResolution, IMAGOR_DEFAULT_LIMITS.maxResolution),
    maxFrames,
  });
}

/** What the check looks at: one frame's size and how many frames are held at once. */
export interface PixelSize {
  readonly width: number;
  /** Height of one frame (page height). */
  readonly height: number;
  /** Frames held at once; 1 for a still image. */
  readonly frames?: number;
}

/** True when the size fits: imagor's CheckResolution (width, page height, width x full height). */
export function fitsLimits(size: PixelSize, limits: Limits): boolean {
  const frames = Math.max(1, size.frames ?? 1);
  return (
    size.width <= limits.maxWidth &&
    size.height <= limits.maxHeight &&
    size.width * size.height * frames <= limits.maxResolution
  );
}

/**
 * Throws TOO_MANY_PIXELS (422 for imagor) when the size does not fit. `stage` names what was measured for the
 * log ('source', 'output', a step), never for the client.
 */
export function checkLimits(size: PixelSize, limits: Limits, stage: string): void {
  if (fitsLimits(size, limits)) return;
  const frames = Math.max(1, size.frames ?? 1);
  fail(
    'TOO_MANY_PIXELS',
    `${stage} ${size.width}x${size.height}${frames > 1 ? `x${frames} frames` : ''} exceeds ` +
      `${limits.maxWidth}x${limits.maxHeight}, ${limits.maxResolution} px`,
  );
}

/** How many frames to load from an animation of `available` frames, honouring VIPS_MAX_ANIMATION_FRAMES. */
export function capFrames(available: number, limits: Limits): number {
  const n = Math.max(1, available);
  return limits.maxFrames === -1 ? n : Math.min(n, limits.maxFrames);
}
