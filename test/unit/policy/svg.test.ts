import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSvgSource, SVG_USE_BUDGET } from '../../../src/policy/svg.js';

const svg = (body: string) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">${body}</svg>`);

function nestedUses(levels: number, perLevel: number, attr = 'href'): Buffer {
  let defs = '<g id="l0"><rect width="1" height="1"/></g>';
  for (let i = 1; i <= levels; i++) {
    defs += `<g id="l${i}">${Array.from({ length: perLevel }, () => `<use ${attr}="#l${i - 1}"/>`).join('')}</g>`;
  }
  return svg(`<defs>${defs}</defs><use ${attr}="#l${levels}"/>`);
}

test('refuses a nested <use> bomb (10 levels of 10) before any rendering', () => {
  assert.throws(() => checkSvgSource(nestedUses(10, 10)), /expand past/);
  assert.throws(() => checkSvgSource(nestedUses(16, 2, 'xlink:href')), /expand past/);
});

test('accepts ordinary drawings, a few nested uses and a flat sprite of many symbols', () => {
  assert.doesNotThrow(() => checkSvgSource(svg('<rect width="5" height="5" fill="red"/><circle cx="5" cy="5" r="2"/>')));
  assert.doesNotThrow(() => checkSvgSource(nestedUses(3, 3)));
  const symbols = Array.from({ length: 200 }, (_, i) => `<symbol id="s${i}"><rect width="1" height="1"/></symbol>`).join('');
  const uses = Array.from({ length: 200 }, (_, i) => `<use href="#s${i}" x="${i}"/>`).join('');
  assert.doesNotThrow(() => checkSvgSource(svg(`<defs>${symbols}</defs>${uses}`)));
});

test('the budget sits between what renders fast and what does not', () => {
  assert.ok(SVG_USE_BUDGET >= 1000 && SVG_USE_BUDGET <= 100_000);
  assert.doesNotThrow(() => checkSvgSource(nestedUses(12, 2))); // 2^12 instances
  assert.throws(() => checkSvgSource(nestedUses(14, 2))); // 2^14
});

test('refuses entity declarations, XInclude and circular references', () => {
  const dtd = Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>');
  assert.throws(() => checkSvgSource(dtd), /entity/);
  assert.throws(() => checkSvgSource(svg('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>')), /XInclude/);
  assert.throws(() => checkSvgSource(svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>')), /circular/);
});

test('a <use> hidden from the tag scanner by odd quoting still counts', () => {
  const odd = Array.from({ length: 40 }, () => '<use href=#l0 />').join('');
  assert.throws(() => checkSvgSource(svg(`<g id="l0"><rect/></g>${odd}`)), /cannot read/);
});
