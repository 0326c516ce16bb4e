/**
 * Renders the text of a text() or label() filter with Pango, through sharp's text input, into one RGBA frame
 * of a single colour whose alpha is Pango's coverage (imagor's filteroverlay.go text and label). Bounds the work
 * before rendering: the text is plain (Pango markup is escaped, so no markup can ask for another size) and an
 * estimate of the rendered size must fit the pixel limits. Never positions or composites; process/overlay.ts does.
 */
import type { CreateText, OutputInfo } from 'sharp';
import { vips } from './vips.js';
import { checkLimits, type Limits } from '../policy/limits.js';
import { fail, PixgateError } from '../respond/errors.js';
import { resolveTextWidth, type TextSpec } from './overlay-position.js';
import type { Rgba } from './steps.js';

/** One or more RGBA frames of the same size, stacked vertically. */
export interface Layer {
  readonly data: Buffer;
  readonly width: number;
  /** Height of one frame. */
  readonly height: number;
  readonly frames: number;
}

/** Pango's default size when the font description names none (libvips' default font is `sans 12`). */
const DEFAULT_POINTS = 12;
/** label() lays its line out in a box this wide, as imagor does. */
const LABEL_BOX_WIDTH = 9999;

/** Pango markup is not wanted: `<`, `>` and `&` are drawn as themselves. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The font size in pixels a Pango description asks for (`sans bold 24` is 24 pt, `mono 30px` is 30 px). */
export function fontPixels(font: string, dpi: number): number {
  const last = font.trim().split(/\s+/).pop() ?? '';
  const m = /^(\d+(?:\.\d+)?)(px)?$/.exec(last);
  const points = m ? Number(m[1]) : DEFAULT_POINTS;
  return m?.[2] === 'px' ? points : (points * (dpi > 0 ? dpi : 72)) / 72;
}

/**
 * A generous estimate of the rendered size (every character one em wide, lines 1.3 em apart plus spacing) and
 * TOO_MANY_PIXELS when even that would be over the limits, so a request cannot make Pango allocate a huge
 * canvas. label() is bounded by its box instead.
 */
function checkEstimate(spec: TextSpec, wrapWidth: number, limits: Limits): void {
  if (spec.lineHeight !== undefined) {
    if (spec.lineHeight > limits.maxHeight || spec.lineHeight * Math.min(LABEL_BOX_WIDTH, limits.maxWidth) > limits.maxResolution) {
      fail('TOO_MANY_PIXELS', `label of ${spec.lineHeight} px`);
    }
    return;
  }
  const em = fontPixels(spec.font, spec.dpi);
  const lines = spec.text.split('\n');
  const longest = Math.max(...lines.map((l) => [...l].length));
  const natural = longest * em;
  const width = wrapWidth > 0 ? Math.min(wrapWidth, natural) : natural;
  const wrapped = wrapWidth > 0 ? lines.reduce((n, l) => n + Math.max(1, Math.ceil(([...l].length * em) / wrapWidth)), 0) : lines.length;
  const height = wrapped * (em * 1.3 + spec.spacing);
  if (em > limits.maxHeight || width * height > limits.maxResolution) {
    fail('TOO_MANY_PIXELS', `text estimated at ${Math.round(width)}x${Math.round(height)}`);
  }
}

/**
 * Renders `spec` for a canvas `canvasWidth` pixels wide (the wrap width may be relative to it) in `colour`.
 * Throws TOO_MANY_PIXELS when the text would be too large and UNSUPPORTED_FORMAT when Pango fails.
 */
export async function renderText(spec: TextSpec, canvasWidth: number, colour: Rgba, limits: Limits): Promise<Layer> {
  const wrapWidth = spec.lineHeight === undefined ? resolveTextWidth(spec.width, canvasWidth) : 0;
  checkEstimate(spec, wrapWidth, limits);
  const options: CreateText = {
    text: escapeMarkup(spec.text),
    font: spec.font,
    rgba: false,
    ...(spec.lineHeight !== undefined
      ? { width: LABEL_BOX_WIDTH, height: spec.lineHeight }
      : {
          ...(wrapWidth > 0 ? { width: wrapWidth } : {}),
          align: spec.align,
          justify: spec.justify,
          wrap: spec.wrap,
          ...(spec.spacing > 0 ? { spacing: spec.spacing } : {}),
          ...(spec.dpi > 0 ? { dpi: spec.dpi } : {}),
        }),
  };
  let rendered: { data: Buffer; info: OutputInfo };
  try {
    rendered = await vips({ text: options }).raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0]! : String(cause);
    // cairo refuses surfaces over 32767 px a side: a text that got past the estimate is still too large.
    throw new PixgateError(/too big/i.test(message) ? 'TOO_MANY_PIXELS' : 'UNSUPPORTED_FORMAT', { detail: `text: ${message}`, cause });
  }
  const { data, info } = rendered;
  // label() pads its line to the full size asked for, as imagor's Embed does.
  const height = spec.lineHeight !== undefined ? Math.max(info.height, spec.lineHeight) : info.height;
  checkLimits({ width: info.width, height }, limits, 'text');
  const out = Buffer.alloc(info.width * height * 4);
  const ch = info.channels;
  for (let i = 0; i < info.width * info.height; i++) {
    const coverage = data[i * ch]!;
    if (coverage === 0) continue;
    out[i * 4] = colour.r;
    out[i * 4 + 1] = colour.g;
    out[i * 4 + 2] = colour.b;
    out[i * 4 + 3] = Math.round(coverage * colour.alpha);
  }
  return { data: out, width: info.width, height, frames: 1 };
}
