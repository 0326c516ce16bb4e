/**
 * Rewrites the image URLs in user HTML to signed camo or imagor URLs. The HTML is read with parse5 (the
 * WHATWG algorithm browsers use) and only the bytes of each rewritten URL change: everything else, including
 * quoting, entities and malformed markup, is copied through as it was. Never fetches and never sanitises:
 * run your sanitiser first (this does not remove scripts, `<base>` or event handlers).
 */
import { defaultTreeAdapter, Parser, Token, type DefaultTreeAdapterMap, type TreeAdapter } from 'parse5';
import type { CamoEncoding } from '../verify/camo-digest.js';
import type { ImagorSignerType } from '../verify/imagor-signature.js';
import type { AsyncMacFn } from '../verify/mac.js';
import { camoUrl } from './camo.js';
import { buildImagorPath, imagorUrl, type ImagorOptions } from './imagor.js';
import { asyncMac, invalidParameter } from './validate.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

const HTML_NS = 'http://www.w3.org/1999/xhtml';
const SVG_NS = 'http://www.w3.org/2000/svg';

/** The imagor operations applied to every rewritten image: ImagorOptions without the image itself. */
export type ImagorOperations = Omit<ImagorOptions, 'image' | 'presets' | 'base64Image'>;

/** Where an image URL was found, for the `imagor` callback. */
export interface ImageUrlContext {
  /** The absolute source URL (WHATWG-normalised, fragment removed). */
  readonly url: string;
  /**
   * Element name as parsed (`img`, `source`, `video`, `input`, `image`, `use`, `feImage`, `body`, `table`,
   * `thead`, `tbody`, `tfoot`, `tr`, `td`, `th`, or any for `style`).
   */
  readonly element: string;
  /** `src`, `srcset`, `poster`, `href`, `xlink:href`, `background` or `style`. */
  readonly attribute: string;
  /** The srcset descriptor (`2x`, `480w`), '' when there is none. */
  readonly descriptor: string;
}

interface RewriteHtmlCommonOptions {
  /** Origin (and base path) of the proxy, e.g. `https://img.example.com`. URLs already under it are left alone. */
  readonly baseUrl: string;
  /** Leave https URLs as they are (go-camo's examples only proxy http, which is what causes mixed content). */
  readonly skipHttps?: boolean;
  /**
   * Only rewrite URLs whose host matches one of these. A pattern is a host name (`example.com`), `*` for any
   * host, `*.example.com` for any host below example.com (not example.com itself), or a name with `*` standing
   * for any run of characters inside one label (`img*.example.com`). Case-insensitive; ports are ignored.
   */
  readonly allowHosts?: readonly string[];
  /** Never rewrite URLs whose host matches one of these (same patterns); checked after allowHosts. */
  readonly denyHosts?: readonly string[];
  /** The MAC to sign with; Web Crypto when left out. */
  readonly mac?: AsyncMacFn;
}

export interface RewriteHtmlCamoOptions extends RewriteHtmlCommonOptions {
  readonly mode: 'camo';
  readonly key: string;
  readonly encoding?: CamoEncoding;
}

export interface RewriteHtmlImagorOptions extends RewriteHtmlCommonOptions {
  readonly mode: 'imagor';
  /** Required unless `unsafe`. */
  readonly secret?: string | Uint8Array;
  readonly type?: ImagorSignerType;
  readonly truncate?: number;
  readonly unsafe?: boolean;
  /**
   * Operations for every image (e.g. `{ fitIn: true, width: 800 }`), or a function choosing them per image;
   * the function may return null to leave that URL as it is.
   */
  readonly imagor?: ImagorOperations | ((image: ImageUrlContext) => ImagorOperations | null);
  /** Presets applied to every image (see ImagorOptions.presets). */
  readonly presets?: readonly string[];
}

export type RewriteHtmlOptions = RewriteHtmlCamoOptions | RewriteHtmlImagorOptions;

// ---------------------------------------------------------------------------------------------------------
// Which attributes hold image URLs

type ValueKind = 'url' | 'srcset' | 'style' | 'srcdoc';

interface Target {
  readonly element: Element;
  /** The attribute's key in parse5's location table: the name as written, lower-cased (`xlink:href`). */
  readonly key: string;
  readonly kind: ValueKind;
}

function attrValue(element: Element, key: string): string | undefined {
  for (const a of element.attrs) {
    if ((a.prefix ? `${a.prefix}:${a.name}` : a.name) === key) return a.value;
  }
  return undefined;
}

function targetsOf(element: Element): Target[] {
  const out: Target[] = [];
  const add = (key: string, kind: ValueKind): void => {
    if (attrValue(element, key) !== undefined) out.push({ element, key, kind });
  };
  const parent = element.parentNode as Element | null;
  if (element.namespaceURI === HTML_NS) {
    switch (element.tagName) {
      case 'img':
        add('src', 'url');
        add('srcset', 'srcset');
        break;
      case 'source':
        if (parent && 'tagName' in parent && parent.tagName === 'picture' && parent.namespaceURI === HTML_NS) add('srcset', 'srcset');
        break;
      case 'video':
        add('poster', 'url');
        break;
      case 'input':
        if ((attrValue(element, 'type') ?? '').trim().toLowerCase() === 'image') add('src', 'url');
        break;
      case 'body':
      case 'table':
      case 'thead':
      case 'tbody':
      case 'tfoot':
      case 'tr':
      case 'td':
      case 'th':
        // The legacy background attribute: browsers still load it as the element's background-image (HTML's
        // rendering section), so it leaks the reader's address and is mixed content like an img src.
        add('background', 'url');
        break;
      case 'iframe':
        // A srcdoc frame shows images as its parent does; its HTML is rewritten the same way.
        add('srcdoc', 'srcdoc');
        break;
    }
  } else if (element.namespaceURI === SVG_NS && ['image', 'use', 'feImage'].includes(element.tagName)) {
    add('href', 'url');
    add('xlink:href', 'url');
  }
  add('style', 'style');
  return out;
}

/**
 * Where the attributes a later `<html>` or `<body>` start tag adds to the existing element sit in the source:
 * parse5 merges them (HTML's "adopt attributes") without a location, yet browsers use them, so
 * `<p>hi</p><body background=...>` must be rewritten too.
 */
type AdoptedLocations = WeakMap<Element, Record<string, Token.Location>>;

/** parse5's Parser with the token being processed in view (the tree adapter has no other way to see it). */
class LocatingParser extends Parser<DefaultTreeAdapterMap> {
  get token(): Token.Token | null {
    return this.currentToken;
  }
}

function parseHtml(html: string, scriptingEnabled: boolean, adopted: AdoptedLocations): DefaultTreeAdapterMap['document'] {
  let parser: LocatingParser | undefined;
  const treeAdapter: TreeAdapter<DefaultTreeAdapterMap> = {
    ...defaultTreeAdapter,
    adoptAttributes(recipient, attrs) {
      const had = new Set(recipient.attrs.map((a) => a.name));
      defaultTreeAdapter.adoptAttributes(recipient, attrs);
      const token = parser?.token;
      const where = token?.type === Token.TokenType.START_TAG ? token.location?.attrs : undefined;
      if (where === undefined) return;
      const found = adopted.get(recipient) ?? {};
      for (const a of attrs) {
        const at = where[a.name];
        if (!had.has(a.name) && at !== undefined) found[a.name] = at;
      }
      adopted.set(recipient, found);
    },
  };
  parser = new LocatingParser({ sourceCodeLocationInfo: true, scriptingEnabled, treeAdapter });
  parser.tokenizer.write(html, true);
  return parser.document;
}

function collectTargets(node: Node, out: Target[]): void {
  if ('tagName' in node) out.push(...targetsOf(node));
  if ('childNodes' in node) for (const child of node.childNodes) collectTargets(child, out);
  if ('content' in node && node.content) collectTargets(node.content, out);
}

// ---------------------------------------------------------------------------------------------------------
// Attribute values: where they sit in the source, and their character references

interface RawValue {
  readonly start: number;
  readonly end: number;
  /** `"`, `'` or '' for an unquoted value. */
  readonly quote: string;
}

/** Finds the value inside the attribute's source text `name = "value"`. */
function locateValue(html: string, start: number, end: number, keyLength: number): RawValue | undefined {
  const m = /^[\t\n\f\r ]*=[\t\n\f\r ]*/.exec(html.slice(start + keyLength, end));
  if (!m) return undefined;
  const valueStart = start + keyLength + m[0].length;
  const q = html[valueStart];
  if ((q === '"' || q === "'") && end - valueStart >= 2 && html[end - 1] === q) return { start: valueStart + 1, end: end - 1, quote: q };
  return { start: valueStart, end, quote: '' };
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const LEGACY = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp']);

/**
 * Decodes the common character references of an attribute value and records, for each decoded UTF-16 unit,
 * where it starts in the source (`map` has one more entry: the source length). Rare references are left
 * as they are; the caller compares with parse5's value and falls back to rewriting the whole value.
 */
function decodeWithMap(raw: string): { text: string; map: number[] } {
  let text = '';
  const map: number[] = [];
  let i = 0;
  const emit = (s: string, at: number): void => {
    for (let k = 0; k < s.length; k++) map.push(at);
    text += s;
  };
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '\r') {
      emit('\n', i);
      i += raw[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    if (c !== '&') {
      emit(c, i);
      i++;
      continue;
    }
    const m = /^&(?:#([0-9]{1,7});?|#[xX]([0-9a-fA-F]{1,6});?|([A-Za-z][A-Za-z0-9]*)(;?))/.exec(raw.slice(i, i + 40));
    let decoded: string | undefined;
    if (m?.[1] !== undefined || m?.[2] !== undefined) {
      const cp = m[1] !== undefined ? Number.parseInt(m[1], 10) : Number.parseInt(m[2]!, 16);
      if (cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) && !(cp >= 0x80 && cp <= 0x9f)) decoded = String.fromCodePoint(cp);
    } else if (m?.[3] !== undefined) {
      const name = m[3];
      const next = raw[i + m[0].length];
      if (m[4] === ';' ? NAMED[name] !== undefined : LEGACY.has(name) && next !== '=') decoded = NAMED[name];
    }
    if (m && decoded !== undefined) {
      emit(decoded, i);
      i += m[0].length;
    } else {
      emit('&', i);
      i++;
    }
  }
  map.push(raw.length);
  return { text, map };
}

/** Character references for what the value's quoting cannot hold as it is. */
function encodeAttr(text: string, quote: string): string {
  return text.replace(/[&"'<>=`\t\n\f\r ]/g, (ch) => {
    if (ch === '&') return '&amp;';
    if (quote === '') return `&#${ch.charCodeAt(0)};`;
    if (ch === quote) return ch === '"' ? '&quot;' : '&#39;';
    return ch;
  });
}

// ---------------------------------------------------------------------------------------------------------
// URL spans inside a decoded value

interface Span {
  readonly start: number;
  readonly end: number;
  readonly descriptor: string;
  /** How the replacement must be written in CSS: inside `"`/`'` quotes, or bare in url(). undefined outside CSS. */
  readonly css?: '"' | "'" | '';
  /** The URL when it differs from the span's text (CSS escapes decoded). */
  readonly text?: string;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';

function urlSpans(value: string): Span[] {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value[start])) start++;
  while (end > start && isSpace(value[end - 1])) end--;
  return start < end ? [{ start, end, descriptor: '' }] : [];
}

/** HTML's "parse a srcset attribute", keeping where each URL sits. */
function srcsetSpans(value: string): Span[] {
  const out: Span[] = [];
  let pos = 0;
  const n = value.length;
  while (pos < n) {
    while (pos < n && (isSpace(value[pos]) || value[pos] === ',')) pos++;
    if (pos >= n) break;
    const start = pos;
    while (pos < n && !isSpace(value[pos])) pos++;
    let end = pos;
    if (value[end - 1] === ',') {
      while (end > start && value[end - 1] === ',') end--;
      out.push({ start, end, descriptor: '' });
      continue;
    }
    const descStart = pos;
    let inParens = false;
    while (pos < n) {
      const c = value[pos]!;
      if (inParens) {
        if (c === ')') inParens = false;
      } else if (c === '(') {
        inParens = true;
      } else if (c === ',') {
        break;
      }
      pos++;
    }
    out.push({ start, end, descriptor: value.slice(descStart, pos).trim() });
    pos++;
  }
  return out;
}

const IDENT_CHAR = /[A-Za-z0-9_\-\u0080-\uffff]/;
const HEX_ESCAPE = /^[0-9a-fA-F]{1,6}/;

/**
 * Reads one CSS escape at `at` (a backslash), per CSS Syntax "consume an escaped code point". Returns
 * undefined for a backslash before a line break or at the end, which is not an escape.
 */
function readEscape(css: string, at: number): { char: string; end: number } | undefined {
  const next = css[at + 1];
  if (next === undefined || next === '\n') return undefined;
  const hex = HEX_ESCAPE.exec(css.slice(at + 1, at + 7));
  if (!hex) return { char: next, end: at + 2 };
  const cp = Number.parseInt(hex[0], 16);
  let end = at + 1 + hex[0].length;
  if (isSpace(css[end])) end++;
  const valid = cp !== 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
  return { char: valid ? String.fromCodePoint(cp) : '\ufffd', end };
}

/**
 * A quoted string at `at`: its decoded content, where its content ends (`end`, before the closing quote if
 * any), where the token ends (`next`), and whether a browser keeps it (the end of the input closes a string;
 * a line break makes it a bad string).
 */
function readCssString(css: string, at: number): { end: number; next: number; text: string; valid: boolean } {
  const q = css[at]!;
  let text = '';
  let j = at + 1;
  while (j < css.length) {
    const c = css[j]!;
    if (c === q) return { end: j, next: j + 1, text, valid: true };
    if (c === '\n') return { end: j, next: j, text, valid: false };
    if (c === '\\') {
      if (css[j + 1] === '\n') {
        j += 2; // an escaped line break continues the string
        continue;
      }
      const e = readEscape(css, j);
      if (!e) return { end: j + 1, next: j + 1, text, valid: true }; // a backslash at the very end is dropped
      text += e.char;
      j = e.end;
      continue;
    }
    text += c;
    j++;
  }
  return { end: j, next: j, text, valid: true };
}

/**
 * The URLs of `url(...)` and of the strings directly inside `image-set(...)` in a style attribute, read as
 * a browser reads them (CSS escapes decoded, so `\75 rl(` is url( too). Comments and other strings are
 * skipped, and so are the bad URLs a browser would not load.
 */
function styleSpans(css: string): Span[] {
  const out: Span[] = [];
  const n = css.length;
  const imageSetDepths: number[] = [];
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = css[i]!;
    if (c === '/' && css[i + 1] === '*') {
      const close = css.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const s = readCssString(css, i);
      if (s.valid && imageSetDepths[imageSetDepths.length - 1] === depth) {
        out.push({ start: i + 1, end: s.end, descriptor: '', css: c, text: s.text });
      }
      i = s.next;
      continue;
    }
    if (c === '(') {
      depth++;
      i++;
      continue;
    }
    if (c === ')') {
      if (imageSetDepths[imageSetDepths.length - 1] === depth) imageSetDepths.pop();
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (!IDENT_CHAR.test(c) && !(c === '\\' && readEscape(css, i))) {
      i++;
      continue;
    }
    let name = '';
    let j = i;
    while (j < n) {
      if (css[j] === '\\') {
        const e = readEscape(css, j);
        if (!e) break;
        name += e.char;
        j = e.end;
      } else if (IDENT_CHAR.test(css[j]!)) {
        name += css[j];
        j++;
      } else {
        break;
      }
    }
    if (css[j] !== '(') {
      i = j;
      continue;
    }
    name = name.toLowerCase();
    if (name !== 'url') {
      depth++;
      if (name === 'image-set' || name === '-webkit-image-set') imageSetDepths.push(depth);
      i = j + 1;
      continue;
    }
    let k = j + 1;
    while (isSpace(css[k])) k++;
    if (css[k] === '"' || css[k] === "'") {
      // url("...") is a function with a string argument: the string is the URL.
      const q = css[k] as '"' | "'";
      const s = readCssString(css, k);
      if (s.valid) out.push({ start: k + 1, end: s.end, descriptor: '', css: q, text: s.text });
      depth++;
      i = s.next;
      continue;
    }
    // An unquoted url token ends at `)` or at the end of the input; whitespace before it is allowed, quotes,
    // `(` and controls make it bad.
    let text = '';
    let e = k;
    let bad = false;
    while (e < n && css[e] !== ')' && !isSpace(css[e])) {
      const ch = css[e]!;
      if (ch === '\\') {
        const esc = readEscape(css, e);
        if (!esc) {
          bad = true;
          break;
        }
        text += esc.char;
        e = esc.end;
        continue;
      }
      if (/["'(\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(ch)) bad = true;
      text += ch;
      e++;
    }
    let after = e;
    while (isSpace(css[after])) after++;
    if (!bad && text !== '' && (css[after] === ')' || after >= n)) out.push({ start: k, end: e, descriptor: '', css: '', text });
    // Skip to the closing parenthesis, as the browser's bad-url recovery does.
    const close = css.indexOf(')', after);
    i = close < 0 ? n : close + 1;
  }
  return out;
}

function encodeCss(url: string, quote: '"' | "'" | ''): string {
  if (quote === '') return url.replace(/[()'"\\\s]/g, (ch) => (isSpace(ch) ? `\\${ch.charCodeAt(0).toString(16)} ` : `\\${ch}`));
  return url.replace(/[\\\n]/g, (ch) => (ch === '\n' ? '\\a ' : '\\\\')).replaceAll(quote, `\\${quote}`);
}

// ---------------------------------------------------------------------------------------------------------
// Which URLs, and what they become

type HostMatcher = (host: string) => boolean;

function normalizeHost(pattern: string): string {
  const trimmed = pattern.trim().toLowerCase().replace(/\.$/, '');
  try {
    return new URL(`http://${trimmed}`).hostname;
  } catch {
    return trimmed;
  }
}

function hostMatcher(name: string, patterns: readonly string[] | undefined): HostMatcher | undefined {
  if (patterns === undefined) return undefined;
  if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string' || p.trim() === '')) {
    invalidParameter(name, 'an array of host names or globs', patterns);
  }
  const tests = patterns.map((raw): HostMatcher => {
    const p = normalizeHost(raw);
    if (p === '*') return () => true;
    const sub = p.startsWith('*.');
    const body = (sub ? p.slice(2) : p).split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*');
    const re = new RegExp(`^${sub ? '(?:[^.]+\\.)+' : ''}${body}$`);
    return (host) => re.test(host);
  });
  return (host) => tests.some((t) => t(host));
}

interface Rewriter {
  /** The replacement for `text` at this place, or undefined to leave it. */
  rewrite(text: string, context: Omit<ImageUrlContext, 'url'>): Promise<string> | undefined;
  /** A whole document held in an attribute (iframe srcdoc), rewritten with the same options. */
  rewriteDocument(html: string): Promise<string>;
}

function createRewriter(options: RewriteHtmlOptions): Rewriter {
  if (typeof options !== 'object' || options === null) invalidParameter('options', 'rewriteHtml options', options);
  if (options.mode !== 'camo' && options.mode !== 'imagor') invalidParameter('mode', "'camo' or 'imagor'", (options as { mode?: unknown }).mode);
  if (typeof options.baseUrl !== 'string') invalidParameter('baseUrl', 'the proxy URL as a string', options.baseUrl);
  asyncMac(options.mac);
  if (options.mode === 'camo' && (typeof options.key !== 'string' || options.key === '')) invalidParameter('key', 'a non-empty string', options.key);
  if (options.mode === 'imagor' && options.unsafe !== true && options.secret === undefined) {
    invalidParameter('secret', 'a secret (or unsafe: true)', options.secret);
  }
  if (options.mode === 'imagor' && typeof options.imagor !== 'function') {
    // Fail at once on bad operations or presets, not at the first image.
    buildImagorPath({ ...options.imagor, image: 'example.com/check.png', presets: options.presets });
  }
  const allow = hostMatcher('allowHosts', options.allowHosts);
  const deny = hostMatcher('denyHosts', options.denyHosts);
  const base = options.baseUrl.replace(/\/+$/, '');
  let baseHref: string | undefined;
  try {
    baseHref = base === '' ? undefined : new URL(base + '/').href;
  } catch {
    baseHref = undefined;
  }
  const signed = new Map<string, Promise<string>>();

  const sign = (url: string, context: ImageUrlContext): Promise<string> | undefined => {
    if (options.mode === 'camo') {
      const key = `camo ${url}`;
      let p = signed.get(key);
      if (!p) {
        p = camoUrl(url, { key: options.key, encoding: options.encoding, prefix: base, mac: options.mac });
        signed.set(key, p);
      }
      return p;
    }
    const ops = typeof options.imagor === 'function' ? options.imagor(context) : (options.imagor ?? {});
    if (ops === null) return undefined;
    const imagor: ImagorOptions = { ...ops, image: url, presets: options.presets };
    const key = `imagor ${JSON.stringify(imagor)}`;
    let p = signed.get(key);
    if (!p) {
      p = imagorUrl(imagor, {
        secret: options.secret,
        type: options.type,
        truncate: options.truncate,
        unsafe: options.unsafe,
        baseUrl: base,
        mac: options.mac,
      });
      signed.set(key, p);
    }
    return p;
  };

  return {
    rewrite(text, context) {
      // Only absolute http(s) URLs: relative, protocol-relative, data:, blob: and javascript: stay as they are
      // (a javascript: URL does not run from an image attribute; removing it is the sanitiser's job).
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return undefined;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
      if (options.skipHttps === true && url.protocol === 'https:') return undefined;
      if (allow && !allow(url.hostname)) return undefined;
      if (deny && deny(url.hostname)) return undefined;
      if (baseHref !== undefined && url.href.startsWith(baseHref)) return undefined;
      // The fragment never reaches the origin; it stays on the proxy URL (an SVG `use` needs its #id).
      const fragment = url.hash;
      url.hash = '';
      const pending = sign(url.href, { ...context, url: url.href });
      return pending?.then((proxied) => proxied + fragment);
    },
    rewriteDocument: (html) => rewriteHtml(html, options),
  };
}

// ---------------------------------------------------------------------------------------------------------

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: Promise<string>;
}

/**
 * Rewrites image URLs in HTML to signed proxy URLs: `img` src and srcset, `picture > source` srcset, `video`
 * poster, `input type=image` src, the legacy `background` of `body`, `table` and its rows, sections and cells,
 * SVG `image`/`use`/`feImage` href and xlink:href, and `url(...)` (and `image-set` strings) in `style` attributes. Only absolute http(s) URLs are rewritten; only their bytes
 * change. Content inside `<noscript>`, `<template>` and `iframe srcdoc` is rewritten too. Never throws on
 * malformed HTML (bad options throw INVALID_PARAMS). Not handled: `<style>` elements, SVG presentation
 * attributes such as `fill="url(...)"`, lazy-loading `data-src` attributes.
 * @example
 * await rewriteHtml('<p><img src="http://example.com/a.png" alt=""></p>', {
 *   mode: 'camo', key: 'secret', baseUrl: 'https://camo.example.com',
 * }) // '<p><img src="https://camo.example.com/<digest>/<hex url>" alt=""></p>'
 * @example
 * await rewriteHtml(html, {
 *   mode: 'imagor', secret: 'mysecret', baseUrl: 'https://img.example.com',
 *   imagor: { fitIn: true, width: 800, filters: [f.format('webp')] },
 * })
 */
export async function rewriteHtml(html: string, options: RewriteHtmlOptions): Promise<string> {
  if (typeof html !== 'string') invalidParameter('html', 'a string', html);
  const rewriter = createRewriter(options);
  // Two readings: with scripting on, <noscript> holds text; with it off (as for readers without
  // JavaScript) it holds elements. Both sets of URLs are rewritten, so neither kind of reader leaks.
  const targets: Target[] = [];
  const adopted: AdoptedLocations = new WeakMap();
  for (const scriptingEnabled of [true, false]) collectTargets(parseHtml(html, scriptingEnabled, adopted), targets);
  const edits: Edit[] = [];
  for (const target of targets) edits.push(...editsFor(html, target, rewriter, adopted));
  return applyEdits(html, edits);
}

function editsFor(html: string, target: Target, rewriter: Rewriter, adopted: AdoptedLocations): Edit[] {
  // Elements the parser made up (implied or reconstructed ones) have no source location and nothing to edit,
  // unless a later start tag gave them attributes.
  const location = target.element.sourceCodeLocation?.attrs?.[target.key] ?? adopted.get(target.element)?.[target.key];
  const value = attrValue(target.element, target.key);
  if (!location || value === undefined) return [];
  const raw = locateValue(html, location.startOffset, location.endOffset, target.key.length);
  if (!raw) return [];
  if (target.kind === 'srcdoc') {
    const source = html.slice(raw.start, raw.end);
    const text = rewriter.rewriteDocument(value).then((out) => (out === value ? source : encodeAttr(out, raw.quote)));
    return [{ start: raw.start, end: raw.end, text }];
  }
  const decoded = decodeWithMap(html.slice(raw.start, raw.end));
  const exact = decoded.text === value;
  const spans = target.kind === 'url' ? urlSpans(value) : target.kind === 'srcset' ? srcsetSpans(value) : styleSpans(value);
  const context = { element: target.element.tagName, attribute: target.key };
  const replaced: Array<{ span: Span; text: Promise<string> }> = [];
  for (const span of spans) {
    const pending = rewriter.rewrite(span.text ?? value.slice(span.start, span.end), { ...context, descriptor: span.descriptor });
    if (pending) replaced.push({ span, text: pending.then((url) => (span.css === undefined ? url : encodeCss(url, span.css))) });
  }
  if (replaced.length === 0) return [];
  if (exact) {
    // Each URL's own bytes are swapped; what sits between them is kept as written.
    return replaced.map(({ span, text }) => ({
      start: raw.start + decoded.map[span.start]!,
      end: raw.start + decoded.map[span.end]!,
      text: text.then((t) => encodeAttr(t, raw.quote)),
    }));
  }
  // A reference we do not decode ourselves: write the whole value again from parse5's reading of it.
  const whole = Promise.all(replaced.map((r) => r.text)).then((texts) => {
    let out = '';
    let at = 0;
    replaced.forEach(({ span }, i) => {
      out += value.slice(at, span.start) + texts[i]!;
      at = span.end;
    });
    return encodeAttr(out + value.slice(at), raw.quote);
  });
  return [{ start: raw.start, end: raw.end, text: whole }];
}

async function applyEdits(html: string, edits: readonly Edit[]): Promise<string> {
  // The two readings and reconstructed elements can name one place twice; the first edit of a place wins and
  // an edit overlapping an earlier one is dropped.
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const kept: Edit[] = [];
  for (const edit of sorted) {
    const prev = kept[kept.length - 1];
    if (prev && edit.start < prev.end) {
      edit.text.catch(() => undefined); // the kept edit reports any signing error
      continue;
    }
    kept.push(edit);
  }
  const texts = await Promise.all(kept.map((e) => e.text));
  let out = '';
  let at = 0;
  kept.forEach((edit, i) => {
    out += html.slice(at, edit.start) + texts[i]!;
    at = edit.end;
  });
  return out + html.slice(at);
}
