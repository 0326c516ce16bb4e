/**
 * Strict Content-Type handling for proxied responses: parse the header as one RFC 9110 media type (a second type
 * smuggled after a comma or a space is a parse error), check it against the allowed families, and re-serialise it
 * so the client never sees the origin's raw header. go-camo fixed CVE-2019-18923 the same way.
 */
import { fail } from '../respond/errors.js';

export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  readonly params: readonly (readonly [string, string])[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_RUN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

export function parseMediaType(header: string): MediaType | undefined {
  let i = 0;
  const s = header;
  const skipOws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = () => {
    TOKEN_RUN.lastIndex = i;
    const m = TOKEN_RUN.exec(s);
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  skipOws();
  const type = readToken();
  if (!type || s[i] !== '/') return undefined;
  i++;
  const subtype = readToken();
  if (!subtype) return undefined;
  const params: [string, string][] = [];
  skipOws();
  while (i < s.length) {
    if (s[i] !== ';') return undefined;
    i++;
    skipOws();
    if (i >= s.length) break; // a trailing ";" is tolerated
    const name = readToken();
    if (!name || s[i] !== '=') return undefined;
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i]!;
        if (c === '\\' && i + 1 < s.length) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          if (c < ' ' && c !== '\t') return undefined;
          value += c;
          i++;
        }
      }
      if (!closed) return undefined;
    } else {
      value = readToken();
      if (!value) return undefined;
    }
    const lower = name.toLowerCase();
    if (params.some(([n]) => n === lower)) return undefined; // duplicate parameter
    params.push([lower, value]);
    skipOws();
  }
  return { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params };
}

export function formatMediaType(m: MediaType): string {
  let out = `${m.type}/${m.subtype}`;
  for (const [name, value] of m.params) {
    out += `; ${name}=${TOKEN.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`}`;
  }
  return out;
}

export interface ContentTypeRules {
  readonly allowVideo: boolean;
  readonly allowAudio: boolean;
}

/** Validates an origin's Content-Type for pass-through; returns the re-serialised value or throws. */
export function checkProxiedContentType(header: string | undefined, rules: ContentTypeRules): MediaType & { header: string } {
  if (header === undefined || header.trim() === '') fail('EMPTY_CONTENT_TYPE', 'origin sent no content-type');
  const m = parseMediaType(header);
  if (!m) fail('UNSUPPORTED_CONTENT_TYPE', `unparseable content-type ${JSON.stringify(header.slice(0, 100))}`);
  const allowed = m.type === 'image' || (m.type === 'video' && rules.allowVideo) || (m.type === 'audio' && rules.allowAudio);
  if (!allowed) fail('UNSUPPORTED_CONTENT_TYPE', `content-type ${m.type}/${m.subtype} not allowed`);
  return { ...m, header: formatMediaType(m) };
}
