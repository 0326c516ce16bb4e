/**
 * Reads what an image is from its header, before any pixel is decoded: format, size, frames, EXIF
 * orientation, alpha. Refuses non-images and formats we cannot decode (UNSUPPORTED_FORMAT) and images over the
 * limits (TOO_MANY_PIXELS). JPEG, PNG, GIF, WebP and BMP sizes are read by our own parser first, so a bomb never
 * reaches a decoder; sharp's metadata() (header only) fills in the rest, and process/bmp.ts reads BMP headers,
 * which libvips cannot. Never decodes pixels.
 */
import { checkSvgSource } from '../policy/svg.js';
import { readBmpHeader, readBmpSize } from './bmp.js';
import sharp, { type Metadata } from 'sharp';
import { colorImageSpec } from '../parse/imagor-path.js';
import { fail, PixgateError } from '../respond/errors.js';
import { checkLimits, fitsLimits, type Limits } from '../policy/limits.js';
import { SNIFF_BYTES, sniffBytes, type Sniffed } from '../policy/sniff.js';
import { parseColour } from './filters/colour.js';
import { orientedSize } from './geometry.js';
import type { Size, SourceFormat, SourceInfo } from './steps.js';

export type { SourceFormat, SourceInfo } from './steps.js';

const u16be = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const ascii = (b: Uint8Array, i: number, text: string): boolean => {
  if (b.length < i + text.length) return false;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return false;
  return true;
};

function jpegSize(b: Uint8Array): Size | undefined {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return undefined;
    let marker = b[i + 1]!;
    // Any number of 0xFF fill bytes may precede a marker.
    while (marker === 0xff && i + 2 < b.length) marker = b[++i + 1]!;
    i += 2;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || marker === 0xda || i + 2 > b.length) return undefined;
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return i + 7 <= b.length ? { width: u16be(b, i + 5), height: u16be(b, i + 3) } : undefined;
    }
    i += u16be(b, i);
  }
  return undefined;
}

function webpSize(b: Uint8Array): Size | undefined {
  if (ascii(b, 12, 'VP8 ') && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (ascii(b, 12, 'VP8L') && b.length >= 25) {
    return {
      width: 1 + (b[21]! | ((b[22]! & 0x3f) << 8)),
      height: 1 + ((b[22]! >> 6) | (b[23]! << 2) | ((b[24]! & 0x0f) << 10)),
    };
  }
  if (ascii(b, 12, 'VP8X') && b.length >= 30) return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
  return undefined;
}

/**
 * The image size written in the header of a JPEG (first SOF), PNG (IHDR), GIF (logical screen), WebP
 * (VP8, VP8L or VP8X canvas) or BMP (info header), without EXIF orientation; undefined for other formats or a
 * header we cannot read.
 */
export function readHeaderSize(bytes: Uint8Array, format: Sniffed): Size | undefined {
  switch (format) {
    case 'jpeg':
      return jpegSize(bytes);
    case 'png':
      return ascii(bytes, 12, 'IHDR') && bytes.length >= 24 ? { width: u32be(bytes, 16), height: u32be(bytes, 20) } : undefined;
    case 'gif':
      return bytes.length >= 10 ? { width: u16le(bytes, 6), height: u16le(bytes, 8) } : undefined;
    case 'webp':
      return webpSize(bytes);
    case 'bmp':
      return readBmpSize(bytes);
    default:
      return undefined;
  }
}

const DECODABLE: ReadonlySet<Sniffed> = new Set(['jpeg', 'png', 'gif', 'webp', 'avif', 'heif', 'tiff', 'svg', 'bmp']);

/**
 * Probes a loaded body. Throws UNSUPPORTED_FORMAT for anything that is not an image we decode (HTML, PDF,
 * JPEG XL, JPEG 2000, HEVC-coded HEIF: sharp's prebuilt libvips has no decoder for them; a BMP that
 * process/bmp.ts does not read) and TOO_MANY_PIXELS
 * when one frame, as shown after EXIF orientation, is over the limits. The frame count is checked by the
 * planner, which knows how many frames will be decoded.
 */
export async function probeImage(input: Uint8Array, limits: Limits): Promise<SourceInfo> {
  if (input.length === 0) fail('UNSUPPORTED_FORMAT', 'empty body');
  const sniffed = sniffBytes(input.subarray(0, SNIFF_BYTES));
  if (!DECODABLE.has(sniffed)) fail('UNSUPPORTED_FORMAT', `not a decodable image (${sniffed})`);
  if (sniffed === 'svg') checkSvgSource(input);

  // First line against bombs: our own header read, in either orientation since EXIF is not parsed yet.
  const header = readHeaderSize(input, sniffed);
  if (header !== undefined) {
    if (header.width === 0 || header.height === 0) fail('UNSUPPORTED_FORMAT', `${sniffed} header with a zero dimension`);
    if (!fitsLimits(header, limits) && !fitsLimits({ width: header.height, height: header.width }, limits)) {
      checkLimits(header, limits, `${sniffed} header`);
    }
  }
  if (sniffed === 'bmp') return bmpSource(input, limits);

  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn: 'error', limitInputPixels: limits.maxResolution }).metadata();
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0]! : String(cause);
    if (/pixel limit/i.test(reason)) throw new PixgateError('TOO_MANY_PIXELS', { detail: `${sniffed} header: ${reason}`, cause });
    throw new PixgateError('UNSUPPORTED_FORMAT', { detail: `header unreadable: ${reason}`, cause });
  }
  const format = sourceFormat(meta);
  if (format === undefined) fail('UNSUPPORTED_FORMAT', `cannot decode ${meta.format}${meta.compression ? `/${meta.compression}` : ''}`);
  const width = meta.width ?? 0;
  const pages = Math.max(1, meta.pages ?? 1);
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) fail('UNSUPPORTED_FORMAT', `${format} without a size`);
  const orientation = meta.orientation !== undefined && meta.orientation >= 1 && meta.orientation <= 8 ? meta.orientation : 1;
  checkLimits(orientedSize(width, height, orientation), limits, 'source');

  return {
    format,
    width,
    height,
    pages,
    orientation,
    hasAlpha: meta.hasAlpha === true,
    animated: (format === 'gif' || format === 'webp') && pages > 1,
    loop: meta.loop,
    delay: meta.delay,
    space: meta.space,
    hasProfile: meta.hasProfile === true,
  };
}

/** A BMP as the executor will see it: process/bmp.ts decodes it to sRGB pixels, one frame, no metadata. */
function bmpSource(input: Uint8Array, limits: Limits): SourceInfo {
  const header = readBmpHeader(input);
  checkLimits(header, limits, 'source');
  return {
    format: 'bmp',
    width: header.width,
    height: header.height,
    pages: 1,
    orientation: 1,
    hasAlpha: header.channels === 4,
    animated: false,
    space: 'srgb',
    hasProfile: false,
  };
}

function sourceFormat(meta: Metadata): SourceFormat | undefined {
  switch (meta.format) {
    case 'jpeg':
    case 'png':
    case 'gif':
    case 'webp':
    case 'tiff':
    case 'svg':
      return meta.format;
    case 'heif':
      // Only AV1-coded HEIF (AVIF) can be decoded by sharp's prebuilt libvips.
      return meta.compression === 'av1' ? 'avif' : undefined;
    default:
      return undefined;
  }
}

/**
 * The source for a `color:<colour>` image, sized as imagor sizes it: 1x1 by default, one given dimension
 * copied to the other, refused above the resolution limit and clamped to the width and height limits.
 * INVALID_PARAMS when the colour does not parse (imagor would hand the text to its loaders instead).
 */
export function colourSource(image: string, width: number, height: number, limits: Limits): SourceInfo {
  const spec = colorImageSpec(image);
  const colour = spec === undefined ? undefined : parseColour(spec);
  if (colour === undefined) return fail('INVALID_PARAMS', 'color: image with an unknown colour', 'color: unknown colour');
  let w = width;
  let h = height;
  if (w <= 0 && h <= 0) [w, h] = [1, 1];
  else if (w <= 0) w = h;
  else if (h <= 0) h = w;
  if (w * h > limits.maxResolution) fail('TOO_MANY_PIXELS', `color image ${w}x${h}`);
  return {
    format: 'color',
    width: Math.min(w, limits.maxWidth),
    height: Math.min(h, limits.maxHeight),
    pages: 1,
    orientation: 1,
    hasAlpha: colour.alpha < 1,
    animated: false,
    hasProfile: false,
    colour,
  };
}
