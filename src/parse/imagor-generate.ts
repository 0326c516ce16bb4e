/**
 * Writes ImagorParams back as an imagor path, in imagor's order and with its escaping (imagorpath/generate.go),
 * and as a signed or `unsafe/` URL path. Shared by the server (result keys) and the sdk; the MAC is the caller's.
 */
import { encodeBase64Url, utf8 } from '../verify/encoding.js';
import { fail } from '../respond/errors.js';
import { formatFiltersSegment } from './imagor-filters.js';
import { createImagorParams, type ImagorParams } from './imagor-params.js';
import { parseImagorParamsPath, stripLineBreaks } from './imagor-path.js';

/** Signs the path that follows the hash; see verify/imagor-signature.ts `createImagorPathSigner`. */
export type ImagorPathSigner = (path: string) => string;
export type AsyncImagorPathSigner = (path: string) => Promise<string>;

// Image prefixes imagor escapes because they read as a segment (generate.go).
const SEGMENT_PREFIXES = ['trim/', 'meta/', 'fit-in/', 'stretch/', 'top/', 'left/', 'right/', 'bottom/', 'center/', 'smart/'];

/**
 * The imagor path for these params, without hash or `unsafe/`. Emits what imagor's GeneratePath emits; where
 * imagor's output would not parse back to the same params (padding with no size before it reads as a crop; an
 * image that starts with `/`, `filters:` or a segment imagor does not escape, or that holds `%`, `+` or a line
 * break) it writes an unambiguous form instead. Fields that imagor cannot express (`center`, `middle`,
 * adaptive/full without fit-in) are dropped as imagor drops them.
 * @example generateImagorPath({ fitIn: true, width: 500, height: 400, image: 'a.com/b.png' }) // 'fit-in/500x400/a.com/b.png'
 */
export function generateImagorPath(fields: Partial<ImagorParams>): string {
  const p = createImagorParams(fields);
  checkNumbers(p);
  const parts: string[] = [];
  if (p.meta) parts.push('meta');
  if (p.trim) {
    let trim = 'trim';
    if (p.trimBy === 'bottom-right') trim += ':bottom-right';
    if (p.trimTolerance > 0) trim += `:${p.trimTolerance}`;
    parts.push(trim);
  }
  if (p.cropLeft > 0 || p.cropTop > 0 || p.cropRight > 0 || p.cropBottom > 0) {
    parts.push(`${formatFloat(p.cropLeft)}x${formatFloat(p.cropTop)}:${formatFloat(p.cropRight)}x${formatFloat(p.cropBottom)}`);
  }
  if (p.fitIn) parts.push(`${p.adaptiveFitIn ? 'adaptive-' : ''}${p.fullFitIn ? 'full-' : ''}fit-in`);
  if (p.stretch) parts.push('stretch');
  const hasPadding = p.paddingLeft > 0 || p.paddingTop > 0 || p.paddingRight > 0 || p.paddingBottom > 0;
  const sized = p.hFlip || p.width !== 0 || p.vFlip || p.height !== 0 || p.paddingLeft > 0 || p.paddingTop > 0;
  // imagor omits the size before `0x0:RxB` padding, which then reads as a crop unless fit-in/stretch precede it.
  if (sized || (hasPadding && !p.fitIn && !p.stretch)) {
    const hFlip = p.width < 0 ? !p.hFlip : p.hFlip;
    const vFlip = p.height < 0 ? !p.vFlip : p.vFlip;
    parts.push(`${hFlip ? '-' : ''}${Math.abs(p.width)}x${vFlip ? '-' : ''}${Math.abs(p.height)}`);
  }
  if (hasPadding) {
    parts.push(
      p.paddingLeft === p.paddingRight && p.paddingTop === p.paddingBottom
        ? `${p.paddingLeft}x${p.paddingTop}`
        : `${p.paddingLeft}x${p.paddingTop}:${p.paddingRight}x${p.paddingBottom}`,
    );
  }
  if (p.hAlign === 'left' || p.hAlign === 'right') parts.push(p.hAlign);
  if (p.vAlign === 'top' || p.vAlign === 'bottom') parts.push(p.vAlign);
  if (p.smart) parts.push('smart');
  if (p.filters.length > 0) parts.push(formatFiltersSegment(p.filters));
  parts.push(imageText(p, parts));
  return parts.join('/');
}

/** `HASH/path` with the signer, else `unsafe/path` (imagor's Generate). */
export function generateImagorUrl(fields: Partial<ImagorParams>, sign?: ImagorPathSigner): string {
  const path = generateImagorPath(fields);
  return sign ? `${sign(path)}/${path}` : `unsafe/${path}`;
}

/** generateImagorUrl with an asynchronous signer (Web Crypto in the sdk). */
export async function generateImagorUrlAsync(fields: Partial<ImagorParams>, sign: AsyncImagorPathSigner): Promise<string> {
  const path = generateImagorPath(fields);
  return `${await sign(path)}/${path}`;
}

function imageText(p: ImagorParams, before: readonly string[]): string {
  if (p.base64Image) return 'b64:' + encodeBase64Url(utf8(p.image), false);
  const prefix = before.length > 0 ? before.join('/') + '/' : '';
  const readsBack = (text: string): boolean => {
    const back = parseImagorParamsPath(stripLineBreaks(prefix + text));
    return back.image === p.image && !back.base64Image;
  };
  const imagorForm = needsImagorEscape(p.image) ? escapePathSegment(p.image) : p.image;
  if (readsBack(imagorForm)) return imagorForm;
  const strict = escapeStrict(p.image);
  if (readsBack(strict)) return strict;
  // A literal image such as `b64:aGk` always decodes on the way back; the b64 form at least keeps the image.
  return 'b64:' + encodeBase64Url(utf8(p.image), false);
}

function needsImagorEscape(image: string): boolean {
  return /[?(),]/.test(image) || SEGMENT_PREFIXES.some((prefix) => image.startsWith(prefix));
}

const HEX = '0123456789ABCDEF';

function percentEncode(text: string, keep: (c: number) => boolean): string {
  let out = '';
  for (const b of utf8(text)) {
    out += keep(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126
  );
}

/** Go's url.PathEscape: unreserved characters and `$ & + : = @` stay, all else is %XX (UTF-8, upper-case hex). */
export function escapePathSegment(text: string): string {
  return percentEncode(text, (c) => isUnreserved(c) || '$&+:=@'.includes(String.fromCharCode(c)));
}

/** Only unreserved characters stay: no `/`, `:` or `+` is left for the parser to read as syntax. */
function escapeStrict(text: string): string {
  return percentEncode(text, isUnreserved);
}

/** Go's strconv.FormatFloat(x, 'f', -1, 64): the shortest digits that read back exactly, never an exponent. */
export function formatFloat(x: number): string {
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const point = (dot < 0 ? mantissa.length : dot) + exponent;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (negative ? '-' : '') + out;
}

function checkNumbers(p: ImagorParams): void {
  const ints: Array<[string, number, boolean]> = [
    ['width', p.width, true],
    ['height', p.height, true],
    ['trimTolerance', p.trimTolerance, false],
    ['paddingLeft', p.paddingLeft, false],
    ['paddingTop', p.paddingTop, false],
    ['paddingRight', p.paddingRight, false],
    ['paddingBottom', p.paddingBottom, false],
  ];
  for (const [name, value, signed] of ints) {
    if (!Number.isSafeInteger(value) || (!signed && value < 0)) {
      fail('INVALID_PARAMS', `imagor ${name} must be a ${signed ? '' : 'non-negative '}integer, got ${value}`, name);
    }
  }
  const crops: Array<[string, number]> = [
    ['cropLeft', p.cropLeft],
    ['cropTop', p.cropTop],
    ['cropRight', p.cropRight],
    ['cropBottom', p.cropBottom],
  ];
  for (const [name, value] of crops) {
    if (!Number.isFinite(value) || value < 0) {
      fail('INVALID_PARAMS', `imagor ${name} must be a finite number >= 0, got ${value}`, name);
    }
  }
}
