/**
 * imagor's meta endpoint (`/HASH/meta/...`, processor/vipsprocessor/process.go metadata): the URL is processed
 * as for an image, and instead of encoding the result we describe it as imagor's JSON: format, content_type,
 * width, height, orientation, pages, bands and the source's EXIF with imagor's shortened keys (empty when the
 * processed image would carry none), plus blurhash, thumbhash and average_color when their filters ask. Never writes an image.
 */
import { encode as encodeBlurhash } from 'blurhash';
import sharp from 'sharp';
import { vips } from './vips.js';
import { rgbaToThumbHash } from 'thumbhash';
import type { Filter, ImagorParams } from '../parse/imagor-params.js';
import { isColorImage } from '../parse/imagor-path.js';
import { resolveLimits, type Limits } from '../policy/limits.js';
import { fail } from '../respond/errors.js';
import { executePlanToPixels, type RawImage } from './execute.js';
import { readBlurhashArgs } from './filters/response.js';
import { checkOverlays, createOverlayHooks } from './overlay.js';
import { buildPlan } from './plan.js';
import { colourSource, probeImage } from './probe.js';
import { validateFilters, type ProcessOptions } from './process-image.js';

/** imagor's Metadata struct, in its field order. */
export interface ImagorMeta {
  readonly format: string;
  readonly content_type: string;
  readonly width: number;
  readonly height: number;
  readonly orientation: number;
  readonly pages: number;
  readonly bands: number;
  readonly exif: Readonly<Record<string, string>>;
  readonly blurhash?: string;
  readonly thumbhash?: string;
  readonly average_color?: { readonly r: number; readonly g: number; readonly b: number };
}

export interface MetaExtras {
  readonly blurhash: { readonly x: number; readonly y: number } | undefined;
  readonly thumbhash: boolean;
  readonly avgcolor: boolean;
}

/**
 * The meta-only filters of a URL. INVALID_PARAMS for bad arguments even in lenient mode, as imagor answers
 * them with 400: blurhash needs two components from 1 to 9, thumbhash and avgcolor take none.
 */
export function readMetaExtras(filters: readonly Filter[]): MetaExtras {
  let blurhash: MetaExtras['blurhash'];
  let thumbhash = false;
  let avgcolor = false;
  for (const f of filters) {
    if (f.name === 'blurhash') {
      blurhash = readBlurhashArgs(f.args);
      if (blurhash === undefined) fail('INVALID_PARAMS', 'blurhash arguments', 'blurhash: x and y components must be between 1 and 9');
    } else if (f.name === 'thumbhash') {
      if (f.args !== '') fail('INVALID_PARAMS', 'thumbhash arguments', 'thumbhash: takes no arguments');
      thumbhash = true;
    } else if (f.name === 'avgcolor') {
      if (f.args !== '') fail('INVALID_PARAMS', 'avgcolor arguments', 'avgcolor: takes no arguments');
      avgcolor = true;
    }
  }
  return { blurhash, thumbhash, avgcolor };
}

// ---------------------------------------------------------------------------------------------------------
// EXIF as libvips names and prints it (foreign/exif.c vips_exif_to_s, libexif tag names) and imagor shortens
// it (exif.go): the tag name without the `exif-ifdN-` prefix, the value up to the first " (".

const TIFF_TAGS: Readonly<Record<number, string>> = {
  0x00fe: 'NewSubfileType', 0x0100: 'ImageWidth', 0x0101: 'ImageLength', 0x0102: 'BitsPerSample', 0x0103: 'Compression',
  0x0106: 'PhotometricInterpretation', 0x010a: 'FillOrder', 0x010d: 'DocumentName', 0x010e: 'ImageDescription',
  0x010f: 'Make', 0x0110: 'Model', 0x0111: 'StripOffsets', 0x0112: 'Orientation', 0x0115: 'SamplesPerPixel',
  0x0116: 'RowsPerStrip', 0x0117: 'StripByteCounts', 0x011a: 'XResolution', 0x011b: 'YResolution',
  0x011c: 'PlanarConfiguration', 0x0128: 'ResolutionUnit', 0x012d: 'TransferFunction', 0x0131: 'Software',
  0x0132: 'DateTime', 0x013b: 'Artist', 0x013e: 'WhitePoint', 0x013f: 'PrimaryChromaticities',
  0x0211: 'YCbCrCoefficients', 0x0212: 'YCbCrSubSampling', 0x0213: 'YCbCrPositioning', 0x0214: 'ReferenceBlackWhite',
  0x02bc: 'XMLPacket', 0x4746: 'Rating', 0x4749: 'RatingPercent', 0x8298: 'Copyright', 0x829a: 'ExposureTime',
  0x829d: 'FNumber', 0x8822: 'ExposureProgram', 0x8824: 'SpectralSensitivity', 0x8827: 'ISOSpeedRatings', 0x8828: 'OECF',
  0x8830: 'SensitivityType', 0x8831: 'StandardOutputSensitivity', 0x8832: 'RecommendedExposureIndex', 0x8833: 'ISOSpeed',
  0x8834: 'ISOSpeedLatitudeyyy', 0x8835: 'ISOSpeedLatitudezzz', 0x9000: 'ExifVersion', 0x9003: 'DateTimeOriginal',
  0x9004: 'DateTimeDigitized', 0x9010: 'OffsetTime', 0x9011: 'OffsetTimeOriginal', 0x9012: 'OffsetTimeDigitized',
  0x9101: 'ComponentsConfiguration', 0x9102: 'CompressedBitsPerPixel', 0x9201: 'ShutterSpeedValue', 0x9202: 'ApertureValue',
  0x9203: 'BrightnessValue', 0x9204: 'ExposureBiasValue', 0x9205: 'MaxApertureValue', 0x9206: 'SubjectDistance',
  0x9207: 'MeteringMode', 0x9208: 'LightSource', 0x9209: 'Flash', 0x920a: 'FocalLength', 0x9214: 'SubjectArea',
  0x927c: 'MakerNote', 0x9286: 'UserComment', 0x9290: 'SubsecTime', 0x9291: 'SubSecTimeOriginal',
  0x9292: 'SubSecTimeDigitized', 0x9c9b: 'XPTitle', 0x9c9c: 'XPComment', 0x9c9d: 'XPAuthor', 0x9c9e: 'XPKeywords',
  0x9c9f: 'XPSubject', 0xa000: 'FlashpixVersion', 0xa001: 'ColorSpace', 0xa002: 'PixelXDimension',
  0xa003: 'PixelYDimension', 0xa004: 'RelatedSoundFile', 0xa20b: 'FlashEnergy', 0xa20c: 'SpatialFrequencyResponse',
  0xa20e: 'FocalPlaneXResolution', 0xa20f: 'FocalPlaneYResolution', 0xa210: 'FocalPlaneResolutionUnit',
  0xa214: 'SubjectLocation', 0xa215: 'ExposureIndex', 0xa217: 'SensingMethod', 0xa300: 'FileSource', 0xa301: 'SceneType',
  0xa302: 'CFAPattern', 0xa401: 'CustomRendered', 0xa402: 'ExposureMode', 0xa403: 'WhiteBalance',
  0xa404: 'DigitalZoomRatio', 0xa405: 'FocalLengthIn35mmFilm', 0xa406: 'SceneCaptureType', 0xa407: 'GainControl',
  0xa408: 'Contrast', 0xa409: 'Saturation', 0xa40a: 'Sharpness', 0xa40b: 'DeviceSettingDescription',
  0xa40c: 'SubjectDistanceRange', 0xa420: 'ImageUniqueID', 0xa430: 'CameraOwnerName', 0xa431: 'BodySerialNumber',
  0xa432: 'LensSpecification', 0xa433: 'LensMake', 0xa434: 'LensModel', 0xa435: 'LensSerialNumber', 0xa500: 'Gamma',
  0xc4a5: 'PrintImageMatching', 0xea1c: 'Padding',
};

const GPS_TAGS: readonly string[] = [
  'GPSVersionID', 'GPSLatitudeRef', 'GPSLatitude', 'GPSLongitudeRef', 'GPSLongitude', 'GPSAltitudeRef', 'GPSAltitude',
  'GPSTimeStamp', 'GPSSatellites', 'GPSStatus', 'GPSMeasureMode', 'GPSDOP', 'GPSSpeedRef', 'GPSSpeed', 'GPSTrackRef',
  'GPSTrack', 'GPSImgDirectionRef', 'GPSImgDirection', 'GPSMapDatum', 'GPSDestLatitudeRef', 'GPSDestLatitude',
  'GPSDestLongitudeRef', 'GPSDestLongitude', 'GPSDestBearingRef', 'GPSDestBearing', 'GPSDestDistanceRef',
  'GPSDestDistance', 'GPSProcessingMethod', 'GPSAreaInformation', 'GPSDateStamp', 'GPSDifferential',
  'GPSHPositioningError',
];

const INTEROP_TAGS: Readonly<Record<number, string>> = {
  0x0001: 'InteroperabilityIndex', 0x0002: 'InteroperabilityVersion', 0x1000: 'RelatedImageFileFormat',
  0x1001: 'RelatedImageWidth', 0x1002: 'RelatedImageLength',
};

type Ifd = 'ifd0' | 'ifd1' | 'exif' | 'gps' | 'interop';

function tagName(ifd: Ifd, tag: number): string | undefined {
  if (ifd === 'gps') return GPS_TAGS[tag];
  if (ifd === 'interop') return INTEROP_TAGS[tag];
  return TIFF_TAGS[tag];
}

/** Bytes per component of each TIFF type: BYTE ASCII SHORT LONG RATIONAL SBYTE UNDEFINED SSHORT SLONG SRATIONAL FLOAT DOUBLE. */
const TYPE_SIZES = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8] as const;
const T = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, SBYTE: 6, UNDEFINED: 7, SSHORT: 8, SLONG: 9, SRATIONAL: 10 } as const;

interface Entry {
  readonly tag: number;
  readonly type: number;
  readonly count: number;
  readonly data: Buffer;
}

interface Reader {
  u16(at: number): number;
  u32(at: number): number;
  s16(at: number): number;
  s32(at: number): number;
}

function reader(b: Buffer, little: boolean): Reader {
  return {
    u16: (at) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at)),
    u32: (at) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at)),
    s16: (at) => (little ? b.readInt16LE(at) : b.readInt16BE(at)),
    s32: (at) => (little ? b.readInt32LE(at) : b.readInt32BE(at)),
  };
}

/** libexif's exif_entry_get_value for the formats libvips hands over to it (UNDEFINED, BYTE, long lists). */
function libexifValue(ifd: Ifd, e: Entry, r: Reader): string {
  const name = tagName(ifd, e.tag);
  const d = e.data;
  const text = (bytes: Buffer): string => bytes.toString('latin1').replace(/\0[\s\S]*$/, '');
  if (name === 'ExifVersion' || name === 'FlashpixVersion') {
    const v = text(d.subarray(0, 4));
    const known: Record<string, string> =
      name === 'ExifVersion'
        ? { '0110': '1.1', '0120': '1.2', '0200': '2.0', '0210': '2.1', '0220': '2.2', '0221': '2.21', '0230': '2.3', '0231': '2.31', '0232': '2.32' }
        : { '0100': '1.0', '0101': '1.01' };
    const label = name === 'ExifVersion' ? 'Exif Version' : 'FlashPix Version';
    return known[v] !== undefined ? `${label} ${known[v]}` : `Unknown ${label}`;
  }
  if (name === 'InteroperabilityVersion') return text(d);
  if (name === 'ComponentsConfiguration') {
    const parts = ['-', 'Y', 'Cb', 'Cr', 'R', 'G', 'B'];
    return [...d].map((c) => parts[c] ?? 'Reserved').join(' ');
  }
  if (name === 'GPSVersionID' && d.length >= 4) return `${d[0]}.${d[1]}.${d[2]}.${d[3]}`;
  if (name?.startsWith('XP')) return d.toString('utf16le').replace(/\0[\s\S]*$/, '');
  if (name === 'UserComment') return text(d.subarray(8)).trim();
  if (name === 'FileSource') return d[0] === 3 ? 'DSC' : `Internal error (unknown value ${d[0] ?? 0})`;
  if (name === 'SceneType') return d[0] === 1 ? 'Directly photographed' : `Internal error (unknown value ${d[0] ?? 0})`;
  switch (e.type) {
    case T.UNDEFINED:
      return `${d.length} bytes undefined data`;
    case T.BYTE:
    case T.SBYTE:
      return [...d].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ');
    case T.SHORT:
    case T.SSHORT:
    case T.LONG:
    case T.SLONG: {
      const size = TYPE_SIZES[e.type];
      const out: number[] = [];
      for (let i = 0; i < e.count; i++) {
        const at = i * size;
        out.push(e.type === T.SHORT ? r.u16(at) : e.type === T.SSHORT ? r.s16(at) : e.type === T.LONG ? r.u32(at) : r.s32(at));
      }
      return out.join(', ');
    }
    default:
      return `${d.length} bytes`;
  }
}

/** An entry as libvips writes it into its `exif-ifdN-Name` field, then shortened as imagor does. */
function formatEntry(ifd: Ifd, e: Entry, little: boolean): string {
  const r = reader(e.data, little);
  const size = TYPE_SIZES[e.type] ?? 1;
  const each = (f: (at: number) => string): string => Array.from({ length: e.count }, (_, i) => f(i * size)).join(' ');
  let value: string;
  if (e.type === T.ASCII) value = e.data.subarray(0, Math.min(254, e.data.length)).toString('latin1').replace(/\0[\s\S]*$/, '');
  else if (e.count < 10 && e.type === T.SHORT) value = each((at) => String(r.u16(at)));
  else if (e.count < 10 && e.type === T.SSHORT) value = each((at) => String(r.s16(at)));
  else if (e.count < 10 && (e.type === T.LONG || e.type === T.SLONG)) value = each((at) => String(r.s32(at))); // libvips casts to int
  else if (e.count < 10 && e.type === T.RATIONAL) value = each((at) => `${r.u32(at)}/${r.u32(at + 4)}`);
  else if (e.count < 10 && e.type === T.SRATIONAL) value = each((at) => `${r.s32(at)}/${r.s32(at + 4)}`);
  else value = libexifValue(ifd, e, r);
  const cut = value.indexOf(' (');
  return (cut >= 0 ? value.slice(0, cut) : value).trim();
}

/**
 * The EXIF of a source as imagor's meta shows it: `{Make: "Canon", FNumber: "71/10", ...}`. Takes the raw
 * EXIF block (with or without the `Exif\0\0` header); tags libexif does not know are left out, as libexif
 * drops them. Where IFD0 and IFD1 (the thumbnail) share a tag, IFD0's value is kept (imagor's Go map gives either).
 */
export function readExif(block: Uint8Array | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (block === undefined || block.length < 8) return out;
  let b = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  if (b.toString('latin1', 0, 6) === 'Exif\0\0') b = b.subarray(6);
  // libexif reads at most this much of the TIFF structure.
  b = b.subarray(0, 65528);
  if (b.length < 8) return out;
  const order = b.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return out;
  const little = order === 'II';
  const r = reader(b, little);
  const found = new Map<string, string>();
  const visited = new Set<number>();
  let budget = 2000;

  const readIfd = (offset: number, ifd: Ifd): number => {
    if (offset < 8 || offset + 2 > b.length || visited.has(offset)) return 0;
    visited.add(offset);
    const n = r.u16(offset);
    for (let i = 0; i < n && budget-- > 0; i++) {
      const at = offset + 2 + i * 12;
      if (at + 12 > b.length) break;
      const tag = r.u16(at);
      const type = r.u16(at + 2);
      const count = r.u32(at + 4);
      const size = TYPE_SIZES[type as 1];
      if (size === undefined || type === 0 || type > 12) continue;
      const bytes = size * count;
      const dataAt = bytes <= 4 ? at + 8 : r.u32(at + 8);
      if (ifd !== 'gps' && ifd !== 'interop' && (tag === 0x8769 || tag === 0x8825)) {
        readIfd(r.u32(at + 8), tag === 0x8769 ? 'exif' : 'gps');
        continue;
      }
      if (ifd === 'exif' && tag === 0xa005) {
        readIfd(r.u32(at + 8), 'interop');
        continue;
      }
      // The thumbnail's location is not a tag to libexif.
      if (tag === 0x0201 || tag === 0x0202) continue;
      const name = tagName(ifd, tag);
      if (name === undefined || count === 0 || dataAt + bytes > b.length) continue;
      const key = name;
      if (found.has(key)) continue;
      const value = formatEntry(ifd, { tag, type, count, data: b.subarray(dataAt, dataAt + bytes) }, little);
      if (value !== '') found.set(key, value);
    }
    const next = offset + 2 + n * 12;
    return next + 4 <= b.length ? r.u32(next) : 0;
  };

  const ifd1 = readIfd(r.u32(4), 'ifd0');
  if (ifd1 !== 0) readIfd(ifd1, 'ifd1');
  for (const key of [...found.keys()].sort()) out[key] = found.get(key)!;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Placeholders, measured on the first frame of the output (imagor measures the whole stack of an animation).

const frameOne = (raw: RawImage): Buffer => raw.data.subarray(0, raw.width * raw.height * raw.channels);
const rawInput = (raw: RawImage) => ({ raw: { width: raw.width, height: raw.height, channels: raw.channels }, limitInputPixels: false as const });

/** The first frame flattened onto `background`, shrunk to fit `box` x `box`, as RGB. */
async function thumbnailRgb(raw: RawImage, background: number, box: number): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await vips(frameOne(raw), rawInput(raw))
    .flatten({ background: { r: background, g: background, b: background } })
    .resize(box, box, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** imagor's avgColorRGB: transparency over white, at most 64 px, mean of each channel. */
export async function averageColour(raw: RawImage): Promise<{ r: number; g: number; b: number }> {
  const t = await thumbnailRgb(raw, 255, 64);
  const sums = [0, 0, 0];
  const n = t.width * t.height;
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) sums[c]! += t.data[i * 3 + c]!;
  return { r: Math.round(sums[0]! / n), g: Math.round(sums[1]! / n), b: Math.round(sums[2]! / n) };
}

/** imagor's blurHash: transparency over black, at most 64 px. */
export async function blurhashOf(raw: RawImage, x: number, y: number): Promise<string> {
  const t = await thumbnailRgb(raw, 0, 64);
  const rgba = new Uint8ClampedArray(t.width * t.height * 4);
  for (let i = 0; i < t.width * t.height; i++) {
    rgba[i * 4] = t.data[i * 3]!;
    rgba[i * 4 + 1] = t.data[i * 3 + 1]!;
    rgba[i * 4 + 2] = t.data[i * 3 + 2]!;
    rgba[i * 4 + 3] = 255;
  }
  return encodeBlurhash(rgba, t.width, t.height, x, y);
}

/** imagor's thumbHash: at most 100 px, transparency kept, standard base64. */
export async function thumbhashOf(raw: RawImage): Promise<string> {
  const { data, info } = await vips(frameOne(raw), rawInput(raw))
    .resize(100, 100, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64');
}

// ---------------------------------------------------------------------------------------------------------

function resolveLimitsOption(limits: ProcessOptions['limits']): Limits {
  if (limits === undefined) return resolveLimits();
  return 'maxFrames' in limits && limits.maxFrames !== undefined && limits.maxWidth !== undefined && limits.maxHeight !== undefined && limits.maxResolution !== undefined
    ? (limits as Limits)
    : resolveLimits(limits);
}

export interface MetaResult {
  readonly meta: ImagorMeta;
  /** imagor's JSON (Go's encoding/json: compact, keys of `exif` sorted, `<`, `>`, `&` escaped). */
  readonly body: Buffer;
  /** The format, and so the answer, depends on the Accept header. */
  readonly vary: boolean;
}

/**
 * Processes `params` on `input` as processImage would and describes the result. Throws as processImage does,
 * and INVALID_PARAMS for bad blurhash/thumbhash/avgcolor arguments.
 */
export async function describeImage(input: Uint8Array, params: ImagorParams, options: ProcessOptions = {}): Promise<MetaResult> {
  const limits = resolveLimitsOption(options.limits);
  validateFilters(params, options);
  checkOverlays(params, options);
  const extras = readMetaExtras(params.filters);
  const colour = isColorImage(params.image);
  const source = colour ? colourSource(params.image, params.width, params.height, limits) : await probeImage(input, limits);
  const plan = buildPlan(params, source, { ...options, limits });
  const raw = await executePlanToPixels(plan, input, options.signal, createOverlayHooks(options, limits));
  // BMP is decoded by pixgate itself (sharp's libvips has no BMP loader) and carries no orientation.
  const header = colour || source.format === 'bmp' ? undefined : await sharp(input, { limitInputPixels: false }).metadata();
  // libvips drops the orientation tag once it has turned the image upright; absent, it reads 0.
  const orientation = header?.orientation === undefined || plan.load.autoOrient ? 0 : header.orientation;
  const format = plan.output.format;
  const meta: ImagorMeta = {
    format,
    content_type: plan.output.contentType,
    width: raw.width,
    height: raw.height,
    orientation,
    pages: format === 'gif' || format === 'webp' ? raw.frames : 1,
    bands: raw.channels,
    // Only what the processed image would carry: none after strip_exif or stripped metadata, after a restart
    // from raw pixels (effects, overlays, trim), or in a format that stores none (the executor decides).
    exif: raw.exif ? readExif(header?.exif) : {},
    ...(extras.blurhash !== undefined && { blurhash: await blurhashOf(raw, extras.blurhash.x, extras.blurhash.y) }),
    ...(extras.thumbhash && { thumbhash: await thumbhashOf(raw) }),
    ...(extras.avgcolor && { average_color: await averageColour(raw) }),
  };
  return { meta, body: Buffer.from(toGoJson(meta)), vary: plan.vary };
}

/** JSON.stringify as Go's encoding/json writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function toGoJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
