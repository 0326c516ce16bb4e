/**
 * Hostile files for the adversarial suite (security.md §2.2 and §3), generated on demand, never stored: images
 * whose headers declare huge sizes (PNG, JPEG, GIF, WebP, TIFF, AVIF/HEIF), complete decompression bombs, frame
 * bombs, SVG entity and reference bombs (<use>, patterns, markers, style sheets, nested data: documents), SVGs
 * reaching out (external entities, hrefs, CSS, XInclude), truncated and zero-byte files, HTML and scripts
 * labelled as images, polyglots, and gzip/deflate/nested-gzip body bombs.
 * Bombs of zeros are built from one compressed block repeated, so a 4 GiB bomb costs milliseconds and a few MB.
 */
import { constants, crc32, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';

export interface Hostile {
  /** security.md-style case id, e.g. `png_bomb_60000`. */
  readonly id: string;
  readonly what: string;
  readonly body: Buffer;
  /** The Content-Type the origin labels it with. */
  readonly type: string;
  /** A Content-Encoding the origin declares (the body is then already encoded). */
  readonly encoding?: string;
  /** Text that must never come back to the client (payload markers). Empty: nothing specific. */
  readonly mustNotEcho: readonly string[];
  /** What the decoded form would weigh, for the report. */
  readonly expandsTo?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Compressed zeros

const CHUNK = 1 << 20;
const EMPTY_FINAL_BLOCK = Buffer.from([0x03, 0x00]);
let chunkBlock: Buffer | undefined;
const zeroBlocks = new Map<number, Buffer>();

/** A raw DEFLATE stream (no final block) that inflates to `n` zero bytes. */
function rawZeros(n: number): Buffer[] {
  chunkBlock ??= deflateRawSync(Buffer.alloc(CHUNK), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const parts: Buffer[] = [];
  for (let i = 0; i < Math.floor(n / CHUNK); i++) parts.push(chunkBlock);
  const rest = n % CHUNK;
  if (rest > 0) {
    let block = zeroBlocks.get(rest);
    if (!block) {
      block = deflateRawSync(Buffer.alloc(rest), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
      zeroBlocks.set(rest, block);
    }
    parts.push(block);
  }
  return parts;
}

/** A zlib (RFC 1950) stream of `n` zero bytes. Adler-32 of zeros: a = 1, b = n mod 65521. */
export function zlibZeros(n: number): Buffer {
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0);
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...rawZeros(n), EMPTY_FINAL_BLOCK, adler]);
}

const zeroCrcs = new Map<number, number>();
function crcOfZeros(n: number): number {
  const known = zeroCrcs.get(n);
  if (known !== undefined) return known;
  const block = Buffer.alloc(CHUNK);
  let crc = 0;
  for (let i = 0; i < Math.floor(n / CHUNK); i++) crc = crc32(block, crc);
  crc = crc32(Buffer.alloc(n % CHUNK), crc);
  zeroCrcs.set(n, crc);
  return crc;
}

/** A gzip (RFC 1952) member of `n` zero bytes, with a correct CRC-32 and ISIZE. */
export function gzipZeros(n: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crcOfZeros(n) >>> 0, 0);
  trailer.writeUInt32LE(n % 2 ** 32, 4);
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 2, 3]), ...rawZeros(n), EMPTY_FINAL_BLOCK, trailer]);
}

// ---------------------------------------------------------------------------------------------------------
// PNG

export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');

function ihdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width >>> 0, 0);
  d.writeUInt32BE(height >>> 0, 4);
  d[8] = bitDepth;
  d[9] = colourType;
  return pngChunk('IHDR', d);
}

/** A complete, valid PNG of zeros: every row is there, compressed (security.md png_bomb_*). */
export function pngZeros(width: number, height: number, opts: { bitDepth?: number; channels?: 1 | 3 | 4 } = {}): Buffer {
  const bitDepth = opts.bitDepth ?? 8;
  const channels = opts.channels ?? 1;
  const colourType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const rowBytes = 1 + Math.ceil((width * channels * bitDepth) / 8);
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, bitDepth, colourType), pngChunk('IDAT', zlibZeros(rowBytes * height)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A tiny valid 8x8 grey PNG with `extra` chunks before its IDAT. */
export function pngWith(extra: readonly Buffer[], size = 8): Buffer {
  return Buffer.concat([
    PNG_SIGNATURE,
    ihdr(size, size, 8, 0),
    ...extra,
    pngChunk('IDAT', deflateSync(Buffer.alloc((size + 1) * size, 0x00))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG whose rows are noise (so truncation lands inside compressed data). */
export function pngNoise(size = 64): Buffer {
  const raw = Buffer.alloc((size * 3 + 1) * size);
  let x = 0x2545f491;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = i % (size * 3 + 1) === 0 ? 0 : x & 0xff;
  }
  return Buffer.concat([PNG_SIGNATURE, ihdr(size, size, 8, 2), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

// ---------------------------------------------------------------------------------------------------------
// JPEG

/** Offset of the first start-of-frame marker (SOF0..SOF15 without DHT/JPG/DAC), or -1. */
function sofOffset(jpeg: Buffer): number {
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const m = jpeg[i + 1]!;
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return i;
    if (m === 0xda) return -1;
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  return -1;
}

/** A real 8x8 JPEG (baseline or progressive) whose frame header is patched to width x height. */
export async function jpegDeclaring(width: number, height: number, progressive: boolean): Promise<Buffer> {
  const jpeg = Buffer.from(
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 200, b: 90 } } }).jpeg({ progressive, quality: 50 }).toBuffer(),
  );
  const at = sofOffset(jpeg);
  if (at < 0) throw new Error('no SOF in the generated JPEG');
  jpeg.writeUInt16BE(height, at + 5);
  jpeg.writeUInt16BE(width, at + 7);
  return jpeg;
}

// ---------------------------------------------------------------------------------------------------------
// GIF

const GIF_1PX_FRAME_DATA = Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]); // LZW min size 2, one block, end

function u16le(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

/**
 * A GIF89a with a `screenW` x `screenH` logical screen and `frames` frames of `frameW` x `frameH` (each carrying
 * one pixel of data), looping (NETSCAPE2.0).
 */
export function gifFrames(screenW: number, screenH: number, frames: number, frameW = 1, frameH = 1, header = 'GIF89a'): Buffer {
  const parts: Buffer[] = [
    Buffer.from(header, 'latin1'),
    u16le(screenW),
    u16le(screenH),
    Buffer.from([0x80, 0x00, 0x00]), // global colour table of 2 entries
    Buffer.from([0, 0, 0, 255, 255, 255]),
    Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 0x03, 0x01, 0x00, 0x00, 0x00]),
  ];
  const frame = Buffer.concat([
    Buffer.from([0x21, 0xf9, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00]), // GCE, 20 ms
    Buffer.from([0x2c, 0, 0, 0, 0]),
    u16le(frameW),
    u16le(frameH),
    Buffer.from([0x00]),
    GIF_1PX_FRAME_DATA,
  ]);
  for (let i = 0; i < frames; i++) parts.push(frame);
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------
// WebP

function riff(chunks: readonly Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP'), ...chunks]);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.from('RIFF'), size, body]);
}

function webpChunk(fourcc: string, data: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(data.length);
  return Buffer.concat([Buffer.from(fourcc, 'latin1'), size, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function u24le(n: number): Buffer {
  return Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);
}

/** The VP8L chunk payload of a real lossless 1x1 WebP. */
async function vp8l1x1(): Promise<Buffer> {
  const webp = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 1, g: 2, b: 3 } } }).webp({ lossless: true }).toBuffer();
  if (webp.toString('latin1', 12, 16) !== 'VP8L') throw new Error('expected a simple VP8L WebP');
  return webp.subarray(20, 20 + webp.readUInt32LE(16));
}

/** A VP8L header declaring width x height (each at most 16384), with a few bytes of data after it. */
export function webpVp8lDeclaring(width: number, height: number): Buffer {
  const bits = (width - 1) | ((height - 1) << 14); // 28 bits; alpha 0, version 0
  const d = Buffer.alloc(5 + 16);
  d[0] = 0x2f;
  d.writeUInt32LE(bits >>> 0, 1);
  return riff([webpChunk('VP8L', d)]);
}

/** A VP8X canvas of width x height (each at most 2^24) holding a 1x1 image. */
export async function webpCanvasDeclaring(width: number, height: number): Promise<Buffer> {
  const vp8x = Buffer.concat([Buffer.from([0, 0, 0, 0]), u24le(width - 1), u24le(height - 1)]);
  return riff([webpChunk('VP8X', vp8x), webpChunk('VP8L', await vp8l1x1())]);
}

/** An animated WebP: `canvas` x `canvas`, `frames` frames of 1x1. */
export async function webpFrames(canvas: number, frames: number): Promise<Buffer> {
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), u24le(canvas - 1), u24le(canvas - 1)]);
  const anim = Buffer.from([0, 0, 0, 0, 0, 0]);
  const image = webpChunk('VP8L', await vp8l1x1());
  const anmf = webpChunk('ANMF', Buffer.concat([u24le(0), u24le(0), u24le(0), u24le(0), u24le(20), Buffer.from([0]), image]));
  return riff([webpChunk('VP8X', vp8x), webpChunk('ANIM', anim), ...Array.from({ length: frames }, () => anmf)]);
}

// ---------------------------------------------------------------------------------------------------------
// TIFF (little-endian, one strip of 8-bit grey)

/** A baseline TIFF declaring width x height; `loop` makes its next-IFD offset point back at itself. */
export function tiffDeclaring(width: number, height: number, opts: { loop?: boolean } = {}): Buffer {
  const entries: [tag: number, type: number, value: number][] = [
    [256, 4, width],
    [257, 4, height],
    [258, 3, 8],
    [259, 3, 1],
    [262, 3, 1],
    [273, 4, 0], // strip offset, patched below
    [277, 3, 1],
    [278, 4, height],
    [279, 4, 16],
  ];
  const ifdAt = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataAt = ifdAt + ifdSize;
  const out = Buffer.alloc(dataAt + 16);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(ifdAt, 4);
  out.writeUInt16LE(entries.length, ifdAt);
  entries.forEach(([tag, type, value], i) => {
    const at = ifdAt + 2 + i * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    const v = tag === 273 ? dataAt : value;
    if (type === 3) out.writeUInt16LE(v, at + 8);
    else out.writeUInt32LE(v >>> 0, at + 8);
  });
  out.writeUInt32LE(opts.loop ? ifdAt : 0, ifdAt + 2 + entries.length * 12);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// AVIF / HEIF

/** A real 8x8 AVIF whose `ispe` box declares width x height; `brand` replaces the major brand (e.g. `heic`). */
export async function avifDeclaring(width: number, height: number, brand?: string): Promise<Buffer> {
  const avif = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 9, g: 9, b: 9 } } }).avif({ effort: 0 }).toBuffer());
  const at = avif.indexOf('ispe', 0, 'latin1');
  if (at < 0) throw new Error('no ispe box in the generated AVIF');
  avif.writeUInt32BE(width >>> 0, at + 8);
  avif.writeUInt32BE(height >>> 0, at + 12);
  if (brand) avif.write(brand, 8, 'latin1');
  return avif;
}

// ---------------------------------------------------------------------------------------------------------
// SVG

const SVG_OPEN = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">';

export function svgBillionLaughs(levels = 10): string {
  const ents = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i < levels; i++) ents.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?>\n<!DOCTYPE svg [\n${ents.join('\n')}\n]>\n${SVG_OPEN}<text x="0" y="20">&lol${levels - 1};</text></svg>`;
}

export function svgQuadraticBlowup(entityBytes = 100_000, references = 10_000): string {
  return `<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY a "${'a'.repeat(entityBytes)}">]>\n${SVG_OPEN}<text x="0" y="20">${'&a;'.repeat(references)}</text></svg>`;
}

/**
 * `depth` levels of groups, each made of `fanout` <use> of the level below: fanout^depth rectangles. `ref` spells
 * the href to an id: libxml2 decodes character references (`&#35;l9`) before librsvg reads `#l9`.
 */
export function svgUseBomb(depth = 10, fanout = 10, ref: (id: string) => string = (id) => `#${id}`): string {
  const use = (id: string) => `<use href="${ref(id)}" xlink:href="${ref(id)}"/>`;
  const defs = ['<rect id="l0" width="1" height="1" fill="red"/>'];
  for (let i = 1; i <= depth; i++) defs.push(`<g id="l${i}">${use(`l${i - 1}`).repeat(fanout)}</g>`);
  return `${SVG_OPEN}<defs>${defs.join('')}</defs>${use(`l${depth}`)}</svg>`;
}

/** `depth` levels of patterns, each of `fanout` rectangles painted with the level below: no <use> at all. */
export function svgPatternBomb(depth = 6, fanout = 10): string {
  const defs = ['<pattern id="p0" width="64" height="64" patternUnits="userSpaceOnUse"><rect width="1" height="1" fill="red"/></pattern>'];
  for (let i = 1; i <= depth; i++) {
    const rects = Array.from({ length: fanout }, (_, k) => `<rect x="${k}" width="8" height="8" fill="url(#p${i - 1})"/>`).join('');
    defs.push(`<pattern id="p${i}" width="64" height="64" patternUnits="userSpaceOnUse">${rects}</pattern>`);
  }
  return `${SVG_OPEN}<defs>${defs.join('')}</defs><rect width="64" height="64" fill="url(#p${depth})"/></svg>`;
}

/** `depth` levels of markers, each a path of `fanout` vertices carrying the level below at every vertex. */
export function svgMarkerBomb(depth = 5, fanout = 10): string {
  const path = (marker: string) => `<path d="M0 0${Array.from({ length: fanout }, (_, k) => ` L${k} ${k}`).join('')}" stroke="red" marker-mid="url(#${marker})"/>`;
  const defs = ['<marker id="k0" markerWidth="64" markerHeight="64"><rect width="1" height="1"/></marker>'];
  for (let i = 1; i <= depth; i++) defs.push(`<marker id="k${i}" markerWidth="64" markerHeight="64">${path(`k${i - 1}`)}</marker>`);
  return `${SVG_OPEN}<defs>${defs.join('')}</defs>${path(`k${depth}`)}</svg>`;
}

/** The pattern bomb again, its references made by a <style> sheet through classes, with CSS escapes. */
export function svgStyleSheetBomb(depth = 6, fanout = 10): string {
  const rules = Array.from({ length: depth + 1 }, (_, i) => `.c${i}{fill:u\\72l(\\23 p${i})}`).join('');
  const defs = ['<pattern id="p0" width="64" height="64" patternUnits="userSpaceOnUse"><rect width="1" height="1" fill="red"/></pattern>'];
  for (let i = 1; i <= depth; i++) {
    const rects = Array.from({ length: fanout }, (_, k) => `<rect x="${k}" width="8" height="8" class="c${i - 1}"/>`).join('');
    defs.push(`<pattern id="p${i}" width="64" height="64" patternUnits="userSpaceOnUse">${rects}</pattern>`);
  }
  return `${SVG_OPEN}<style>${rules}</style><defs>${defs.join('')}</defs><rect width="64" height="64" class="c${depth}"/></svg>`;
}

export const svgHugeDims = (): string => '<svg xmlns="http://www.w3.org/2000/svg" width="1000000" height="1000000"><rect width="1000000" height="1000000" fill="red"/></svg>';

/** A small SVG with `inner` inside, after an optional DOCTYPE. */
export function svgWith(inner: string, doctype = ''): string {
  return `<?xml version="1.0"?>\n${doctype}${SVG_OPEN}<rect width="64" height="64" fill="#0a0"/>${inner}</svg>`;
}

// ---------------------------------------------------------------------------------------------------------
// The catalogue

export interface BombOptions {
  /** A loopback URL prefix that counts requests (`http://127.0.0.1:PORT`): SVG/MVG payloads point there. */
  readonly canaryBase: string;
}

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', tif: 'image/tiff', avif: 'image/avif', heic: 'image/heic', svg: 'image/svg+xml' };

function h(id: string, what: string, body: Buffer | string, type: string, extra: Partial<Hostile> = {}): Hostile {
  return { id, what, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body, type, mustNotEcho: [], ...extra };
}

/** Image bombs: files that declare or expand to far more pixels than any limit (security.md §2.2). */
export async function imageBombs(): Promise<Hostile[]> {
  return [
    h('png_bomb_60000', 'complete 60000x60000 1-bit PNG (3.6 Gpx)', pngZeros(60000, 60000, { bitDepth: 1 }), IMAGE_TYPES.png!, { expandsTo: 60000 * 7501 }),
    h('png_bomb_16000_rgba', 'complete 16000x16000 RGBA PNG (1 GB raw, under sharp\'s default limit)', pngZeros(16000, 16000, { channels: 4 }), IMAGE_TYPES.png!, { expandsTo: 16000 * 64001 }),
    h('png_dims_max', 'IHDR declaring 2^31-1 square', Buffer.concat([PNG_SIGNATURE, ihdr(0x7fffffff, 0x7fffffff, 8, 2), pngChunk('IDAT', deflateSync(Buffer.alloc(64))), pngChunk('IEND', Buffer.alloc(0))]), IMAGE_TYPES.png!),
    h('png_ztxt_bomb', '8x8 PNG with a zTXt chunk inflating to 512 MiB', pngWith([pngChunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), zlibZeros(512 * CHUNK)]))]), IMAGE_TYPES.png!, { expandsTo: 512 * CHUNK }),
    h('png_iccp_bomb', '8x8 PNG with an iCCP profile inflating to 512 MiB', pngWith([pngChunk('iCCP', Buffer.concat([Buffer.from('icc\0\0', 'latin1'), zlibZeros(512 * CHUNK)]))]), IMAGE_TYPES.png!, { expandsTo: 512 * CHUNK }),
    h('png_many_chunks', '8x8 PNG with 100 000 tEXt chunks', pngWith(Array.from({ length: 100_000 }, () => pngChunk('tEXt', Buffer.from('k\0v', 'latin1')))), IMAGE_TYPES.png!),
    h('jpeg_sof_65535', 'baseline JPEG declaring 65535x65535', await jpegDeclaring(65535, 65535, false), IMAGE_TYPES.jpg!),
    h('jpeg_progressive_65535', 'progressive JPEG declaring 65535x65535', await jpegDeclaring(65535, 65535, true), IMAGE_TYPES.jpg!),
    h('jpeg_progressive_16000', 'progressive JPEG declaring 16000x16000 (under sharp\'s default limit; 1.5 GB in libjpeg)', await jpegDeclaring(16000, 16000, true), IMAGE_TYPES.jpg!),
    h('jpeg_progressive_9000', 'progressive JPEG declaring 9000x9000: exactly the 81 MP default limit, so it passes every size check', await jpegDeclaring(9000, 9000, true), IMAGE_TYPES.jpg!),
    h('gif_many_frames', '2000x2000 screen, 10 000 frames', gifFrames(2000, 2000, 10_000), IMAGE_TYPES.gif!),
    h('gif_huge_screen', '65535x65535 logical screen, one 1x1 frame', gifFrames(65535, 65535, 1), IMAGE_TYPES.gif!),
    h('gif_huge_frame', '1x1 screen, one frame declaring 65535x65535', gifFrames(1, 1, 1, 65535, 65535), IMAGE_TYPES.gif!),
    h('webp_vp8l_16384', 'VP8L header declaring 16384x16384', webpVp8lDeclaring(16384, 16384), IMAGE_TYPES.webp!),
    h('webp_vp8x_canvas_huge', 'VP8X canvas of 2^24 x 2^24', await webpCanvasDeclaring(1 << 24, 1 << 24), IMAGE_TYPES.webp!),
    h('webp_anim_many_frames', '4000x4000 canvas, 10 000 frames', await webpFrames(4000, 10_000), IMAGE_TYPES.webp!),
    h('avif_ispe_huge', 'AVIF whose ispe declares 65535x65535', await avifDeclaring(65535, 65535), IMAGE_TYPES.avif!),
    h('heic_ispe_huge', 'HEIF (heic brand) whose ispe declares 65535x65535', await avifDeclaring(65535, 65535, 'heic'), IMAGE_TYPES.heic!),
    h('tiff_huge', 'TIFF declaring 100000x100000', tiffDeclaring(100_000, 100_000), IMAGE_TYPES.tif!),
    h('tiff_ifd_loop', '1x1 TIFF whose next-IFD offset points at itself', tiffDeclaring(1, 1, { loop: true }), IMAGE_TYPES.tif!),
    h('svg_billion_laughs', 'SVG with 10 levels of 10x entity expansion', svgBillionLaughs(), IMAGE_TYPES.svg!, { mustNotEcho: ['<!ENTITY', 'lollol'] }),
    h('svg_quadratic_blowup', 'SVG with a 100 kB entity referenced 10 000 times', svgQuadraticBlowup(), IMAGE_TYPES.svg!, { mustNotEcho: ['<!ENTITY', 'aaaaaaaaaaaaaaaa'] }),
    h('svg_use_bomb', 'SVG with 10 levels of 10 nested <use> (10^10 elements)', svgUseBomb(), IMAGE_TYPES.svg!, { mustNotEcho: ['<use'] }),
    h('svg_use_bomb_charref_dec', 'the <use> bomb with every href spelled &#35;l9', svgUseBomb(10, 10, (id) => `&#35;${id}`), IMAGE_TYPES.svg!, { mustNotEcho: ['<use'] }),
    h('svg_use_bomb_charref_hex', 'the <use> bomb with every href spelled &#x23;l9', svgUseBomb(10, 10, (id) => `&#x23;${id}`), IMAGE_TYPES.svg!, { mustNotEcho: ['<use'] }),
    h('svg_use_bomb_comment', 'the <use> bomb with a "</g>" in a comment opening every group', svgUseBomb().replace(/(<g id="l\d+">)/g, '$1<!-- </g> -->'), IMAGE_TYPES.svg!, { mustNotEcho: ['<use'] }),
    h('svg_pattern_bomb', 'SVG with 6 levels of 10 rectangles filled with the pattern below (10^6 elements)', svgPatternBomb(), IMAGE_TYPES.svg!, { mustNotEcho: ['<pattern'] }),
    h('svg_marker_bomb', 'SVG with 5 levels of markers on 10-vertex paths (10^5 markers)', svgMarkerBomb(), IMAGE_TYPES.svg!, { mustNotEcho: ['<marker'] }),
    h('svg_stylesheet_bomb', 'the pattern bomb made through <style> classes and CSS escapes', svgStyleSheetBomb(), IMAGE_TYPES.svg!, { mustNotEcho: ['<style'] }),
    h('svg_data_image_bomb', 'SVG whose <image> is the <use> bomb in a data: URL', svgWith(`<image width="64" height="64" href="data:image/svg+xml;base64,${Buffer.from(svgUseBomb()).toString('base64')}"/>`), IMAGE_TYPES.svg!, { mustNotEcho: ['<image'] }),
    h('svg_huge_dims', 'SVG of 1e6 x 1e6 px', svgHugeDims(), IMAGE_TYPES.svg!, { mustNotEcho: ['<svg'] }),
  ];
}

/** Malformed and truncated files (security.md §2.2 "corrupt input"). */
export async function malformedFiles(): Promise<Hostile[]> {
  const still = (fmt: 'jpeg' | 'gif' | 'webp') =>
    sharp({ create: { width: 64, height: 64, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })[fmt]().toBuffer();
  const [jpeg, gif, webp] = await Promise.all([still('jpeg'), still('gif'), still('webp')]);
  const png = pngNoise();
  const half = (b: Buffer) => b.subarray(0, Math.floor(b.length / 2));
  const badCrc = Buffer.from(png);
  badCrc[29] = badCrc[29]! ^ 0xff; // IHDR CRC
  const zeroHeight = await jpegDeclaring(8, 0, false);
  return [
    h('truncated_png', 'noise PNG cut in half', half(png), IMAGE_TYPES.png!),
    h('truncated_jpg', 'JPEG cut in half', half(jpeg), IMAGE_TYPES.jpg!),
    h('truncated_gif', 'GIF cut in half', half(gif), IMAGE_TYPES.gif!),
    h('truncated_webp', 'WebP cut in half', half(webp), IMAGE_TYPES.webp!),
    h('png_bad_crc', 'PNG whose IHDR CRC is wrong', badCrc, IMAGE_TYPES.png!),
    h('png_bad_zlib', 'PNG whose IDAT is not zlib', Buffer.concat([PNG_SIGNATURE, ihdr(8, 8, 8, 0), pngChunk('IDAT', Buffer.from('not zlib at all, just text')), pngChunk('IEND', Buffer.alloc(0))]), IMAGE_TYPES.png!),
    h('png_zero_dims', 'PNG declaring 0x0', Buffer.concat([PNG_SIGNATURE, ihdr(0, 0, 8, 0), pngChunk('IDAT', deflateSync(Buffer.alloc(1))), pngChunk('IEND', Buffer.alloc(0))]), IMAGE_TYPES.png!),
    h('png_signature_only', 'the 8-byte PNG signature and nothing else', PNG_SIGNATURE, IMAGE_TYPES.png!),
    h('jpeg_soi_eoi', 'a JPEG that is SOI then EOI', Buffer.from([0xff, 0xd8, 0xff, 0xd9]), IMAGE_TYPES.jpg!),
    h('jpeg_zero_height', 'a JPEG whose frame declares height 0', zeroHeight, IMAGE_TYPES.jpg!),
    h('zero_bin', 'an empty body', Buffer.alloc(0), IMAGE_TYPES.png!),
  ];
}

/** Files lying about what they are, polyglots, and SVGs that reach out (security.md §2.2). */
export async function disguisedFiles(opts: BombOptions): Promise<Hostile[]> {
  const c = opts.canaryBase;
  const html = '<!doctype html><html><body><script>alert("PAYLOAD-HTML-7f3a")</script></body></html>';
  const polyPng = Buffer.concat([
    pngWith([pngChunk('tEXt', Buffer.from('Comment\0<html><script>alert("PAYLOAD-POLY-PNG")</script></html>', 'latin1'))]),
    Buffer.from('<html><script>alert("PAYLOAD-POLY-PNG-TAIL")</script></html>'),
  ]);
  // GIFAR-style: the screen width bytes are "/*", so the file opens a JS comment that the trailer closes.
  const gifJs = Buffer.concat([gifFrames(0x2a2f, 1, 1, 1, 1), Buffer.from('*/=1;alert("PAYLOAD-GIF-JS");/*')]);
  const svgScript = svgWith(
    '<script>alert("PAYLOAD-SVG-SCRIPT")</script><a href="javascript:alert(1)"><text y="20">x</text></a>' +
      '<foreignObject width="64" height="64"><body xmlns="http://www.w3.org/1999/xhtml"><iframe src="javascript:alert(2)"></iframe></body></foreignObject>',
  ).replace('<svg ', '<svg onload="alert(\'PAYLOAD-SVG-ONLOAD\')" ');
  return [
    h('html_as_png', 'an HTML page with a script, labelled image/png', html, IMAGE_TYPES.png!, { mustNotEcho: ['PAYLOAD-HTML-7f3a', '<script'] }),
    h('html_as_gif_octet', 'an HTML page labelled image/gif', html, IMAGE_TYPES.gif!, { mustNotEcho: ['PAYLOAD-HTML-7f3a', '<script'] }),
    h('script_as_jpeg', 'JavaScript labelled image/jpeg', 'alert("PAYLOAD-JS-JPEG");', IMAGE_TYPES.jpg!, { mustNotEcho: ['PAYLOAD-JS-JPEG'] }),
    h('svg_as_png', 'an SVG with a script, labelled image/png', svgWith('<script>alert("PAYLOAD-SVG-AS-PNG")</script>'), IMAGE_TYPES.png!, { mustNotEcho: ['PAYLOAD-SVG-AS-PNG', '<script'] }),
    h('pdf_as_png', 'a PDF labelled image/png', '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', IMAGE_TYPES.png!, { mustNotEcho: ['%PDF'] }),
    h('imagetragick_mvg', 'ImageMagick MVG fetching a URL, labelled image/png', `push graphic-context\nviewbox 0 0 640 480\nfill 'url(${c}/canary/mvg.png)'\npop graphic-context\n`, IMAGE_TYPES.png!, { mustNotEcho: ['graphic-context'] }),
    h('polyglot_png_html', 'a valid PNG carrying HTML in a tEXt chunk and after IEND', polyPng, IMAGE_TYPES.png!, { mustNotEcho: ['PAYLOAD-POLY-PNG'] }),
    h('gif_js_polyglot', 'a GIF that is also JavaScript (screen width bytes "/*")', gifJs, IMAGE_TYPES.gif!, { mustNotEcho: ['PAYLOAD-GIF-JS'] }),
    h('svg_script', 'SVG with <script>, onload, javascript: and foreignObject', svgScript, IMAGE_TYPES.svg!, { mustNotEcho: ['PAYLOAD-SVG-SCRIPT', 'PAYLOAD-SVG-ONLOAD'] }),
    h('svg_xxe_file', 'SVG with an external entity on file:///etc/passwd', svgWith('<text y="20">&xxe;</text>', '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'), IMAGE_TYPES.svg!, { mustNotEcho: ['root:x:0:0'] }),
    h('svg_xxe_http', 'SVG with an external entity on the canary', svgWith('<text y="20">&xxe;</text>', `<!DOCTYPE svg [<!ENTITY xxe SYSTEM "${c}/canary/xxe">]>\n`), IMAGE_TYPES.svg!, { mustNotEcho: ['INTERNAL-SECRET-CANARY'] }),
    h('svg_xxe_internal', 'SVG with an internal entity declaration used in its text', svgWith('<text y="20">&xxe;</text>', '<!DOCTYPE svg [<!ENTITY xxe "PAYLOAD-INTERNAL-ENTITY">]>\n'), IMAGE_TYPES.svg!, { mustNotEcho: ['PAYLOAD-INTERNAL-ENTITY', '<!ENTITY'] }),
    h('svg_xxe_parameter', 'SVG with a parameter entity loading a DTD from the canary', svgWith('<text y="20">x</text>', `<!DOCTYPE svg [<!ENTITY % dtd SYSTEM "${c}/canary/dtd"> %dtd;]>\n`), IMAGE_TYPES.svg!, { mustNotEcho: ['INTERNAL-SECRET-CANARY'] }),
    h('svg_external_image_http', 'SVG <image> on the canary', svgWith(`<image href="${c}/canary/img.png" xlink:href="${c}/canary/img.png" width="64" height="64"/>`), IMAGE_TYPES.svg!, { mustNotEcho: ['INTERNAL-SECRET-CANARY'] }),
    h('svg_external_image_file', 'SVG <image> on file:///etc/passwd', svgWith('<image href="file:///etc/passwd" xlink:href="file:///etc/passwd" width="64" height="64"/>'), IMAGE_TYPES.svg!, { mustNotEcho: ['root:x:0:0'] }),
    h('svg_css_external', 'SVG with CSS @import and url() on the canary', svgWith(`<style>@import url(${c}/canary/css);rect{fill:url(${c}/canary/fill.svg#p)}</style>`), IMAGE_TYPES.svg!, { mustNotEcho: ['INTERNAL-SECRET-CANARY'] }),
    h('svg_feimage_use_external', 'SVG <feImage> and <use> on the canary', svgWith(`<filter id="f"><feImage href="${c}/canary/fe.png" xlink:href="${c}/canary/fe.png"/></filter><rect width="8" height="8" filter="url(#f)"/><use href="${c}/canary/use.svg#x" xlink:href="${c}/canary/use.svg#x"/>`), IMAGE_TYPES.svg!, { mustNotEcho: ['INTERNAL-SECRET-CANARY'] }),
    h('svg_xinclude_traversal', 'SVG with XInclude of .?../../../../etc/passwd (CVE-2023-38633)', svgWith('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href=".?../../../../../../etc/passwd" parse="text"/>'), IMAGE_TYPES.svg!, { mustNotEcho: ['root:x:0:0'] }),
  ];
}

/** Bodies sent with a Content-Encoding (security.md §3 exhaust-gzip-*, exhaust-deflate-bomb, exhaust-unknown-encoding). */
export function encodedBombs(): Hostile[] {
  const gib = 1 << 30;
  const nestedInner = gzipZeros(4 * gib);
  const nested = gzipSync(gzipSync(nestedInner, { level: 9 }), { level: 9 });
  const pngBomb = pngZeros(60000, 60000, { bitDepth: 1 });
  return [
    h('exhaust_gzip_1gib', 'gzip body inflating to 1 GiB of zeros', gzipZeros(gib), IMAGE_TYPES.png!, { encoding: 'gzip', expandsTo: gib }),
    h('exhaust_deflate_bomb', 'deflate (zlib) body inflating to 1 GiB of zeros', zlibZeros(gib), IMAGE_TYPES.png!, { encoding: 'deflate', expandsTo: gib }),
    h('exhaust_gzip_nested', `"gzip, gzip, gzip" in ${nested.length} B inflating to 4 GiB`, nested, IMAGE_TYPES.png!, { encoding: 'gzip, gzip, gzip', expandsTo: 4 * gib }),
    h('exhaust_gzip_twice_declared_once', 'gzip of gzip declared as one gzip (the inner stream is 4 GiB)', gzipSync(nestedInner, { level: 9 }), IMAGE_TYPES.png!, { encoding: 'gzip', expandsTo: 4 * gib }),
    h('exhaust_gzip_png_bomb', 'gzip-wrapped complete 60000x60000 PNG', gzipSync(pngBomb, { level: 9 }), IMAGE_TYPES.png!, { encoding: 'gzip' }),
    h('exhaust_unknown_encoding_br_zstd', 'Content-Encoding: br, zstd, x-custom', gzipZeros(CHUNK), IMAGE_TYPES.png!, { encoding: 'br, zstd, x-custom' }),
    h('exhaust_unknown_encoding_custom', 'Content-Encoding: x-custom', pngWith([]), IMAGE_TYPES.png!, { encoding: 'x-custom' }),
  ];
}
