/**
 * Colour arguments as imagor reads them (processor/vipsprocessor/color.go): SVG/CSS names, hex `rgb`, `rrggbb`
 * and `rrggbbaa` with or without `#`, case-insensitive, plus the keywords `auto`, `none` and `transparent`.
 * Pure; strict parsing returns undefined for anything else, the lenient form reproduces imagor's fallbacks.
 */
import type { Rgba } from '../steps.js';
import { COLOUR_NAMES } from './colour-names.js';

export const BLACK: Rgba = Object.freeze({ r: 0, g: 0, b: 0, alpha: 1 });
export const TRANSPARENT: Rgba = Object.freeze({ r: 0, g: 0, b: 0, alpha: 0 });

/** A colour argument: a concrete colour, or `auto` (the image's average colour, measured on pixels). */
export type ColourArg = { readonly kind: 'colour'; readonly colour: Rgba } | { readonly kind: 'auto' };

const HEX = /^[0-9a-f]+$/;

function fromHex(hex: string): Rgba | undefined {
  if (!HEX.test(hex)) return undefined;
  const byte = (i: number): number => Number.parseInt(hex.slice(i, i + 2), 16);
  switch (hex.length) {
    case 3:
      return { r: Number.parseInt(hex[0]!, 16) * 17, g: Number.parseInt(hex[1]!, 16) * 17, b: Number.parseInt(hex[2]!, 16) * 17, alpha: 1 };
    case 6:
      return { r: byte(0), g: byte(2), b: byte(4), alpha: 1 };
    case 8:
      return { r: byte(0), g: byte(2), b: byte(4), alpha: byte(6) / 255 };
    default:
      return undefined;
  }
}

/**
 * A colour with its alpha (imagor's getColorRGBA, used for `color:` images): names, hex 3/6/8, `none` and
 * `transparent` (fully transparent black). Undefined when the text is none of these.
 */
export function parseColour(text: string): Rgba | undefined {
  const name = text.trim().toLowerCase().replace(/^#/, '');
  if (name === '') return undefined;
  if (name === 'none' || name === 'transparent') return TRANSPARENT;
  const named = COLOUR_NAMES.get(name);
  if (named !== undefined) return { r: (named >> 16) & 0xff, g: (named >> 8) & 0xff, b: named & 0xff, alpha: 1 };
  return fromHex(name);
}

/**
 * A filter colour (imagor's getColor for fill, background_color, padding): opaque, so an 8-digit hex loses its
 * alpha as in imagor; `auto` is returned as such. Undefined when unparseable (strict callers refuse it).
 */
export function parseFilterColour(text: string): ColourArg | undefined {
  const name = text.trim().toLowerCase().replace(/^#/, '');
  if (name === 'auto') return { kind: 'auto' };
  if (name === 'none' || name === 'transparent') return undefined;
  const c = parseColour(name);
  return c === undefined ? undefined : { kind: 'colour', colour: { ...c, alpha: 1 } };
}

/**
 * imagor's lenient reading of a filter colour: an unknown name is black, and a 3/6/8 character text is read as hex
 * with every non-hex digit counting as 0 (so imagor's own test colour `FFO` is yellow).
 */
export function parseFilterColourLenient(text: string): ColourArg {
  const strict = parseFilterColour(text);
  if (strict !== undefined) return strict;
  const name = text.trim().toLowerCase().replace(/^#/, '');
  if (name.length === 3 || name.length === 6 || name.length === 8) {
    const zeroed = [...name].map((ch) => (/[0-9a-f]/.test(ch) ? ch : '0')).join('');
    const c = fromHex(zeroed);
    if (c !== undefined) return { kind: 'colour', colour: { ...c, alpha: 1 } };
  }
  return { kind: 'colour', colour: BLACK };
}
