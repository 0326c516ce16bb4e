/**
 * Real test images made with sharp (JPEG, PNG with alpha, animated GIF and WebP, AVIF, EXIF-rotated JPEG, a
 * four-colour quadrant image), header-only bombs, and pixel readers for assertions. No fixtures on disk.
 */
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

export const RED: Rgb = { r: 255, g: 0, b: 0 };
export const LIME: Rgb = { r: 0, g: 255, b: 0 };
export const BLUE: Rgb = { r: 0, g: 0, b: 255 };
export const YELLOW: Rgb = { r: 255, g: 255, b: 0 };
export const WHITE: Rgb = { r: 255, g: 255, b: 255 };
export const BLACK: Rgb = { r: 0, g: 0, b: 0 };
export const MAGENTA: Rgb = { r: 255, g: 0, b: 255 };
export const CYAN: Rgb = { r: 0, g: 255, b: 255 };

export type Still = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'tiff';

function encode(s: Sharp, format: Still): Promise<Buffer> {
  switch (format) {
    case 'jpeg':
      return s.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'png':
      return s.png().toBuffer();
    case 'webp':
      return s.webp({ lossless: true }).toBuffer();
    case 'gif':
      return s.gif().toBuffer();
    case 'avif':
      return s.avif({ quality: 90, effort: 0, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'tiff':
      return s.tiff().toBuffer();
  }
}

/** A solid image. */
export function makeSolid(width: number, height: number, colour: Rgb, format: Still = 'jpeg'): Promise<Buffer> {
  return encode(sharp({ create: { width, height, channels: 3, background: colour } }), format);
}

/** Raw RGB pixels of the quadrant image: top-left red, top-right lime, bottom-left blue, bottom-right yellow. */
export function quadrantPixels(width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const top = y < height / 2;
      const left = x < width / 2;
      const c = top ? (left ? RED : LIME) : left ? BLUE : YELLOW;
      buf.set([c.r, c.g, c.b], (y * width + x) * 3);
    }
  }
  return buf;
}

/** Four known colours in four quadrants, for crop, flip and alignment assertions. */
export function makeQuadrant(width: number, height: number, format: Still = 'png'): Promise<Buffer> {
  return encode(sharp(quadrantPixels(width, height), { raw: { width, height, channels: 3 } }), format);
}

/**
 * A PNG with alpha: an opaque `colour` square in the middle of a fully transparent canvas (a `border`-pixel
 * transparent frame).
 */
export function makeAlphaPng(width: number, height: number, colour: Rgb = RED, border = 10): Promise<Buffer> {
  const buf = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= border && x < width - border && y >= border && y < height - border;
      if (inside) buf.set([colour.r, colour.g, colour.b, 255], (y * width + x) * 4);
    }
  }
  return sharp(buf, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

/** An animation with one solid colour per frame, in order. */
export async function makeAnimated(
  format: 'gif' | 'webp',
  width: number,
  height: number,
  colours: readonly Rgb[],
  delayMs = 100,
): Promise<Buffer> {
  const frames = await Promise.all(colours.map((c) => sharp({ create: { width, height, channels: 3, background: c } }).png().toBuffer()));
  const joined = sharp(frames, { join: { animated: true } });
  const delay = colours.map(() => delayMs);
  return format === 'gif' ? joined.gif({ delay, loop: 0 }).toBuffer() : joined.webp({ delay, loop: 0, lossless: true }).toBuffer();
}

/**
 * An animation whose frames are each the quadrant image (for crop and flip on every frame). Frame i has a white
 * pixel at (width - 1 - i, height - 1), the bottom-right corner, so that encoders do not merge identical frames.
 */
export async function makeAnimatedQuadrant(format: 'gif' | 'webp', width: number, height: number, frames: number): Promise<Buffer> {
  const pngs = await Promise.all(
    Array.from({ length: frames }, (_, i) => {
      const px = quadrantPixels(width, height);
      px.set([255, 255, 255], ((height - 1) * width + (width - 1 - i)) * 3);
      return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
    }),
  );
  const joined = sharp(pngs, { join: { animated: true } });
  const delay = Array.from({ length: frames }, () => 80);
  return format === 'gif' ? joined.gif({ delay, loop: 0 }).toBuffer() : joined.webp({ delay, loop: 0, lossless: true }).toBuffer();
}

/**
 * A JPEG stored as the quadrant image of `width` x `height` with an EXIF orientation tag (6 = shown turned
 * 90 degrees clockwise: the displayed top-left is the stored bottom-left, blue).
 */
export async function makeExifRotatedJpeg(width: number, height: number, orientation = 6): Promise<Buffer> {
  return sharp(quadrantPixels(width, height), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .withMetadata({ orientation })
    .toBuffer();
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid-looking PNG whose IHDR claims width x height (16000 x 16000 by default) with a few bytes of data. */
export function pngHeaderBomb(width = 16000, height = 16000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(64))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real 8x8 JPEG whose SOF0 is patched to claim width x height (65535 x 65535 by default). */
export async function jpegHeaderBomb(width = 65535, height = 65535): Promise<Buffer> {
  const jpeg = Buffer.from(await makeSolid(8, 8, RED, 'jpeg'));
  const at = findMarker(jpeg, 0xc0);
  if (at < 0) throw new Error('no SOF0 in the generated JPEG');
  jpeg.writeUInt16BE(height, at + 5);
  jpeg.writeUInt16BE(width, at + 7);
  return jpeg;
}

/** Offset of the first 0xFF <marker> segment of a JPEG, or -1. */
export function findMarker(jpeg: Uint8Array, marker: number): number {
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1]!;
    if (m === marker) return i;
    if (m === 0xda) return -1;
    i += 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
  }
  return -1;
}

/** The first start-of-frame marker of a JPEG: 0xc0 baseline, 0xc1 extended, 0xc2 progressive. */
export function jpegFrameMarker(jpeg: Uint8Array): number | undefined {
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return m;
    if (m === 0xda) return undefined;
    i += 2 + ((jpeg[i + 2]! << 8) | jpeg[i + 3]!);
  }
  return undefined;
}

export interface Decoded {
  readonly width: number;
  /** One frame's height. */
  readonly height: number;
  readonly frames: number;
  readonly channels: number;
  readonly format: string | undefined;
  /** RGBA of pixel (x, y) of frame `frame`. */
  pixel(x: number, y: number, frame?: number): { r: number; g: number; b: number; a: number };
}

/** Decodes every frame of an encoded image to RGBA for pixel assertions. */
export async function decode(image: Uint8Array): Promise<Decoded> {
  const meta = await sharp(image).metadata();
  const { data, info } = await sharp(image, { animated: true }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const frames = meta.pages ?? 1;
  const height = info.height / frames;
  return {
    width: info.width,
    height,
    frames,
    channels: meta.channels ?? info.channels,
    format: meta.format,
    pixel(x, y, frame = 0) {
      if (x < 0 || y < 0 || x >= info.width || y >= height) throw new RangeError(`pixel ${x},${y} outside ${info.width}x${height}`);
      const i = ((frame * height + y) * info.width + x) * 4;
      return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]!, a: data[i + 3]! };
    },
  };
}

/** True when every channel is within `tolerance` of the expected colour (lossy codecs move colours a little). */
export function near(actual: { r: number; g: number; b: number }, expected: Rgb, tolerance = 24): boolean {
  return (
    Math.abs(actual.r - expected.r) <= tolerance &&
    Math.abs(actual.g - expected.g) <= tolerance &&
    Math.abs(actual.b - expected.b) <= tolerance
  );
}

/** A PNG whose pixel (x, y) is `paint(x, y)`. */
export function paintPng(width: number, height: number, paint: (x: number, y: number) => Rgb): Promise<Buffer> {
  const buf = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const c = paint(x, y);
    buf.set([c.r, c.g, c.b], (y * width + x) * 3);
  }
  return sharp(buf, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
