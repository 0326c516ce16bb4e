/**
 * A pre-scan of SVG sources before librsvg sees them. librsvg cannot be interrupted, and a few kilobytes of nested
 * references (<use>, patterns, markers, masks, filters) make it draw millions of elements (7-110 s of CPU). So the
 * document is lexed as XML, attribute values and style sheets are decoded as libxml2 and cssparser would, the
 * reference graph is weighed, and a source whose references would draw more than a budget of extra elements is
 * refused, as is what the scan cannot weigh: DTD subsets, XInclude, imported or PI style sheets, non-raster data:
 * URLs (a second document), markup it cannot read. Pure: bytes in, a verdict out; never renders.
 */
import { fail } from '../respond/errors.js';

/**
 * Elements librsvg may draw through references beyond those written in the file. 100 000 take 0.4-1.6 s
 * (measured, librsvg 2.63), so 50 000 stays under a second while real drawings fit with room to spare.
 */
export const SVG_RENDER_BUDGET = 50_000;

/** libxml2's default depth limit: librsvg refuses deeper documents anyway. */
const MAX_NESTING = 256;
/** Reference chains this long fail in librsvg too (a chain of 1000 <use> does); also bounds our recursion. */
const MAX_RECURSION = 1000;
/** Bounds on the scan's own work, far above what real drawings need. */
const MAX_RULE_MATCHES = 2_000_000;
const MAX_PROPERTIES = 64;
const MAX_CANDIDATES = 256;

const NAME = String.raw`[^\s/>=<!?"'&]+`;
const ATTRS = String.raw`(?:\s+[^\s/>=<"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*`;
const START_TAG = new RegExp(String.raw`<(${NAME})(${ATTRS})\s*(/?)>`, 'y');
const END_TAG = new RegExp(String.raw`</(${NAME})\s*>`, 'y');
const ATTR = /([^\s/>=<"']+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const COMMENT = /<!--[\s\S]*?-->/y;
const CDATA = /<!\[CDATA\[([\s\S]*?)\]\]>/y;
const PI = /<\?([^\s?]*)[\s\S]*?\?>/y;
const DOCTYPE = /<!DOCTYPE(?:[^>"'[]|"[^"]*"|'[^']*')*>/iy;
const TEXT = /[^<]+/y;
const XML_REF = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
// cssparser trims unquoted url() contents and reads URL( and escapes; a quoted " #x" is not a fragment (measured).
const URL_REF = /url\(\s*(["']?)\s*#([^"')\s]*)/gi;
const INHERIT_KEYWORD = /\b(?:inherit|unset|revert)\b/i;
/** Values that cannot name an element or inherit one: no url( and no escape that could spell one. */
const MAY_NAME = /[\\(]|inherit|unset|revert/i;
const RASTER_DATA = /^image\/(?:png|jpeg|gif|webp)$/;
const ASCII_SUPERSETS = /^(?:utf-?8|(?:us-)?ascii|iso[-_]?8859[-_]\d{1,2}|latin-?1|iso-latin-1|windows-125\d|cp125\d)$/i;

/** Not drawn where they stand: their content is drawn only when referenced. */
const NOT_DRAWN_IN_PLACE = new Set(['defs', 'symbol', 'pattern', 'mask', 'clippath', 'marker', 'filter', 'lineargradient', 'radialgradient']);
/** Paint servers that draw no elements: a reference to one costs nothing extra. */
const DRAWS_NOTHING = new Set(['lineargradient', 'radialgradient']);
const PAINT = new Set(['fill', 'stroke']);
const NOT_INHERITED = new Set(['clip-path', 'mask', 'filter']);

/** Properties whose values name elements: per property, the candidate values, each the ids it names. */
type Refs = Map<string, (readonly string[])[]>;
type Declarations = { readonly refs: [string, string[]][]; readonly inheriting: string[] };

interface El {
  readonly name: string;
  readonly parent: El | undefined;
  readonly children: El[];
  readonly id: string | undefined;
  readonly classes: readonly string[];
  /** Ids named by href/xlink:href: drawn in place of the element (<use>, <feImage>, pattern templates...). */
  readonly hrefs: readonly string[];
  /** Set on the element itself: presentation attributes, style attribute, matching style-sheet rules. */
  readonly own: Refs;
  /** Properties the element declares `inherit` (or unset, revert) for: its parent's value may still apply. */
  readonly inheriting: Set<string>;
  /** Markers are drawn at every vertex: an upper bound on this element's vertices. */
  readonly vertices: number;
  /** Inheritable properties in effect here, filled in once the style sheets are read. */
  inherited: Refs;
  sheet: string;
}

export function checkSvgSource(bytes: Uint8Array): void {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  // The scan reads the bytes as UTF-8: an encoding that moves ASCII (UTF-16, UTF-7, Shift_JIS...) could hide markup.
  const encoding = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/.exec(text)?.[1];
  if (encoding !== undefined && !ASCII_SUPERSETS.test(encoding)) fail('UNSUPPORTED_FORMAT', `svg: encoding ${encoding.slice(0, 20)} is refused`);
  if (/<!ENTITY/i.test(text)) fail('UNSUPPORTED_FORMAT', 'svg: entity declarations are refused');
  if (/<!DOCTYPE[^>]*\[/i.test(text)) fail('UNSUPPORTED_FORMAT', 'svg: DTD internal subsets are refused');
  if (/<(?:[^\s<>/:!?]+:)?include[\s/>]/i.test(text)) fail('UNSUPPORTED_FORMAT', 'svg: XInclude is refused');

  const all = parse(text);
  applyStyleSheets(all);
  const props = new Set<string>();
  for (const el of all) {
    el.inherited = inheritedAt(el);
    for (const prop of el.own.keys()) props.add(prop);
  }
  if (props.size > MAX_PROPERTIES) fail('UNSUPPORTED_FORMAT', 'svg: too many properties naming elements');
  weigh(all);
}

/**
 * Weighs every element: W is how many elements drawing it draws, references included; M counts the same elements
 * by their vertices, for what an element passes on to content it draws by reference (inherited paint, markers).
 */
function weigh(all: readonly El[]): void {
  const byId = new Map<string, El[]>();
  for (const el of all) if (el.id !== undefined) listAt(byId, el.id).push(el);
  // The file's own elements, as many again drawn through references (linear in the file's size), and the budget.
  const limit = SVG_RENDER_BUDGET + 2 * all.length;
  const checked = (n: number): number => {
    if (n > limit) fail('UNSUPPORTED_FORMAT', `svg: references expand past ${SVG_RENDER_BUDGET} extra elements`);
    return n;
  };

  const costs = new Map<El, readonly [w: number, m: number]>();
  const visiting = new Set<El>();
  const target = (id: string): readonly [number, number] => {
    let w = 0;
    let m = 0;
    for (const el of byId.get(id) ?? []) {
      const [ew, em] = cost(el);
      w = Math.max(w, ew);
      m = Math.max(m, em);
    }
    return [w, m];
  };
  /** The dearest candidate value of a property, `price` pricing each element named. */
  const dearest = (values: readonly (readonly string[])[], price: (w: number, m: number) => number): number => {
    let best = 0;
    for (const ids of values) {
      let sum = 0;
      for (const id of ids) sum = checked(sum + price(...target(id)));
      best = Math.max(best, sum);
    }
    return best;
  };
  const cost = (el: El): readonly [number, number] => {
    const known = costs.get(el);
    if (known) return known;
    if (DRAWS_NOTHING.has(el.name)) return [0, 0];
    if (visiting.has(el)) fail('UNSUPPORTED_FORMAT', 'svg: circular reference');
    if (visiting.size >= MAX_RECURSION) fail('UNSUPPORTED_FORMAT', 'svg: references nested too deep');
    visiting.add(el);

    let paint = 0;
    for (const prop of PAINT) paint = checked(paint + dearest(el.inherited.get(prop) ?? [], (w) => w));
    // Markers (and properties we do not know) are drawn at every vertex, and marker content may use
    // context-fill/context-stroke, drawing the element's paint once per element of the marker.
    const perVertex = (w: number, m: number) => checked(w + m * paint);
    let passedOn = 0;
    // A pattern, marker, clip path... is not drawn itself, only its content.
    let w = NOT_DRAWN_IN_PLACE.has(el.name) ? 0 : 1;
    for (const [prop, values] of el.inherited) {
      const each = PAINT.has(prop) ? dearest(values, (tw) => tw) : dearest(values, perVertex);
      passedOn = checked(passedOn + each);
      w = checked(w + (PAINT.has(prop) ? each : el.vertices * each));
    }
    for (const [prop, values] of el.own) if (NOT_INHERITED.has(prop)) w = checked(w + dearest(values, (tw) => tw));
    let m = el.vertices;
    // Content drawn through href inherits this element's properties (<use>), each of its elements paying for them.
    for (const id of el.hrefs) {
      const [tw, tm] = target(id);
      w = checked(w + checked(tw + tm * passedOn));
      m += tm;
    }
    for (const child of el.children) {
      if (NOT_DRAWN_IN_PLACE.has(child.name)) continue;
      const [cw, cm] = cost(child);
      w = checked(w + cw);
      m += cm;
    }
    visiting.delete(el);
    const result = [w, m] as const;
    costs.set(el, result);
    return result;
  };

  let total = 0;
  for (const el of all) if (el.parent === undefined) total = checked(total + cost(el)[0]);
  // Content in <defs> is drawn only when referenced, but a reference the scan cannot see must not reach a bomb.
  for (const el of all) if (el.id !== undefined) cost(el);
}

/** Lexes the document into elements, in document order; anything not well-formed enough to weigh is refused. */
function parse(text: string): El[] {
  const all: El[] = [];
  const stack: El[] = [];
  const unreadable = (): never => fail('UNSUPPORTED_FORMAT', 'svg: markup the pre-scan cannot read');
  const at = (re: RegExp, i: number): RegExpExecArray | null => {
    re.lastIndex = i;
    return re.exec(text);
  };
  let i = 0;
  while (i < text.length) {
    const top = stack[stack.length - 1];
    let m: RegExpExecArray | null;
    if (text[i] !== '<') {
      m = at(TEXT, i)!;
      if (top?.name === 'style') top.sheet += decodeXml(m[0], false);
    } else if ((m = at(COMMENT, i)) || (m = at(DOCTYPE, i))) {
      // nothing to weigh
    } else if ((m = at(CDATA, i))) {
      if (top?.name === 'style') top.sheet += m[1];
    } else if ((m = at(PI, i))) {
      // librsvg loads <?xml-stylesheet?> through its URL resolver, which always lets data: URLs through.
      if (m[1]!.toLowerCase() === 'xml-stylesheet') fail('UNSUPPORTED_FORMAT', 'svg: xml-stylesheet instructions are refused');
    } else if ((m = at(END_TAG, i))) {
      if (stack.pop()?.name !== localName(m[1]!)) unreadable();
    } else if ((m = at(START_TAG, i))) {
      const el = element(localName(m[1]!), m[2]!, top);
      all.push(el);
      top?.children.push(el);
      if (!m[3]) stack.push(el);
      if (stack.length > MAX_NESTING) fail('UNSUPPORTED_FORMAT', 'svg: elements nested too deep');
    } else {
      unreadable();
    }
    i += m![0].length;
  }
  if (stack.length > 0 || all.length === 0) unreadable();
  return all;
}

function listAt<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

function localName(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf(':') + 1).toLowerCase();
}

function element(name: string, attrs: string, parent: El | undefined): El {
  let id: string | undefined;
  let classes: string[] = [];
  const hrefs = new Set<string>();
  const own: Refs = new Map();
  const inheriting = new Set<string>();
  let points: string | undefined;
  for (const a of attrs.matchAll(ATTR)) {
    const attr = a[1]!.toLowerCase();
    const value = decodeXml(a[2] ?? a[3] ?? '', true);
    if (attr === 'id') id = value;
    else if (attr === 'class') classes = value.split(/\s+/).filter(Boolean);
    else if (attr === 'href' || attr.endsWith(':href')) {
      checkDataUrl(value);
      // librsvg prefers href over xlink:href; counting both is the safe reading. Links draw nothing.
      if (name !== 'a' && value.startsWith('#')) hrefs.add(value.slice(1));
    } else if (attr === 'd' || attr === 'points') {
      points = value;
    } else if (MAY_NAME.test(value)) {
      declare(own, inheriting, declarations(attr === 'style' ? value : `${localName(attr)}:${value}`));
    }
  }
  return { name, parent, children: [], id, classes, hrefs: [...hrefs], own, inheriting, vertices: vertexBound(name, points), inherited: new Map(), sheet: '' };
}

/** Decodes character references and the five predefined entities, as libxml2 does before librsvg sees a value. */
function decodeXml(raw: string, attribute: boolean): string {
  // Attribute-value normalisation: literal whitespace becomes a space, while &#9; and the like stay.
  const s = attribute ? raw.replace(/\r\n|[\t\n\r]/g, ' ') : raw;
  if (!s.includes('&')) return s;
  return s.replace(XML_REF, (all, dec?: string, hex?: string, named?: string) => {
    if (named) return PREDEFINED[named]!;
    const code = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

/**
 * <image> and <feImage> draw a data: URL that is not PNG, JPEG, GIF or WebP as SVG (measured: even image/bmp or a
 * malformed media type), a second document the scan never weighs.
 */
function checkDataUrl(value: string): void {
  // The URL parser drops tabs and newlines anywhere, and C0 controls and spaces at the start.
  const url = value.replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '');
  if (!/^data:/i.test(url)) return;
  const type = url.slice(5).split(/[;,]/)[0]!.toLowerCase();
  if (!RASTER_DATA.test(type)) fail('UNSUPPORTED_FORMAT', 'svg: a data: URL that is not a raster image');
}

function vertexBound(name: string, points: string | undefined): number {
  if (name === 'line') return 2;
  if (name === 'rect' || name === 'circle' || name === 'ellipse') return 5;
  if (points === undefined || (name !== 'path' && name !== 'polyline' && name !== 'polygon')) return 1;
  // Every path segment has at least one number, except closepath.
  const numbers = points.match(/[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g)?.length ?? 0;
  return numbers + (points.match(/[zZ]/g)?.length ?? 0) + 1;
}

function declare(own: Refs, inheriting: Set<string>, decls: Declarations): void {
  for (const [prop, ids] of decls.refs) {
    const values = listAt(own, prop);
    values.push(ids);
    // Bounded here, as they grow: every child copies its parent's map, and every rule adds to every match.
    if (values.length > MAX_CANDIDATES) fail('UNSUPPORTED_FORMAT', 'svg: too many values naming elements');
    if (own.size > MAX_PROPERTIES) fail('UNSUPPORTED_FORMAT', 'svg: too many properties naming elements');
  }
  for (const prop of decls.inheriting) {
    inheriting.add(prop);
    if (inheriting.size > MAX_PROPERTIES) fail('UNSUPPORTED_FORMAT', 'svg: too many inherited properties');
  }
}

/** An element's own value replaces its parent's, unless it also declares `inherit` for that property. */
function inheritedAt(el: El): Refs {
  const fromParent = el.parent?.inherited ?? new Map<string, (readonly string[])[]>();
  let out: Refs | undefined;
  for (const [prop, values] of el.own) {
    if (NOT_INHERITED.has(prop)) continue;
    out ??= new Map(fromParent);
    const merged = el.inheriting.has(prop) ? [...(fromParent.get(prop) ?? []), ...values] : values;
    if (merged.length > MAX_CANDIDATES) fail('UNSUPPORTED_FORMAT', 'svg: too many values naming elements');
    out.set(prop, merged);
  }
  return out ?? fromParent;
}

function urlRefs(css: string): string[] {
  return [...css.matchAll(URL_REF)].map((m) => m[2]!);
}

/** CSS escapes (`\23`, `\#`) as cssparser reads them, comments first as its tokenizer does. */
function unescapeCss(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?|(\r\n|[\n\r\f])|([\s\S]))/g, (_, hex?: string, newline?: string, ch?: string) => {
      if (newline !== undefined) return '';
      if (ch !== undefined) return ch;
      const code = parseInt(hex!, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
    });
}

/** A declaration block (`fill: url(#p); marker-mid: inherit`), read for the elements it names. */
function declarations(block: string): Declarations {
  const refs: [string, string[]][] = [];
  const inheriting: string[] = [];
  for (const decl of unescapeCss(block).split(';')) {
    const colon = decl.indexOf(':');
    const prop = colon < 0 ? '' : decl.slice(0, colon).trim().toLowerCase();
    const ids = urlRefs(decl);
    if (ids.length > 0) refs.push([prop, ids]);
    if (INHERIT_KEYWORD.test(decl.slice(colon + 1))) inheriting.push(prop);
    if (refs.length + inheriting.length > MAX_CANDIDATES) fail('UNSUPPORTED_FORMAT', 'svg: a declaration block names too many elements');
  }
  return { refs, inheriting };
}

/**
 * Gives each element the declarations of every <style> rule that could apply to it: a selector is reduced to its
 * last compound's type, classes and id, and one the reduction does not understand applies to every element.
 */
function applyStyleSheets(all: readonly El[]): void {
  const sheets = all.filter((el) => el.name === 'style').map((el) => unescapeCss(el.sheet));
  if (sheets.some((css) => /@import/i.test(css))) fail('UNSUPPORTED_FORMAT', 'svg: style sheet @import is refused');
  const rules = sheets.flatMap(sheetRules);
  if (rules.length === 0) return;
  const index = new Map<string, El[]>();
  for (const el of all) {
    listAt(index, `t:${el.name}`).push(el);
    for (const c of el.classes) listAt(index, `.${c}`).push(el);
    if (el.id !== undefined) listAt(index, `#${el.id}`).push(el);
  }
  let matches = 0;
  for (const { selector, decls } of rules) {
    const candidates = selector.key === undefined ? all : (index.get(selector.key) ?? []);
    // Each match applies every declaration of the rule.
    matches += candidates.length * Math.max(1, decls.refs.length + decls.inheriting.length);
    if (matches > MAX_RULE_MATCHES) fail('UNSUPPORTED_FORMAT', 'svg: style sheet too large to weigh');
    for (const el of candidates) if (selector.matches(el)) declare(el.own, el.inheriting, decls);
  }
}

interface Selector {
  /** An index key every matching element has, if there is one. */
  readonly key: string | undefined;
  readonly matches: (el: El) => boolean;
}

const EVERYTHING: Selector = { key: undefined, matches: () => true };

function sheetRules(css: string): { selector: Selector; decls: Declarations }[] {
  const out: { selector: Selector; decls: Declarations }[] = [];
  let named = 0;
  for (const m of css.matchAll(/([^{}]*)\{([^{}]*)\}/g)) {
    const decls = declarations(m[2]!);
    if (decls.refs.length === 0 && decls.inheriting.length === 0) continue;
    named += decls.refs.reduce((n, [, ids]) => n + ids.length, 0);
    for (const s of m[1]!.split(',')) out.push({ selector: compileSelector(s), decls });
  }
  // A sheet the split above misreads (braces in strings, say) is applied to everything as a whole.
  const all = urlRefs(css);
  if (named !== all.length) out.push({ selector: EVERYTHING, decls: { refs: [['', all]], inheriting: [] } });
  return out;
}

function compileSelector(selector: string): Selector {
  const s = selector.trim();
  if (s === '' || /[[\]()\\|"'@]/.test(s)) return EVERYTHING;
  const compound = s.split(/[\s>+~]+/).filter(Boolean).pop() ?? '';
  const m = /^(\*|[^.#:*]+)?((?:[.#:][^.#:]*)*)$/.exec(compound);
  if (!m) return EVERYTHING;
  const type = m[1] === undefined || m[1] === '*' ? undefined : localName(m[1]);
  const parts = m[2]!.match(/[.#:][^.#:]*/g) ?? [];
  const classes = parts.filter((p) => p.startsWith('.')).map((p) => p.slice(1));
  const ids = parts.filter((p) => p.startsWith('#')).map((p) => p.slice(1));
  const key = ids[0] !== undefined ? `#${ids[0]}` : classes[0] !== undefined ? `.${classes[0]}` : type !== undefined ? `t:${type}` : undefined;
  return {
    key,
    matches: (el) => (type === undefined || el.name === type) && classes.every((c) => el.classes.includes(c)) && ids.every((id) => el.id === id),
  };
}
