/**
 * A strict BMP decoder, because sharp's prebuilt libvips has none: BITMAPINFOHEADER and its V2-V5 successors;
 * 1-, 4- and 8-bit palettes (uncompressed, RLE4, RLE8); 16-bit 5-5-5 and bit fields; 24-bit; 32-bit with or
 * without an alpha mask. Pure: bytes in, RGB or RGBA pixels out. Every offset and size is checked against the
 * file before it is read, and the header's size against the limits before any pixel buffer is allocated.
 * Malformed files are UNSUPPORTED_FORMAT, oversized ones TOO_MANY_PIXELS; never anything else.
 */
import { checkLimits, type Limits } from '../policy/limits.js';
import { fail } from '../respond/errors.js';
import type { Size } from './steps.js';

export type BmpCompression = 'rgb' | 'rle8' | 'rle4' | 'bitfields';

/** One channel of a bit-field pixel: its mask, where it starts and how many bits it has. */
export interface BmpMask {
  readonly mask: number;
  readonly shift: number;
  readonly bits: number;
}

/** What the headers say, checked: every region named lies inside the file. */
export interface BmpHeader {
  readonly width: number;
  /** Rows, whichever way they are stored. */
  readonly height: number;
  /** Rows stored top row first (negative height in the file). */
  readonly topDown: boolean;
  readonly bitsPerPixel: 1 | 4 | 8 | 16 | 24 | 32;
  readonly compression: BmpCompression;
  /** 3 (RGB) or 4 (RGBA: bit fields with an alpha mask). */
  readonly channels: 3 | 4;
  /** Palette entries actually present (1-, 4- and 8-bit images), and where they start. */
  readonly paletteOffset: number;
  readonly paletteSize: number;
  /** The pixel data: [dataOffset, dataEnd). */
  readonly dataOffset: number;
  readonly dataEnd: number;
  /** Red, green, blue and alpha masks of 16- and 32-bit bit-field images (alpha mask 0: no alpha). */
  readonly masks: readonly [BmpMask, BmpMask, BmpMask, BmpMask] | undefined;
}

/** Decoded pixels, rows top first, no padding. */
export interface DecodedBmp {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly data: Uint8Array;
}

const FILE_HEADER = 14;
/** BITMAPINFOHEADER, V2 (RGB masks), V3 (+ alpha mask), V4, V5. The 12-byte core and OS/2 headers are refused. */
const INFO_SIZES: ReadonlySet<number> = new Set([40, 52, 56, 108, 124]);
/** Largest pixel buffer handed out, whatever the limits say (typed arrays top out near here). */
const MAX_BYTES = 2 ** 31 - 1;
/** Pixels decoded between two pauses of decodeBmpInSteps. */
const STEP_PIXELS = 1 << 20;

const u16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);
const u32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
const i32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);

const malformed = (why: string): never => fail('UNSUPPORTED_FORMAT', `bmp: ${why}`);

/**
 * The size a BMP header claims (height as a row count, whichever way the rows run), read from fixed offsets
 * without any other check; undefined when there is no info header to read it from. Never throws.
 */
export function readBmpSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < FILE_HEADER + 12 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) return undefined;
  if (u32(bytes, FILE_HEADER) < 40) return undefined;
  const width = i32(bytes, 18);
  const height = i32(bytes, 22);
  return width < 0 ? undefined : { width, height: Math.abs(height) };
}

function readMask(mask: number, bitsPerPixel: number): BmpMask {
  if (mask === 0) return { mask: 0, shift: 0, bits: 0 };
  if (bitsPerPixel < 32 && mask >= 2 ** bitsPerPixel) malformed(`bit mask 0x${mask.toString(16)} wider than ${bitsPerPixel} bits`);
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const field = mask >>> shift;
  // Contiguous: one run of ones, e.g. 0x7c00, never 0x5c00.
  if ((field & (field + 1)) !== 0) malformed(`bit mask 0x${mask.toString(16)} is not contiguous`);
  let bits = 0;
  while (bits < 32 && (field >>> bits) !== 0) bits++;
  return { mask, shift, bits };
}

/**
 * Reads and checks the headers, the masks and where the palette and pixel data lie. Throws UNSUPPORTED_FORMAT
 * for anything malformed, truncated or not decoded here (core and OS/2 headers, JPEG or PNG inside a BMP, CMYK).
 * Allocates nothing in proportion to the image; the size is not checked against any limit here.
 */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  const length = bytes.length;
  if (length < FILE_HEADER + 4 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) malformed('no BMP file header');
  const dataOffset = u32(bytes, 10);
  const infoSize = u32(bytes, FILE_HEADER);
  if (!INFO_SIZES.has(infoSize)) malformed(`unsupported info header size ${infoSize}`);
  let after = FILE_HEADER + infoSize;
  if (length < after) malformed('truncated info header');

  const width = i32(bytes, 18);
  const rawHeight = i32(bytes, 22);
  if (width <= 0) malformed(`width ${width}`);
  if (rawHeight === 0 || rawHeight === -(2 ** 31)) malformed(`height ${rawHeight}`);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (u16(bytes, 26) !== 1) malformed('planes is not 1');
  const bits = u16(bytes, 28);
  if (bits !== 1 && bits !== 4 && bits !== 8 && bits !== 16 && bits !== 24 && bits !== 32) malformed(`${bits} bits per pixel`);
  const bpp = bits as BmpHeader['bitsPerPixel'];
  const code = u32(bytes, 30);

  let compression: BmpCompression;
  let masks: [BmpMask, BmpMask, BmpMask, BmpMask] | undefined;
  if (code === 0) {
    compression = 'rgb';
    // 16-bit BI_RGB is 5-5-5 with the top bit unused; 24 and 32 bits are read byte by byte.
    if (bpp === 16) masks = [readMask(0x7c00, 16), readMask(0x03e0, 16), readMask(0x001f, 16), readMask(0, 16)];
  } else if (code === 1 || code === 2) {
    compression = code === 1 ? 'rle8' : 'rle4';
    if (bpp !== (code === 1 ? 8 : 4)) malformed(`${compression} with ${bpp} bits per pixel`);
    // Run-length data is always stored bottom-up.
    if (topDown) malformed(`top-down ${compression}`);
  } else if (code === 3 || code === 6) {
    // BI_BITFIELDS, BI_ALPHABITFIELDS (Windows CE: an alpha mask after the three colour masks).
    compression = 'bitfields';
    if (bpp !== 16 && bpp !== 32) malformed(`bit fields with ${bpp} bits per pixel`);
    let count = 4;
    if (infoSize === 40) {
      count = code === 6 ? 4 : 3;
      after += count * 4;
      if (length < after) malformed('truncated bit masks');
    } else if (infoSize === 52) {
      count = 3;
    }
    // The masks follow a 40-byte header, and are the first fields after it in the longer headers.
    const m = (k: number): BmpMask => readMask(k < count ? u32(bytes, 54 + k * 4) : 0, bpp);
    masks = [m(0), m(1), m(2), m(3)];
    if (masks[0].mask === 0 && masks[1].mask === 0 && masks[2].mask === 0) malformed('bit fields without colour masks');
  } else {
    // BI_JPEG (4), BI_PNG (5), the CMYK codes (11-13) and anything unknown.
    return malformed(`compression ${code}`);
  }

  let paletteSize = 0;
  const paletteOffset = after;
  if (bpp <= 8) {
    const max = 2 ** bpp;
    const used = u32(bytes, 46);
    if (used > max) malformed(`${used} palette colours for ${bpp} bits`);
    // biClrUsed 0 means a full palette; some writers store fewer entries than that before the pixels.
    paletteSize = used > 0 ? used : Math.min(max, Math.floor((Math.min(dataOffset, length) - paletteOffset) / 4));
    if (paletteSize < 1) malformed('no palette');
    after += paletteSize * 4;
    if (after > length) malformed('truncated palette');
  }
  if (dataOffset < after) malformed(`pixel data at ${dataOffset} overlaps the headers or palette (end ${after})`);
  if (dataOffset >= length) malformed(`pixel data at ${dataOffset} beyond the end (${length} bytes)`);

  let dataEnd = length;
  if (compression === 'rle8' || compression === 'rle4') {
    const sizeImage = u32(bytes, 34);
    if (sizeImage > 0) {
      if (sizeImage > length - dataOffset) malformed(`truncated run-length data (${sizeImage} bytes declared)`);
      dataEnd = dataOffset + sizeImage;
    }
  } else {
    const stride = Math.ceil((width * bpp) / 32) * 4;
    // The last row need not carry its padding.
    const needed = stride * (height - 1) + Math.ceil((width * bpp) / 8);
    if (needed > length - dataOffset) malformed(`truncated pixel data (${length - dataOffset} of ${needed} bytes)`);
    dataEnd = dataOffset + needed;
  }

  return {
    width,
    height,
    topDown,
    bitsPerPixel: bpp,
    compression,
    channels: masks !== undefined && masks[3].mask !== 0 ? 4 : 3,
    paletteOffset,
    paletteSize,
    dataOffset,
    dataEnd,
    masks,
  };
}

/**
 * Decodes a BMP into top-down RGB or RGBA bytes. The size in the header is checked against `limits`
 * (TOO_MANY_PIXELS) before anything is allocated; malformed or truncated data is UNSUPPORTED_FORMAT. Palette
 * indices past the palette read as black, and pixels a run-length image skips as palette entry 0 (ImageMagick).
 */
export function decodeBmp(bytes: Uint8Array, limits: Limits): DecodedBmp {
  const steps = decodeBmpInSteps(bytes, limits);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * decodeBmp in steps: the generator pauses after about a million pixels, so that a caller on an event loop can
 * let other work run (and give up) between steps; an image at the pixel limits takes a second or two of CPU.
 */
export function* decodeBmpInSteps(bytes: Uint8Array, limits: Limits): Generator<void, DecodedBmp, void> {
  // The claimed size first, as probe.ts does: a header bomb is TOO_MANY_PIXELS even when nothing follows it.
  const claimed = readBmpSize(bytes);
  if (claimed !== undefined) checkLimits(claimed, limits, 'bmp header');
  const h = readBmpHeader(bytes);
  checkLimits(h, limits, 'bmp header');
  const total = h.width * h.height * h.channels;
  if (total > MAX_BYTES) fail('TOO_MANY_PIXELS', `bmp ${h.width}x${h.height} needs ${total} bytes`);
  const out = new Uint8Array(total);
  if (h.bitsPerPixel <= 8) yield* decodePaletted(bytes, h, out);
  else if (h.masks !== undefined) yield* decodeMasked(bytes, h, h.masks, out);
  else yield* decodeBytes(bytes, h, out);
  return { width: h.width, height: h.height, channels: h.channels, data: out };
}

const stride = (h: BmpHeader): number => Math.ceil((h.width * h.bitsPerPixel) / 32) * 4;
const outRow = (h: BmpHeader, fileRow: number): number => (h.topDown ? fileRow : h.height - 1 - fileRow);

/** 256 RGB entries, black past the palette. */
function readPalette(bytes: Uint8Array, h: BmpHeader): Uint8Array {
  const rgb = new Uint8Array(256 * 3);
  for (let i = 0; i < h.paletteSize; i++) {
    const at = h.paletteOffset + i * 4;
    rgb[i * 3] = bytes[at + 2]!;
    rgb[i * 3 + 1] = bytes[at + 1]!;
    rgb[i * 3 + 2] = bytes[at]!;
  }
  return rgb;
}

function* decodePaletted(bytes: Uint8Array, h: BmpHeader, out: Uint8Array): Generator<void, void, void> {
  const palette = readPalette(bytes, h);
  const { width, height } = h;
  const rle = h.compression === 'rle8' || h.compression === 'rle4';
  const indices = rle ? yield* decodeRle(bytes, h) : undefined;
  let done = 0;
  const s = stride(h);
  const bpp = h.bitsPerPixel;
  // Plain loops over integers: this runs on the event loop, up to the pixel limit.
  for (let y = 0; y < height; y++) {
    let o = outRow(h, y) * width * 3;
    const at = indices === undefined ? h.dataOffset + y * s : y * width;
    const src = indices ?? bytes;
    for (let x = 0; x < width; x++) {
      let index: number;
      if (indices !== undefined || bpp === 8) index = src[at + x]!;
      else if (bpp === 4) index = (x & 1) === 0 ? src[at + (x >> 1)]! >> 4 : src[at + (x >> 1)]! & 0x0f;
      else index = (src[at + (x >> 3)]! >> (7 - (x & 7))) & 1;
      const p = index * 3;
      out[o] = palette[p]!;
      out[o + 1] = palette[p + 1]!;
      out[o + 2] = palette[p + 2]!;
      o += 3;
    }
    if ((done += width) >= STEP_PIXELS) {
      done = 0;
      yield;
    }
  }
}

/**
 * RLE8/RLE4 into palette indices, file row order (bottom row first). Pixels a run puts past the end of its row
 * are dropped: ImageMagick's encoder writes the row padding as pixels. Runs below the last row, deltas that leave
 * the image and data that ends before every row is done are malformed. Each step consumes two or more input
 * bytes and writes at most 255 pixels, so the work is bounded by the file size.
 */
function* decodeRle(bytes: Uint8Array, h: BmpHeader): Generator<void, Uint8Array, void> {
  const { width, height } = h;
  const four = h.compression === 'rle4';
  const indices = new Uint8Array(width * height);
  let p = h.dataOffset;
  const end = h.dataEnd;
  let x = 0;
  let y = 0;
  let done = 0;
  for (;;) {
    if (done >= STEP_PIXELS) {
      done = 0;
      yield;
    }
    if (p + 2 > end) {
      if (y >= height) return indices;
      return malformed('run-length data ends early');
    }
    const a = bytes[p]!;
    const b = bytes[p + 1]!;
    p += 2;
    if (a > 0) {
      if (y >= height) malformed('run below the last row');
      const row = y * width;
      const stop = Math.min(a, width - x);
      for (let k = 0; k < stop; k++) indices[row + x + k] = four ? (k & 1 ? b & 0x0f : b >> 4) : b;
      x += a;
      done += a;
    } else if (b === 0) {
      x = 0;
      y++;
      if (y > height) malformed('end of line past the last row');
    } else if (b === 1) {
      return indices;
    } else if (b === 2) {
      if (p + 2 > end) malformed('truncated delta');
      x += bytes[p]!;
      y += bytes[p + 1]!;
      p += 2;
      if (x > width || y > height) malformed('delta outside the image');
    } else {
      const count = b;
      const size = four ? (count + 1) >> 1 : count;
      const padded = size + (size & 1);
      if (p + padded > end) malformed('truncated absolute run');
      if (y >= height) malformed('absolute run below the last row');
      const row = y * width;
      const stop = Math.min(count, width - x);
      for (let k = 0; k < stop; k++) {
        indices[row + x + k] = four ? (k & 1 ? bytes[p + (k >> 1)]! & 0x0f : bytes[p + (k >> 1)]! >> 4) : bytes[p + k]!;
      }
      x += count;
      done += count;
      p += padded;
    }
  }
}

/** 24-bit BGR and 32-bit BGRX (BI_RGB: the fourth byte is unused). */
function* decodeBytes(bytes: Uint8Array, h: BmpHeader, out: Uint8Array): Generator<void, void, void> {
  const step = h.bitsPerPixel >> 3;
  const s = stride(h);
  const { width, height } = h;
  let done = 0;
  for (let y = 0; y < height; y++) {
    let i = h.dataOffset + y * s;
    let o = outRow(h, y) * width * 3;
    for (let x = 0; x < width; x++) {
      out[o] = bytes[i + 2]!;
      out[o + 1] = bytes[i + 1]!;
      out[o + 2] = bytes[i]!;
      o += 3;
      i += step;
    }
    if ((done += width) >= STEP_PIXELS) {
      done = 0;
      yield;
    }
  }
}

/** A field of `bits` bits scaled to 0-255. */
function scaler(m: BmpMask): (field: number) => number {
  if (m.bits === 0) return () => 0;
  if (m.bits >= 8) return (v) => v >>> (m.bits - 8);
  const max = 2 ** m.bits - 1;
  const table = Uint8Array.from({ length: max + 1 }, (_, v) => Math.round((v * 255) / max));
  return (v) => table[v]!;
}

/** 16- and 32-bit pixels through their bit masks. */
function* decodeMasked(
  bytes: Uint8Array,
  h: BmpHeader,
  masks: readonly [BmpMask, BmpMask, BmpMask, BmpMask],
  out: Uint8Array,
): Generator<void, void, void> {
  const ch = h.channels;
  const scale = masks.map(scaler);
  const s = stride(h);
  const wide = h.bitsPerPixel === 32;
  const { width, height } = h;
  let anyAlpha = false;
  let done = 0;
  for (let y = 0; y < height; y++) {
    let i = h.dataOffset + y * s;
    let o = outRow(h, y) * width * ch;
    for (let x = 0; x < width; x++) {
      const px = wide ? u32(bytes, i) : u16(bytes, i);
      i += wide ? 4 : 2;
      for (let c = 0; c < ch; c++) {
        const m = masks[c]!;
        const v = scale[c]!((px & m.mask) >>> m.shift);
        out[o++] = v;
        if (c === 3 && v !== 0) anyAlpha = true;
      }
    }
    if ((done += width) >= STEP_PIXELS) {
      done = 0;
      yield;
    }
  }
  // An alpha mask over an all-zero channel is a writer that left it unset: show the image opaque (Chromium).
  if (ch === 4 && !anyAlpha) for (let o = 3; o < out.length; o += 4) out[o] = 255;
}
