/**
 * The `filters:` segment of an imagor path: scanning it into `{name, args}` entries, splitting args on
 * top-level commas, and writing the segment back. Pure text work; what a filter does is the planner's business.
 */
import { NOTHING_DROPPED, type DroppedFilterText, type Filter } from './imagor-params.js';

/**
 * Scans `filters:NAME(ARGS):NAME(ARGS)…/IMAGE` with a parenthesis depth counter, so nested `(`, `)`, `:` and
 * `/` inside args stay in the args (a `watermark(host/filters:label(a):x(y)/a.jpg,0,0,0)` is one filter).
 * Reproduces imagor's parseFilters quirks on purpose: a name without parentheses is dropped, text between `)`
 * and the next `:` is dropped, a `:` with no name before it yields an entry with an empty name, an unclosed
 * `(` swallows the rest of the path. Text that does not start with `filters:` is all image. What imagor drops
 * is listed in `dropped` (the shared empty list when nothing was), so strict validation can refuse it while
 * `filters` stays exactly imagor's.
 */
export function scanFiltersSegment(text: string): { filters: Filter[]; image: string; dropped: readonly DroppedFilterText[] } {
  if (!text.startsWith('filters:')) return { filters: [], image: text, dropped: NOTHING_DROPPED };
  const body = text.slice('filters:'.length);
  const filters: Filter[] = [];
  const dropped: DroppedFilterText[] = [];
  let image = '';
  let buf = '';
  let depth = 0;
  let name = '';
  let args = '';
  // The entry being read: where it starts, and the end of its first `name(...)` group (undefined before one).
  let entryStart = 0;
  let firstName = '';
  let firstEnd: number | undefined;
  const endEntry = (at: number): void => {
    if (firstEnd === undefined) {
      if (buf !== '') dropped.push({ kind: 'bare', text: buf });
    } else {
      if (firstName === '') dropped.push({ kind: 'unnamed', text: body.slice(entryStart, firstEnd) });
      if (at > firstEnd) dropped.push({ kind: 'trailing', text: body.slice(firstEnd, at), after: firstName });
    }
  };
  const startEntry = (at: number): void => {
    entryStart = at;
    firstName = '';
    firstEnd = undefined;
  };
  let ended = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '(') {
      if (depth === 0) {
        name = buf;
        buf = '';
      } else {
        buf += ch;
      }
      depth++;
    } else if (ch === ')') {
      depth--;
      if (depth === 0) {
        args = buf;
        buf = '';
        if (firstEnd === undefined) {
          firstName = name;
          firstEnd = i + 1;
        }
      } else {
        buf += ch;
      }
    } else if (ch === '/' && depth === 0) {
      image = body.slice(i + 1);
      endEntry(i);
      ended = true;
      // imagor keeps scanning when the `/` is the last character; nothing is left to scan then.
      if (image !== '') break;
    } else if (ch === ':' && depth === 0) {
      endEntry(i);
      startEntry(i + 1);
      filters.push({ name, args });
      name = '';
      args = '';
      buf = '';
    } else {
      buf += ch;
    }
  }
  // An unclosed `(` has already swallowed the rest of the path (and the image): nothing more to report.
  if (!ended && depth === 0) endEntry(body.length);
  if (name !== '') filters.push({ name, args });
  return { filters, image, dropped: dropped.length > 0 ? dropped : NOTHING_DROPPED };
}

/**
 * Splits filter args on commas outside parentheses (imagor's SplitArgs): `path(a,b),x,y` gives
 * `['path(a,b)', 'x', 'y']`. Like imagor, '' gives [] and a trailing empty argument is dropped (`a,` gives
 * `['a']`), while empty arguments before it are kept (`a,,b` gives `['a', '', 'b']`).
 */
export function splitFilterArgs(args: string): string[] {
  const out: string[] = [];
  if (args === '') return out;
  let buf = '';
  let depth = 0;
  for (const ch of args) {
    if (ch === ',' && depth === 0) {
      out.push(buf);
      buf = '';
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    buf += ch;
  }
  if (buf !== '') out.push(buf);
  return out;
}

/** The filter's arguments, split as imagor splits them. */
export function filterArgs(filter: Filter): string[] {
  return splitFilterArgs(filter.args);
}

export function hasFilter(filters: readonly Filter[], name: string): boolean {
  return filters.some((f) => f.name === name);
}

/** The last filter with this name (for settings such as `format` or `quality` where the last one counts). */
export function findLastFilter(filters: readonly Filter[], name: string): Filter | undefined {
  for (let i = filters.length - 1; i >= 0; i--) {
    if (filters[i]!.name === name) return filters[i];
  }
  return undefined;
}

/** `filters:a(1):b()` as imagor writes it; '' for an empty list. */
export function formatFiltersSegment(filters: readonly Filter[]): string {
  if (filters.length === 0) return '';
  return 'filters:' + filters.map((f) => `${f.name}(${f.args})`).join(':');
}
