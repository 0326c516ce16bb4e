/**
 * Which URL an imagor image key loads from, and whether a URL may be loaded: imagor's HTTP loader rules (base
 * URL, default scheme, allowed host globs and URL regexp) plus HTTPS-only, which imagor documents but never built.
 * The regexp is written in Go's (RE2) syntax, as imagor users write it, and translated to a JavaScript RegExp;
 * what cannot be translated faithfully is refused, never read differently. Pure; the same check runs on the
 * first URL and on every redirect hop.
 */
import picomatch from 'picomatch';
import { fail } from '../respond/errors.js';

export interface SourcePolicyOptions {
  readonly baseUrl: string | undefined;
  /** `https`, `http`, or `nil` to refuse scheme-less keys. */
  readonly defaultScheme: string;
  readonly allowedSources: readonly string[];
  readonly allowedSourceRegexp: string | undefined;
  readonly httpsOnly: boolean;
}

export interface SourcePolicy {
  /** The URL an image key loads from, or a typed refusal. */
  resolve(image: string): string;
  /** Throws SOURCE_NOT_ALLOWED when `url` may not be loaded. */
  check(url: URL): void;
}

export function createSourcePolicy(opts: SourcePolicyOptions): SourcePolicy {
  // imagor matches host globs with Go's path.Match against u.Host: `*` is any run of characters without `/`,
  // dots and colons included, and a URL that names a port is matched as host:port (`*.example.com` does not
  // match `a.example.com:8080`).
  const globs = opts.allowedSources.map((g) => picomatch(g.toLowerCase(), { dot: true, nobrace: true, noextglob: true }));
  const regexp = opts.allowedSourceRegexp ? compileSourceRegexp(opts.allowedSourceRegexp) : undefined;
  const base = opts.baseUrl ? new URL(opts.baseUrl) : undefined;

  const check = (url: URL) => {
    if (opts.httpsOnly && url.protocol !== 'https:') fail('SOURCE_NOT_ALLOWED', `https only: ${url.protocol}`);
    if (base && (url.origin !== base.origin || !url.pathname.startsWith(basePath(base)))) {
      fail('SOURCE_NOT_ALLOWED', 'outside HTTP_LOADER_BASE_URL');
    }
    if (globs.length === 0 && !regexp) return;
    const name = url.hostname.toLowerCase().replace(/\.$/, '');
    const host = url.port ? `${name}:${url.port}` : name;
    if (globs.some((m) => m(host))) return;
    if (regexp && regexp.test(url.href)) return;
    fail('SOURCE_NOT_ALLOWED', `host ${host} not in allowed sources`);
  };

  const resolve = (image: string): string => {
    if (base) {
      // Joined as text, never with new URL(image, base): "//evil/x" or "@evil/x" would change the host.
      const joined = base.href.replace(/\/+$/, '') + '/' + image.replace(/^\/+/, '');
      let url: URL;
      try {
        url = new URL(joined);
      } catch {
        fail('INVALID_PARAMS', 'image does not form a URL with the base URL');
      }
      check(url);
      return url.href;
    }
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(image);
    if (scheme) {
      const s = scheme[1]!.toLowerCase();
      if (s !== 'http' && s !== 'https') fail('SOURCE_NOT_ALLOWED', `scheme ${s}`);
      return image;
    }
    if (opts.defaultScheme === 'nil') fail('INVALID_PARAMS', 'image has no scheme and HTTP_LOADER_DEFAULT_SCHEME=nil');
    // imagor refuses a scheme-less key that still holds an escape: it was meant as a storage key, not a URL.
    if (/%[0-9a-fA-F]{2}/.test(image)) fail('INVALID_PARAMS', 'scheme-less image with a percent escape');
    return `${opts.defaultScheme}://${image}`;
  };

  return { resolve, check };
}

function basePath(base: URL): string {
  return base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
}

/** The setting's regexp, or an Error naming the setting (the start stops on it). */
function compileSourceRegexp(pattern: string): RegExp {
  try {
    return compileGoRegexp(pattern);
  } catch (e) {
    throw new Error(`HTTP_LOADER_ALLOWED_SOURCE_REGEXP: ${(e as Error).message}`);
  }
}

/** Go's ASCII classes (regexp/syntax perl_groups.go), as the ranges they stand for. */
const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Escapes that mean the same in Go and in a JavaScript RegExp without the `u` flag. */
const SAME_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'f', 'n', 'r', 't', 'v']);

const literal = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * Translates a Go (RE2) regular expression to JavaScript source and flags: leading `(?i)`, `(?m)`, `(?s)` flag
 * groups become flags, `(?P<name>` becomes `(?<name>`, `\A` and `\z` become start and end of input, `\a`,
 * `\x{41}`, `\Q...\E` and ASCII classes such as `[[:alpha:]]` are spelled out, and a `]` first in a class stays
 * literal. Throws an Error saying what cannot be translated: inline flags anywhere but the start, `(?U)`,
 * scoped flags `(?i:...)`, `\Z` (not Go syntax), `\C`, `\p{...}`, octal escapes, possessive quantifiers, and
 * escapes that Go refuses but JavaScript would read as plain letters.
 */
export function translateGoRegexp(pattern: string): { source: string; flags: string } {
  const flags = new Set<string>();
  let i = 0;
  for (;;) {
    const m = /^\(\?([A-Za-z]*)(?:-([A-Za-z]*))?\)/.exec(pattern.slice(i));
    if (m === null) break;
    if (m[1] === '' && (m[2] ?? '') === '') throw new Error(`empty flag group ${m[0]}`);
    for (const [letters, on] of [[m[1] ?? '', true], [m[2] ?? '', false]] as const) {
      for (const f of letters) {
        if (f === 'U') throw new Error('the ungreedy flag (?U) has no JavaScript equivalent; write lazy quantifiers (*?) instead');
        if (f !== 'i' && f !== 'm' && f !== 's') throw new Error(`unknown flag ${f} in ${m[0]}`);
        if (on) flags.add(f);
        else flags.delete(f);
      }
    }
    i += m[0].length;
  }

  let out = '';
  let inClass = false;
  let classStart = false;
  const quantified = (): void => {
    if (pattern[i] === '?') out += pattern[i++];
    if (pattern[i] === '+') throw new Error(`possessive quantifier at offset ${i} (neither Go nor JavaScript has them)`);
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const [text, used] = translateEscape(pattern, i, inClass);
      out += text;
      i += used;
      classStart = false;
      continue;
    }
    if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
        if (m === null) throw new Error(`unterminated ASCII class at offset ${i}`);
        if (m[1] === '^') throw new Error(`negated ASCII class ${m[0]} cannot be translated; use a negated class [^...]`);
        const ranges = POSIX_CLASSES[m[2]!];
        if (ranges === undefined) throw new Error(`unknown ASCII class ${m[0]}`);
        out += ranges;
        i += m[0].length;
      } else if (c === ']') {
        // Go reads a `]` first in a class as a literal; JavaScript would end an empty class there.
        out += classStart ? '\\]' : ']';
        inClass = classStart;
        i++;
      } else {
        // `[` is a literal inside a class in both; escaping it keeps JavaScript's `v`-mode rules out of the way.
        out += c === '[' ? '\\[' : c;
        i++;
      }
      classStart = false;
      continue;
    }
    if (c === '[') {
      out += '[';
      i++;
      if (pattern[i] === '^') out += pattern[i++];
      inClass = true;
      classStart = true;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 4;
        continue;
      }
      if (/^[A-Za-z-]*[:)]/.test(rest) && !rest.startsWith(':')) {
        throw new Error(`inline flags at offset ${i} cannot be translated; put (?i), (?m) or (?s) at the very start to apply them to the whole expression`);
      }
      if (rest.startsWith('P')) throw new Error(`unsupported group (?P at offset ${i}`);
      out += '(?';
      i += 2;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      i++;
      quantified();
      continue;
    }
    if (c === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      // Go reads a `{` that does not start a repetition as a literal.
      out += m === null ? '\\{' : m[0];
      i += m === null ? 1 : m[0].length;
      if (m !== null) quantified();
      continue;
    }
    out += c;
    i++;
  }
  return { source: out, flags: [...flags].sort().join('') };
}

/** One escape starting at `pattern[at]` (a backslash): its JavaScript text and how many characters it used. */
function translateEscape(pattern: string, at: number, inClass: boolean): [string, number] {
  const e = pattern[at + 1];
  if (e === undefined) throw new Error('trailing backslash');
  const where = `\\${e} at offset ${at}`;
  if (/[0-9]/.test(e)) throw new Error(`${where}: octal escapes and back-references cannot be translated`);
  if (e === 'x') {
    const braced = /^\{([0-9A-Fa-f]{1,8})\}/.exec(pattern.slice(at + 2));
    if (braced !== null) {
      const code = parseInt(braced[1]!, 16);
      if (code > 0xffff) throw new Error(`${where}: characters above U+FFFF cannot be translated`);
      return [`\\u${code.toString(16).padStart(4, '0')}`, 2 + braced[0].length];
    }
    if (/^[0-9A-Fa-f]{2}/.test(pattern.slice(at + 2))) return [pattern.slice(at, at + 4), 4];
    throw new Error(`${where}: malformed hex escape`);
  }
  if (e === 'a') return ['\\x07', 2];
  if (SAME_ESCAPES.has(e)) return [`\\${e}`, 2];
  if (!inClass) {
    if (e === 'b' || e === 'B') return [`\\${e}`, 2];
    if (e === 'A') return ['(?<![\\s\\S])', 2];
    if (e === 'z') return ['(?![\\s\\S])', 2];
    if (e === 'Q') {
      const end = pattern.indexOf('\\E', at + 2);
      const text = pattern.slice(at + 2, end < 0 ? undefined : end);
      return [literal(text), 2 + text.length + (end < 0 ? 0 : 2)];
    }
  }
  if (e === 'Z') throw new Error(`${where}: \\Z is not Go syntax (Go's end of text is \\z)`);
  if (e === 'p' || e === 'P') throw new Error(`${where}: Unicode classes cannot be translated`);
  if (e === 'C') throw new Error(`${where}: \\C (any byte) cannot be translated`);
  // JavaScript would read any other escaped letter as the letter itself; Go refuses it.
  if (/[A-Za-z]/.test(e)) throw new Error(`${where}: not a Go escape${inClass ? ' inside a character class' : ''}`);
  return [`\\${e}`, 2];
}

/** translateGoRegexp, compiled. Throws an Error saying what is wrong, for the caller to name the setting. */
export function compileGoRegexp(pattern: string): RegExp {
  const { source, flags } = translateGoRegexp(pattern);
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new Error(`invalid regular expression: ${(e as Error).message}`);
  }
}
