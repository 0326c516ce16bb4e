// The SVG pre-scan's own cost stays bounded (it runs on the main thread before librsvg): many properties in one
// style, or one style sheet rule applying many declarations to every element, are refused quickly instead of
// copying or filling a map per element.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { checkSvgSource } from '../../../src/policy/svg.js';
import { isPixgateError } from '../../../src/respond/errors.js';

function timedRefusal(svg: string): number {
  const started = performance.now();
  assert.throws(() => checkSvgSource(Buffer.from(svg)), (e) => isPixgateError(e) && e.code === 'UNSUPPORTED_FORMAT');
  return performance.now() - started;
}

const children = (n: number, element: string) => Array.from({ length: n }, () => element).join('');

test('a root style naming 20 000 properties over 50 000 children is refused quickly', () => {
  const style = Array.from({ length: 20_000 }, (_, i) => `p${i}:url(#a)`).join(';');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" style="${style}"><defs><linearGradient id="a"/></defs>${children(50_000, '<g fill="url(#a)"/>')}</svg>`;
  const ms = timedRefusal(svg);
  assert.ok(ms < 2000, `${Math.round(ms)} ms`);
});

test('a * rule with 10 000 declarations over 50 000 elements is refused quickly', () => {
  const rule = Array.from({ length: 10_000 }, (_, i) => `p${i}:url(#a)`).join(';');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg"><style>*{${rule}}</style><defs><linearGradient id="a"/></defs>${children(50_000, '<g/>')}</svg>`;
  const ms = timedRefusal(svg);
  assert.ok(ms < 2000, `${Math.round(ms)} ms`);
});

test('a * rule with a few declarations over many elements is still weighed, not refused for its size', () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg"><style>*{fill:url(#a);stroke:url(#a)}</style><defs><linearGradient id="a"/></defs>${children(5_000, '<rect width="1" height="1"/>')}</svg>`;
  assert.doesNotThrow(() => checkSvgSource(Buffer.from(svg)));
});
