/**
 * A pre-scan of SVG sources before librsvg sees them. librsvg cannot be interrupted, and a few kilobytes of nested
 * <use> references make it render billions of copies (a 3.7 KB file burns 7-25 s of CPU before failing). So the
 * reference graph is measured first: every element id's weight is 1 plus the weights of everything its subtree
 * <use>s, and a source whose heaviest reference, or total, passes the budget is refused. Entity declarations and
 * XInclude are refused outright. Pure: bytes in, a verdict out; never renders.
 */
import { fail } from '../respond/errors.js';

/** Instances librsvg may be asked to draw through <use>; a few thousand render in well under a second. */
export const SVG_USE_BUDGET = 10_000;

const TAG = /<(\/?)([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
const ATTR = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const ANY_USE = /<(?:[\w.-]+:)?use[\s/>]/gi;

interface Frame {
  readonly id: string | undefined;
  readonly uses: string[];
  /** Content of defs, symbol and the like is drawn only when referenced, so its uses count there, not in place. */
  readonly hidden: boolean;
}

const NOT_DRAWN_IN_PLACE = new Set(['defs', 'symbol', 'pattern', 'mask', 'clippath', 'marker', 'lineargradient', 'radialgradient']);

export function checkSvgSource(bytes: Uint8Array): void {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (/<!ENTITY/i.test(text)) fail('UNSUPPORTED_FORMAT', 'svg: entity declarations are refused');
  if (/<(?:[\w.-]+:)?include[\s/>]/i.test(text)) fail('UNSUPPORTED_FORMAT', 'svg: XInclude is refused');

  const subtreeUses = new Map<string, string[]>();
  const stack: Frame[] = [];
  const topLevel: string[] = [];
  let usesSeen = 0;
  for (const m of text.matchAll(TAG)) {
    const [, closing, rawName, attrs, selfClosing] = m;
    const name = rawName!.includes(':') ? rawName!.split(':')[1]! : rawName!;
    if (closing) {
      const frame = stack.pop();
      if (!frame) continue;
      if (frame.id !== undefined) subtreeUses.set(frame.id, frame.uses);
      if (frame.hidden) continue;
      if (stack.length > 0) stack[stack.length - 1]!.uses.push(...frame.uses);
      else topLevel.push(...frame.uses);
      continue;
    }
    let id: string | undefined;
    let href: string | undefined;
    for (const a of attrs!.matchAll(ATTR)) {
      const attr = a[1]!.toLowerCase();
      const value = a[2] ?? a[3] ?? '';
      if (attr === 'id') id = value;
      if (attr === 'href' || attr.endsWith(':href')) href = value;
    }
    const frame: Frame = { id, uses: [], hidden: NOT_DRAWN_IN_PLACE.has(name.toLowerCase()) };
    if (name.toLowerCase() === 'use') {
      usesSeen++;
      if (href?.startsWith('#')) frame.uses.push(href.slice(1));
    }
    if (selfClosing) {
      if (id !== undefined) subtreeUses.set(id, frame.uses);
      if (frame.hidden) continue;
      if (stack.length > 0) stack[stack.length - 1]!.uses.push(...frame.uses);
      else topLevel.push(...frame.uses);
    } else {
      stack.push(frame);
    }
  }
  // A <use> the scanner could not read as a tag (odd quoting) must not escape the count.
  const rawUses = text.match(ANY_USE)?.length ?? 0;
  if (rawUses > usesSeen && rawUses > 16) fail('UNSUPPORTED_FORMAT', 'svg: <use> elements the pre-scan cannot read');

  const weights = new Map<string, number>();
  const visiting = new Set<string>();
  const weightOf = (id: string): number => {
    const known = weights.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) fail('UNSUPPORTED_FORMAT', 'svg: circular <use> reference');
    visiting.add(id);
    let w = 1;
    for (const target of subtreeUses.get(id) ?? []) {
      w += weightOf(target);
      if (w > SVG_USE_BUDGET) fail('UNSUPPORTED_FORMAT', `svg: <use> references expand past ${SVG_USE_BUDGET} instances`);
    }
    visiting.delete(id);
    weights.set(id, w);
    return w;
  };
  let total = 0;
  for (const id of subtreeUses.keys()) weightOf(id);
  for (const target of topLevel) {
    total += weightOf(target);
    if (total > SVG_USE_BUDGET) fail('UNSUPPORTED_FORMAT', `svg: <use> references expand past ${SVG_USE_BUDGET} instances`);
  }
}
