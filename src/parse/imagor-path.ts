/**
 * imagor's URL grammar: splits `/[params/][HASH|unsafe/]PATH` and reads PATH's segments in imagor's strict
 * order into ImagorParams (imagorpath/parse.go). Total: any string parses, text that fits no segment ends up in
 * the image. Never verifies the hash (verify/imagor-signature.ts does) and never judges the image source.
 */
import { decodeBase64Url } from '../verify/encoding.js';
import { scanFiltersSegment } from './imagor-filters.js';
import { createImagorParams, type HAlign, type ImagorParams, type TrimBy, type VAlign } from './imagor-params.js';

/** The shortest run of `[A-Za-z0-9-_=]` imagor reads as a hash; a signer truncated below this is never recognised. */
export const MIN_HASH_LENGTH = 17;

const HASH = new RegExp(`^[A-Za-z0-9\\-_=]{${MIN_HASH_LENGTH},}$`);
// imagor strips these anywhere in the URL before matching (imagorpath/normalize.go breaksCleaner).
const LINE_BREAKS = /\r\n|[\r\n\v\f\u0085\u2028\u2029]/g;

const META = /^meta$/;
const TRIM = /^trim(?::(top-left|bottom-right))?(?::(\d+))?$/;
// Left/top: `D`, `.D` or `0.D`; right/bottom also `1.D` (so fractions up to 2 on the far edge).
const CROP = /^((?:0?\.)?\d+)x((?:0?\.)?\d+):((?:[01]?\.)?\d+)x((?:[01]?\.)?\d+)$/;
const FIT_IN = /^(adaptive-)?(full-)?fit-in$/;
const STRETCH = /^stretch$/;
const DIMENSIONS = /^(-?)(\d*)x(-?)(\d*)$/;
const PADDING = /^(\d+)x(\d+)(?::(\d+)x(\d+))?$/;
const H_ALIGN = /^(?:left|right|center)$/;
const V_ALIGN = /^(?:top|bottom|middle)$/;
const SMART = /^smart$/;

/** How the URL claims authority to be served: a hash to verify, `unsafe/`, or nothing. */
export type ImagorUrlPath =
  | { readonly kind: 'hash'; readonly hash: string; readonly path: string; readonly params: ImagorParams }
  | { readonly kind: 'unsafe'; readonly path: string; readonly params: ImagorParams }
  | { readonly kind: 'none'; readonly path: string; readonly params: ImagorParams };

/**
 * Parses a full imagor URL path (leading slashes, `params/`, hash or `unsafe/` included), as imagor's Parse.
 * `params.path` is the exact substring the hash signs, taken by position after the hash (line breaks stripped,
 * as imagor strips them before signing).
 */
export function parseImagorPath(urlPath: string): ImagorParams {
  const text = stripLineBreaks(urlPath);
  let pos = 0;
  while (text[pos] === '/') pos++;
  let paramsEndpoint = false;
  if (text.startsWith('params/', pos)) {
    paramsEndpoint = true;
    pos += 'params/'.length;
  }
  let unsafe = false;
  let hash = '';
  const slash = text.indexOf('/', pos);
  if (slash >= 0) {
    const first = text.slice(pos, slash);
    if (first === 'unsafe') {
      unsafe = true;
      pos = slash + 1;
    } else if (HASH.test(first) && first !== 'adaptive-full-fit-in') {
      // imagor: the one keyword that is 17+ hash characters long stays in the path.
      hash = first;
      pos = slash + 1;
    }
  }
  const path = text.slice(pos);
  return { ...parseImagorParamsPath(path), path, hash, unsafe, paramsEndpoint };
}

/** Removes CR, LF, VT, FF, NEL, LS and PS anywhere, as imagor does before reading a path. */
export function stripLineBreaks(text: string): string {
  return text.replace(LINE_BREAKS, '');
}

/** The same parse seen from the verifier: which authority the URL claims and the exact path to check it on. */
export function parseImagorUrlPath(urlPath: string): ImagorUrlPath {
  const params = parseImagorPath(urlPath);
  if (params.unsafe) return { kind: 'unsafe', path: params.path, params };
  if (params.hash !== '') return { kind: 'hash', hash: params.hash, path: params.path, params };
  return { kind: 'none', path: params.path, params };
}

/**
 * Reads the segments of PATH (the part after the hash) in imagor's order. Each segment is tried once at the
 * current position and skipped when it does not fit, so one given out of order becomes part of the image.
 */
export function parseImagorParamsPath(path: string): ImagorParams {
  const p: Mutable<ImagorParams> = createImagorParams();
  let pos = 0;
  while (path[pos] === '/') pos++;

  // A segment never contains `/`, so "fits" means the text up to the next `/` matches in full.
  const take = (pattern: RegExp): RegExpExecArray | undefined => {
    const end = path.indexOf('/', pos);
    if (end < 0) return undefined;
    const m = pattern.exec(path.slice(pos, end));
    if (!m) return undefined;
    pos = end + 1;
    return m;
  };

  if (take(META)) p.meta = true;
  let m = take(TRIM);
  if (m) {
    p.trim = true;
    p.trimBy = (m[1] as TrimBy | undefined) ?? 'top-left';
    p.trimTolerance = toInt(m[2]);
  }
  m = take(CROP);
  if (m) {
    p.cropLeft = Number.parseFloat(m[1]!);
    p.cropTop = Number.parseFloat(m[2]!);
    p.cropRight = Number.parseFloat(m[3]!);
    p.cropBottom = Number.parseFloat(m[4]!);
  }
  m = take(FIT_IN);
  if (m) {
    p.fitIn = true;
    p.adaptiveFitIn = m[1] !== undefined;
    p.fullFitIn = m[2] !== undefined;
  }
  if (take(STRETCH)) p.stretch = true;
  m = take(DIMENSIONS);
  if (m) {
    p.hFlip = m[1] === '-';
    p.width = toInt(m[2]);
    p.vFlip = m[3] === '-';
    p.height = toInt(m[4]);
  }
  m = take(PADDING);
  if (m) {
    p.paddingLeft = toInt(m[1]);
    p.paddingTop = toInt(m[2]);
    p.paddingRight = m[3] === undefined ? p.paddingLeft : toInt(m[3]);
    p.paddingBottom = m[4] === undefined ? p.paddingTop : toInt(m[4]);
  }
  m = take(H_ALIGN);
  if (m) p.hAlign = m[0] as HAlign;
  m = take(V_ALIGN);
  if (m) p.vAlign = m[0] as VAlign;
  if (take(SMART)) p.smart = true;

  const { filters, image, dropped } = scanFiltersSegment(path.slice(pos));
  p.filters = filters;
  p.droppedFilterText = dropped;
  if (image !== '') {
    const decoded = decodeImage(queryUnescape(image) ?? image);
    p.image = decoded.image;
    p.base64Image = decoded.base64;
  }
  return p;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Go's strconv.Atoi with the error ignored, as imagor does; clamped to the safe-integer range instead of int64. */
function toInt(digits: string | undefined): number {
  if (digits === undefined || digits === '') return 0;
  const n = Number.parseInt(digits, 10);
  return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n;
}

/** `b64:` + unpadded base64url (RFC 4648 §5) of UTF-8 text decodes; anything else stays literal. */
function decodeImage(image: string): { image: string; base64: boolean } {
  if (!image.startsWith('b64:')) return { image, base64: false };
  const text = decodeRawBase64Url(image.slice(4));
  return text === undefined ? { image, base64: false } : { image: text, base64: true };
}

/**
 * Go's base64.RawURLEncoding: no `=` at all, and (non-strict) the unused low bits of the last character are
 * ignored. The bytes must also be UTF-8 here, since image keys are strings (imagor keeps raw bytes).
 */
function decodeRawBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9\-_]*$/.test(text) || text.length % 4 === 1) return undefined;
  const rest = text.length % 4;
  let canonical = text;
  if (rest !== 0) {
    const last = B64URL.indexOf(text[text.length - 1]!);
    const kept = rest === 2 ? last & 0b110000 : last & 0b111100;
    canonical = text.slice(0, -1) + B64URL[kept]!;
  }
  const bytes = decodeBase64Url(canonical);
  return bytes === undefined ? undefined : decodeUtf8Strict(bytes);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Go's url.QueryUnescape: `%XX` to a byte, `+` to a space. Returns undefined where Go returns an error (a `%`
 * not followed by two hex digits) and, unlike Go, where the bytes are not UTF-8: a JS string cannot carry them.
 */
export function queryUnescape(text: string): string | undefined {
  if (!text.includes('%') && !text.includes('+')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= text.length || !isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) {
        return undefined;
      }
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 43 /* + */) {
      bytes.push(32);
    } else if (c < 128) {
      bytes.push(c);
    } else {
      // Copy the whole non-ASCII run (keeps surrogate pairs together).
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 128) j++;
      for (const b of encoder.encode(text.slice(i, j))) bytes.push(b);
      i = j - 1;
    }
  }
  return decodeUtf8Strict(Uint8Array.from(bytes));
}

/** An image that names a solid colour (`color:red`, `color:ff0000`, `color:none`): nothing is loaded. Case-insensitive, as imagor. */
export function isColorImage(image: string): boolean {
  return image.slice(0, 6).toLowerCase() === 'color:';
}

/** The colour text of a `color:` image, or undefined for any other image. */
export function colorImageSpec(image: string): string | undefined {
  return isColorImage(image) ? image.slice(6) : undefined;
}
