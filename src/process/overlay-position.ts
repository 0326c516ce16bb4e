/**
 * What an overlay step carries (watermark, image(), label, text) and imagor's grammar for where an overlay goes:
 * the x/y position arguments (processor/vipsprocessor/overlay.go parseOverlayPosition), the `full`/`f` sizes of a
 * nested image() path, the text wrap width and the blend mode names. Pure; the pixels are drawn by
 * process/overlay.ts.
 */
import type { ColourArg } from './filters/colour.js';

/** imagor's blend mode names and the libvips/sharp blend each one means (overlay.go blendModeMap). */
export const BLEND_MODES = {
  normal: 'over',
  multiply: 'multiply',
  'color-burn': 'colour-burn',
  darken: 'darken',
  screen: 'screen',
  'color-dodge': 'colour-dodge',
  lighten: 'lighten',
  add: 'add',
  overlay: 'overlay',
  'soft-light': 'soft-light',
  'hard-light': 'hard-light',
  difference: 'difference',
  exclusion: 'exclusion',
  mask: 'dest-in',
  'mask-out': 'dest-out',
} as const;

export type BlendMode = keyof typeof BLEND_MODES;
export type SharpBlend = (typeof BLEND_MODES)[BlendMode];

/** A blend mode name as imagor reads it: case-insensitive, '' is normal. Undefined when unknown. */
export function parseBlendMode(text: string): BlendMode | undefined {
  const name = text.trim().toLowerCase();
  if (name === '') return 'normal';
  return Object.hasOwn(BLEND_MODES, name) ? (name as BlendMode) : undefined;
}

export type Axis = 'x' | 'y';

/** A horizontal or vertical overlay position, kept as written: it resolves only once both sizes are known. */
export interface Position {
  readonly axis: Axis;
  readonly text: string;
}

const INT = /^[+-]?\d+$/;
const FRACTION = /^-?0\.\d*$/;
const PERCENT = /^[+-]?\d+p$/;
const NEAR = { x: ['left', 'l'], y: ['top', 't'] } as const;
const FAR = { x: ['right', 'r'], y: ['bottom', 'b'] } as const;
const OFFSET = { x: /^(?:left|l|right|r)-\d+$/, y: /^(?:top|t|bottom|b)-\d+$/ } as const;

/**
 * Whether `text` is a position imagor documents for this axis: pixels (negative from the far edge), `Np`,
 * a `0.x` fraction, `center`, `repeat`, the axis' edge names (also one letter, as imagor's docs write them) or
 * `left-N`/`r-N`/`top-N`/`b-N` (pushed N pixels past that edge). '' is 0.
 */
export function isValidPosition(text: string, axis: Axis): boolean {
  if (text === '' || text === 'center' || text === 'repeat') return true;
  if (INT.test(text) || FRACTION.test(text) || PERCENT.test(text)) return true;
  if ((NEAR[axis] as readonly string[]).includes(text) || (FAR[axis] as readonly string[]).includes(text)) return true;
  return OFFSET[axis].test(text);
}

/** Go's strconv.Atoi with the error ignored. */
function atoi(text: string): number {
  if (!INT.test(text)) return 0;
  const n = Number.parseInt(text, 10);
  return Number.isSafeInteger(n) ? n : 0;
}

/** Go's strconv.ParseFloat with the error ignored. */
function atof(text: string): number {
  const n = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text) ? Number(text) : 0;
  return Number.isFinite(n) ? n : 0;
}

function trimPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

/**
 * Where the overlay's top (or left) edge goes on the canvas, and how many copies `repeat` tiles, as imagor
 * computes it (overlay.go parseOverlayPosition plus the negative adjustment in compositeOverlay), quirks included:
 * a negative result is moved in from the far edge unless the text was `center` or an edge-offset of this axis,
 * so an overlay wider than the canvas at `right` is shifted twice, and `left-20` really means 20 px off the
 * left edge (imagor #745). The one-letter edge names follow imagor's docs, where its code reads them as 0.
 */
export function resolvePosition(pos: Position, canvas: number, overlay: number): { readonly at: number; readonly repeat: number } {
  const arg = pos.text;
  const [near, far] = pos.axis === 'x' ? ['left', 'right'] : ['top', 'bottom'];
  let at = 0;
  let repeat = 1;
  let exempt = false;
  if (arg.startsWith('left-') || arg.startsWith('l-')) {
    at = -atoi(trimPrefix(trimPrefix(arg, 'left-'), 'l-'));
  } else if (arg.startsWith('right-') || arg.startsWith('r-')) {
    at = canvas - overlay + atoi(trimPrefix(trimPrefix(arg, 'right-'), 'r-'));
  } else if (arg.startsWith('top-') || arg.startsWith('t-')) {
    at = -atoi(trimPrefix(trimPrefix(arg, 'top-'), 't-'));
  } else if (arg.startsWith('bottom-') || arg.startsWith('b-')) {
    at = canvas - overlay + atoi(trimPrefix(trimPrefix(arg, 'bottom-'), 'b-'));
  } else if (arg === 'center') {
    at = Math.trunc((canvas - overlay) / 2);
    exempt = true;
  } else if (arg === near || arg === near[0]) {
    at = 0;
  } else if (arg === far || arg === far[0]) {
    at = canvas - overlay;
  } else if (arg === 'repeat') {
    repeat = Math.trunc(canvas / Math.max(1, overlay)) + 1;
  } else if (trimPrefix(arg, '-').startsWith('0.')) {
    at = Math.trunc(atof(arg) * canvas);
  } else if (arg.endsWith('p')) {
    at = Math.trunc((atoi(arg.slice(0, -1)) * canvas) / 100);
  } else {
    at = atoi(arg);
  }
  // Only this axis' own edge offsets escape the adjustment (imagor checks left-/l-/right-/r- for x, top-/... for y).
  const own = pos.axis === 'x' ? ['left-', 'l-', 'right-', 'r-'] : ['top-', 't-', 'bottom-', 'b-'];
  if (own.some((p) => arg.startsWith(p))) exempt = true;
  if (at < 0 && !exempt) at += canvas - overlay;
  return { at, repeat };
}

// overlay.go fullDimRegex / dimSegmentRegex: `f`, `full`, `f-20`, `-full-20` (leading `-` = flip).
const FULL_DIM = /^(-?)(?:full|f)(-\d+)?$/;
const DIM_SEGMENT = /^(-?(?:(?:full|f)(?:-\d+)?|\d*))x(-?(?:(?:full|f)(?:-\d+)?|\d*))$/;

function resolveFullDim(token: string, parent: number): string {
  const m = FULL_DIM.exec(token);
  if (!m) return token;
  return `${m[1]}${parent + (m[2] ? Number.parseInt(m[2], 10) : 0)}`;
}

/**
 * Rewrites `full`/`f`/`full-N`/`f-N` in the first WxH segment of a nested imagor path to the parent's size
 * (overlay.go resolveFullDimensions). Stops at `filters:`, so deeper nested paths resolve at their own level.
 */
export function resolveFullDimensions(path: string, parentWidth: number, parentHeight: number): string {
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length && path[i] !== '/') continue;
    const segment = path.slice(start, i);
    if (segment.startsWith('filters:')) return path;
    const m = DIM_SEGMENT.exec(segment);
    if (m) {
      const w = resolveFullDim(m[1]!, parentWidth);
      const h = resolveFullDim(m[2]!, parentHeight);
      return w !== m[1] || h !== m[2] ? path.slice(0, start) + `${w}x${h}` + path.slice(i) : path;
    }
    start = i + 1;
  }
  return path;
}

/** Whether a text wrap width is one imagor documents: px, `Np`, a `0.x` fraction, `f`/`full`[`-N`], or ''. */
export function isValidTextWidth(text: string): boolean {
  return text === '' || /^\d+$/.test(text) || /^\d+p$/.test(text) || /^0\.\d*$/.test(text) || /^(?:full|f)(?:-\d+)?$/.test(text);
}

/** The wrap width in pixels for a canvas this wide (util.go parseTextWidth); 0 = unconstrained. */
export function resolveTextWidth(text: string, canvasWidth: number): number {
  if (text === '') return 0;
  const m = FULL_DIM.exec(text);
  let width: number;
  if (m) width = canvasWidth + (m[2] ? Number.parseInt(m[2], 10) : 0);
  else if (text.endsWith('p')) width = Math.trunc((atoi(text.slice(0, -1)) * canvasWidth) / 100);
  else if (trimPrefix(text, '-').startsWith('0.')) width = Math.trunc(atof(text) * canvasWidth);
  else width = atoi(text);
  return Math.max(0, width);
}

/** watermark(image, x, y, alpha[, w_ratio, h_ratio]). */
export interface WatermarkSpec {
  readonly kind: 'watermark';
  /** The image key, unescaped and `b64:`-decoded. */
  readonly image: string;
  readonly x: Position;
  readonly y: Position;
  /** 0 (opaque) to 100 (invisible). */
  readonly alpha: number;
  /** Percent of the canvas the watermark fits in; 'none' keeps that side of the canvas. */
  readonly ratio?: { readonly width: number | 'none'; readonly height: number | 'none' } | undefined;
}

/** image(path, x, y[, alpha[, blend]]): a nested imagor path processed on its own and composited. */
export interface NestedImageSpec {
  readonly kind: 'image';
  /** The nested imagor path, unescaped once, `full` sizes not yet resolved. */
  readonly path: string;
  readonly x: Position;
  readonly y: Position;
  readonly alpha: number;
  readonly blend: BlendMode;
}

export type TextAlign = 'left' | 'centre' | 'right';
export type TextWrap = 'word' | 'char' | 'word-char' | 'none';

/** text(...) and label(...): Pango text rendered in one colour. */
export interface TextSpec {
  readonly kind: 'text';
  readonly text: string;
  /** A Pango font description, e.g. `sans bold 24`. */
  readonly font: string;
  readonly colour: ColourArg;
  readonly x: Position;
  readonly y: Position;
  readonly alpha: number;
  readonly blend: BlendMode;
  /** The wrap width as written (resolveTextWidth). */
  readonly width: string;
  readonly align: TextAlign;
  readonly justify: boolean;
  readonly wrap: TextWrap;
  /** Extra line spacing in pixels; 0 = Pango's. */
  readonly spacing: number;
  /** Render DPI; 0 = 72. */
  readonly dpi: number;
  /** label(): the text is fitted into a line this many pixels high (and padded to it), as imagor's label does. */
  readonly lineHeight?: number | undefined;
}

export type OverlaySpec = WatermarkSpec | NestedImageSpec | TextSpec;

/** The filters that draw an overlay. */
export const OVERLAY_FILTERS: ReadonlySet<string> = new Set(['watermark', 'image', 'label', 'text']);
