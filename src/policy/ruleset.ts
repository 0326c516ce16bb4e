/**
 * go-camo's `--filter-ruleset` file: parsed once at start (a bad line stops the server, naming the line) and
 * evaluated per URL in go-camo's two phases, allow rules then deny rules. It reads no file and resolves nothing.
 *
 * Deliberate differences from go-camo (cmd/go-camo/main_loadfilters.go, pkg/htrie):
 * - A line that is not blank, not a `#` comment and not a valid `allow|`/`deny|` rule is an error; go-camo
 *   prints "ignoring line" and goes on, so a typo such as `Allow|…` silently drops a rule.
 * - Flags other than `s` (domain) and `i` (path) are errors; go-camo only looks for the letter.
 * - A path glob must start with `/` or `*`; go-camo accepts other text that can never match.
 * - A lone `*` domain matches every host, as the man page documents; go-camo's trie never consults a wildcard
 *   child of its root, so the man page's any-domain example (`deny||*||` with a suffix glob) matches nothing.
 * - Every rule stands alone. go-camo merges rules per domain node, so the `s` flag or a bare-domain rule on one
 *   line can change what another line for the same domain matches, depending on their order.
 * - Trailing dots on the URL's host are ignored (`example.com.` is `example.com`); in go-camo they defeat
 *   every domain rule.
 * - Paths are compared after RFC 3986 §6.2.2 normalisation on both sides (upper-case hex, unreserved
 *   characters decoded), so `/%73ecret` cannot slip past a deny rule for `/secret`. URL#pathname is never
 *   empty, so a rule `/` matches `http://host`, which go-camo's empty EscapedPath does not.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

export type RuleKind = 'allow' | 'deny';

export type HostMatch =
  | { readonly type: 'any' }
  | { readonly type: 'exact'; readonly name: string }
  /** `s|example.com` (includeBase) or `*.example.com` (one or more labels to the left, not the base). */
  | { readonly type: 'subdomains'; readonly name: string; readonly includeBase: boolean };

export interface PathGlob {
  /** The normalised text between the `*` wildcards; a glob without `*` is one piece. */
  readonly pieces: readonly string[];
  readonly caseInsensitive: boolean;
}

export interface Rule {
  readonly kind: RuleKind;
  /** 1-based line number in the ruleset text. */
  readonly line: number;
  readonly text: string;
  readonly host: HostMatch;
  /** Undefined for a domain-only rule (empty or `*` URL match). */
  readonly path: PathGlob | undefined;
}

export type RulesetVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'no allow rule matches' }
  | { readonly allowed: false; readonly reason: 'deny rule matches'; readonly rule: Rule };

export interface Ruleset {
  readonly rules: readonly Rule[];
  readonly hasAllow: boolean;
  readonly hasDeny: boolean;
  /** Both kinds present: log BOTH_KINDS_WARNING at start, as go-camo does. */
  readonly hasBothKinds: boolean;
  /** (no allow rules || some allow rule matches) && no deny rule matches. */
  allows(url: URL): boolean;
  check(url: URL): RulesetVerdict;
}

/** go-camo's start-up warning when a ruleset has allow and deny rules. */
export const BOTH_KINDS_WARNING =
  'Warning! Allow and Deny rules both supplied. Having Allow rules means anything not matching an allow rule is ' +
  'denied. THEN deny rules are evaluated. Be sure this is what you want!';

export interface RulesetProblem {
  readonly line: number;
  readonly message: string;
}

/** A ruleset that does not parse. `line` is the first bad line; `problems` lists every bad line. */
export class RulesetError extends Error {
  readonly line: number;
  readonly problems: readonly RulesetProblem[];

  constructor(problems: readonly RulesetProblem[]) {
    const shown = problems.slice(0, 10).map((p) => `line ${p.line}: ${p.message}`);
    if (problems.length > shown.length) shown.push(`and ${problems.length - shown.length} more`);
    super(`filter ruleset: ${shown.join('; ')}`);
    this.name = 'RulesetError';
    this.line = problems[0]?.line ?? 0;
    this.problems = problems;
  }
}

const RULE_SHAPE = '<allow|deny>|<"" or s>|<domain>|<"" or i>|<url path glob>';
const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4_DOTTED = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

class LineProblem extends Error {}

function problem(message: string): never {
  throw new LineProblem(message);
}

function trimDots(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) === 0x2e) start++;
  while (end > start && s.charCodeAt(end - 1) === 0x2e) end--;
  return s.slice(start, end);
}

function parseHost(flags: string, text: string): HostMatch {
  if (flags !== '' && flags !== 's') problem(`unknown domain flag ${JSON.stringify(flags)} (expected "" or "s")`);
  const subdomains = flags === 's';
  let rest = text.toLowerCase();
  if (rest === '') problem('no domain given (use * for any domain)');
  if (rest === '*') return { type: 'any' };
  let wildcard = false;
  if (rest.startsWith('*.')) {
    wildcard = true;
    rest = rest.slice(2);
  }
  // go-camo trims surrounding dots from the domain, so `example.com.` in a rule file means example.com.
  rest = trimDots(rest);
  if (rest.includes('*')) problem('* may only be the whole left-most label of a domain (*.example.com)');
  if (rest === '') problem('no domain given after *.');
  const ipv6 = rest.includes(':');
  if (ipv6 && !rest.startsWith('[')) rest = `[${rest}]`;
  let ascii = '';
  try {
    ascii = domainToASCII(rest);
  } catch {
    // treated as invalid below
  }
  if (ascii === '') problem(`not a valid domain name: ${JSON.stringify(text)}`);
  if (ascii.split('.').some((label) => label === '')) problem(`empty label in domain ${JSON.stringify(text)}`);
  // An xn-- label must be valid punycode, whatever this Node's URL parser lets through (Node 24 keeps xn--zz).
  if (ascii.split('.').some((label) => label.startsWith('xn--') && !isValidPunycodeLabel(label))) {
    problem(`not a valid domain name: ${JSON.stringify(text)}`);
  }
  const isIp = ipv6 || IPV4_DOTTED.test(ascii);
  if (wildcard && isIp) problem('*. cannot be used with an IP address');
  if (wildcard) return { type: 'subdomains', name: ascii, includeBase: false };
  if (subdomains && !isIp) return { type: 'subdomains', name: ascii, includeBase: true };
  return { type: 'exact', name: ascii };
}

/** A valid A-label decodes to a U-label with a non-ASCII character; an invalid one does not decode at all. */
function isValidPunycodeLabel(label: string): boolean {
  let unicode = '';
  try {
    unicode = domainToUnicode(label);
  } catch {
    return false;
  }
  return unicode !== '' && unicode.toLowerCase() !== label.toLowerCase() && /[^\x00-\x7f]/.test(unicode);
}

const HEX = '0123456789ABCDEF';
const UTF8 = new TextEncoder();

// Node's URL percent-encodes these in a path (WHATWG path percent-encode set, minus `#` and `?` which are
// refused in rules); non-ASCII is encoded as UTF-8 below.
function needsEncoding(code: number): boolean {
  return (
    code <= 0x20 || code === 0x22 || code === 0x3c || code === 0x3e || code === 0x60 || code === 0x7b ||
    code === 0x7d || code >= 0x7f
  );
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) ||
    code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** RFC 3986 §6.2.2.1-2 on an escaped path: upper-case percent-encodings, decode the unreserved ones. */
function normalizeEscapedPath(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] ?? '';
    if (ch === '%' && i + 2 < path.length) {
      const hi = hexValue(path.charCodeAt(i + 1));
      const lo = hexValue(path.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        const code = hi * 16 + lo;
        out += isUnreserved(code) ? String.fromCharCode(code) : `%${HEX[hi]}${HEX[lo]}`;
        i += 2;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** Escapes rule text the way Node's URL escapes a request path, then normalises it like the request path. */
function escapeRulePiece(piece: string): string {
  let escaped = '';
  for (const byte of UTF8.encode(piece.replace(/\\/g, '/'))) {
    escaped += needsEncoding(byte) ? `%${HEX[byte >> 4]}${HEX[byte & 15]}` : String.fromCharCode(byte);
  }
  return normalizeEscapedPath(escaped);
}

function parsePath(flags: string, text: string): PathGlob | undefined {
  if (flags !== '' && flags !== 'i') problem(`unknown url flag ${JSON.stringify(flags)} (expected "" or "i")`);
  if (text === '' || text === '*') return undefined;
  if (/[?#]/.test(text)) problem('a url path glob cannot contain ? or # (the query string is never matched)');
  if (/[\u0000-\u001f\u007f]/.test(text)) problem('control character in url path glob');
  if (!text.startsWith('/') && !text.startsWith('*')) problem('a url path glob must start with / or *');
  const caseInsensitive = flags === 'i';
  const pieces = text.split('*').map((piece) => {
    const escaped = escapeRulePiece(piece);
    return caseInsensitive ? escaped.toLowerCase() : escaped;
  });
  return { pieces, caseInsensitive };
}

function parseRule(line: string, lineNumber: number): Rule | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  const kind: RuleKind | undefined = line.startsWith('allow|') ? 'allow' : line.startsWith('deny|') ? 'deny' : undefined;
  if (!kind) {
    if (/^(?:allow|deny)\s*\|/i.test(line)) problem('a rule starts with "allow|" or "deny|" (lower case, no space before |)');
    problem(`not a rule (${RULE_SHAPE}), # comment or blank line`);
  }
  let rest = line.slice(kind.length);
  const pipes = (s: string): number => s.split('|').length - 1;
  // go-camo: with more than four separators, trailing ones are dropped first (`…|/p|` is fine, `…||||` is not).
  if (pipes(rest) > 4) rest = rest.replace(/\|+$/, '');
  if (pipes(rest) !== 4) problem(`expected 5 fields separated by | (${RULE_SHAPE})`);
  const [hostFlags = '', hostText = '', pathFlags = '', pathText = ''] = rest.slice(1).split('|').map((p) => p.trim());
  const host = parseHost(hostFlags, hostText);
  const path = parsePath(pathFlags, pathText);
  return { kind, line: lineNumber, text: line, host, path };
}

/** Parses ruleset text. Throws RulesetError listing every bad line; an empty text is an empty ruleset. */
export function parseRuleset(text: string): Ruleset {
  const rules: Rule[] = [];
  const problems: RulesetProblem[] = [];
  String(text)
    .split('\n')
    .forEach((raw, index) => {
      try {
        const rule = parseRule(raw.trim(), index + 1);
        if (rule) rules.push(rule);
      } catch (err) {
        if (!(err instanceof LineProblem)) throw err;
        problems.push({ line: index + 1, message: err.message });
      }
    });
  if (problems.length > 0) throw new RulesetError(problems);
  return createRuleset(rules);
}

function hostMatches(match: HostMatch, host: string): boolean {
  switch (match.type) {
    case 'any':
      return true;
    case 'exact':
      return host === match.name;
    case 'subdomains':
      return (match.includeBase && host === match.name) || host.endsWith(`.${match.name}`);
  }
}

/** Anchored glob: the first piece is a prefix, the last a suffix, the middle ones appear in order between. */
function globMatches(pieces: readonly string[], path: string): boolean {
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return path === first;
  const last = pieces[pieces.length - 1] ?? '';
  if (path.length < first.length + last.length || !path.startsWith(first) || !path.endsWith(last)) return false;
  let at = first.length;
  const end = path.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? '';
    const found = path.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

interface Target {
  readonly host: string;
  readonly path: string;
  readonly lowerPath: string;
}

function targetOf(url: URL): Target {
  let host = url.hostname.toLowerCase();
  while (host.endsWith('.')) host = host.slice(0, -1);
  const path = normalizeEscapedPath(url.pathname);
  return { host, path, lowerPath: path.toLowerCase() };
}

function ruleMatches(rule: Rule, target: Target): boolean {
  if (!hostMatches(rule.host, target.host)) return false;
  if (!rule.path) return true;
  return globMatches(rule.path.pieces, rule.path.caseInsensitive ? target.lowerPath : target.path);
}

/** Builds the evaluator from parsed rules (parseRuleset does this; exported for tests and tooling). */
export function createRuleset(rules: readonly Rule[]): Ruleset {
  const allowRules = rules.filter((r) => r.kind === 'allow');
  const denyRules = rules.filter((r) => r.kind === 'deny');
  const check = (url: URL): RulesetVerdict => {
    const target = targetOf(url);
    if (allowRules.length > 0 && !allowRules.some((r) => ruleMatches(r, target))) {
      return { allowed: false, reason: 'no allow rule matches' };
    }
    const deny = denyRules.find((r) => ruleMatches(r, target));
    return deny ? { allowed: false, reason: 'deny rule matches', rule: deny } : { allowed: true };
  };
  return {
    rules,
    hasAllow: allowRules.length > 0,
    hasDeny: denyRules.length > 0,
    hasBothKinds: allowRules.length > 0 && denyRules.length > 0,
    allows: (url) => check(url).allowed,
    check,
  };
}
