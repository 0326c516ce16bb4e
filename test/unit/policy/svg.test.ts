import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSvgSource, SVG_RENDER_BUDGET } from '../../../src/policy/svg.js';

// The bomb shapes below were rendered with sharp 0.35.5 / librsvg 2.63.2 before the pre-scan knew them: from 1.4 s
// (10^4 markers) to 110 s (10^6 markers) of CPU, where an ordinary drawing takes milliseconds. The data: URL
// spellings were each checked to make librsvg draw the nested document.

const svg = (body: string) => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">${body}</svg>`);
const refuses = (body: string, why: RegExp) => assert.throws(() => checkSvgSource(svg(body)), why);
const accepts = (body: string) => assert.doesNotThrow(() => checkSvgSource(svg(body)));

function nestedUses(levels: number, perLevel: number, attr = 'href', spell = (id: string) => `#${id}`): Buffer {
  let defs = '<g id="l0"><rect width="1" height="1"/></g>';
  for (let i = 1; i <= levels; i++) {
    defs += `<g id="l${i}">${Array.from({ length: perLevel }, () => `<use ${attr}="${spell(`l${i - 1}`)}"/>`).join('')}</g>`;
  }
  return svg(`<defs>${defs}</defs><use ${attr}="${spell(`l${levels}`)}"/>`);
}

/** `levels` levels of `fanout` copies of `item(level below)`, wrapped by `wrap(level, items)`; drawn by `top`. */
function chain(levels: number, fanout: number, leaf: string, wrap: (i: number, items: string) => string, item: (below: number) => string, top: string): string {
  let defs = leaf;
  for (let i = 1; i <= levels; i++) defs += wrap(i, item(i - 1).repeat(fanout));
  return `<defs>${defs}</defs>${top}`;
}

test('refuses a nested <use> bomb (10 levels of 10) before any rendering', () => {
  assert.throws(() => checkSvgSource(nestedUses(10, 10)), /expand past/);
  assert.throws(() => checkSvgSource(nestedUses(16, 2, 'xlink:href')), /expand past/);
});

test('refuses the <use> bomb however the href or id is spelled with character references', () => {
  for (const spell of [
    (id: string) => `&#35;${id}`,
    (id: string) => `&#x23;${id}`,
    (id: string) => `&#X23;${id}`,
    (id: string) => `&#000035;${id}`,
    (id: string) => `#${[...id].map((c) => `&#${c.codePointAt(0)};`).join('')}`,
  ]) {
    assert.throws(() => checkSvgSource(nestedUses(10, 10, 'href', spell)), /expand past/, spell('l1'));
    assert.throws(() => checkSvgSource(nestedUses(10, 10, 'xlink:href', spell)), /expand past/, spell('l1'));
  }
  const idsSpelled = nestedUses(10, 10).toString().replace(/id="l(\d+)"/g, 'id="&#108;$1"');
  assert.throws(() => checkSvgSource(Buffer.from(idsSpelled)), /expand past/);
});

test('refuses the <use> bomb under any mix of literal and character-reference spellings (property)', () => {
  const spelling = fc.constantFrom('lit', 'dec', 'hex', 'pad');
  fc.assert(
    fc.property(fc.array(spelling, { minLength: 3, maxLength: 3 }), ([hash, letter, digit]) => {
      const enc = (c: string, how: string) =>
        how === 'lit' ? c : how === 'dec' ? `&#${c.codePointAt(0)};` : how === 'hex' ? `&#x${c.codePointAt(0)!.toString(16)};` : `&#00${c.codePointAt(0)};`;
      const spell = (id: string) => enc('#', hash!) + enc(id[0]!, letter!) + [...id.slice(1)].map((c) => enc(c, digit!)).join('');
      assert.throws(() => checkSvgSource(nestedUses(8, 10, 'href', spell)), /expand past/);
    }),
    { numRuns: 60 },
  );
});

test('counts both href and xlink:href, whichever librsvg prefers', () => {
  const both = nestedUses(10, 10).toString().replace(/<use href="(#l\d+)"\/>/g, '<use href="$1" xlink:href="#nothing"/>');
  assert.throws(() => checkSvgSource(Buffer.from(both)), /expand past/);
  const reversed = nestedUses(10, 10).toString().replace(/<use href="(#l\d+)"\/>/g, '<use xlink:href="#nothing" href="$1"/>');
  assert.throws(() => checkSvgSource(Buffer.from(reversed)), /expand past/);
});

test('refuses reference bombs made without <use>: patterns, masks, clip paths, markers, filters', () => {
  const pattern = (i: number, items: string) => `<pattern id="p${i}" width="10" height="10" patternUnits="userSpaceOnUse">${items}</pattern>`;
  const cases: Record<string, string> = {
    pattern: chain(6, 10, pattern(0, '<rect width="1" height="1"/>'), pattern, (b) => `<rect width="8" height="8" fill="url(#p${b})"/>`, '<rect width="10" height="10" fill="url(#p6)"/>'),
    'stroke in a style attribute': chain(6, 10, pattern(0, '<rect/>'), pattern, (b) => `<rect style="stroke: URL( '#p${b}' )"/>`, '<rect style="stroke:url(#p6)"/>'),
    'fill inherited from a group': chain(6, 10, pattern(0, '<rect/>'), (i, items) => pattern(i, `<g fill="url(#p${i - 1})">${items}</g>`), () => '<rect/>', '<rect fill="url(#p6)"/>'),
    mask: chain(6, 10, '<mask id="m0"><rect/></mask>', (i, items) => `<mask id="m${i}">${items}</mask>`, (b) => `<rect mask="url(#m${b})"/>`, '<rect mask="url(#m6)"/>'),
    'clip path': chain(6, 10, '<clipPath id="c0"><rect/></clipPath>', (i, items) => `<clipPath id="c${i}">${items}</clipPath>`, (b) => `<rect clip-path="url(#c${b})"/>`, '<rect clip-path="url(#c6)"/>'),
    'filter with feImage': chain(6, 10, '<g id="g0"><rect/></g><filter id="f0"><feImage href="#g0"/></filter>', (i, items) => `<g id="g${i}">${items}</g><filter id="f${i}"><feImage href="#g${i}"/></filter>`, (b) => `<rect filter="url(#f${b})"/>`, '<rect filter="url(#f6)"/>'),
    'marker on a 10-vertex path': chain(
      4, 1, '<marker id="k0"><rect/></marker>', (i, items) => `<marker id="k${i}">${items}</marker>`,
      (b) => `<path d="M0 0 L1 1 L2 2 L3 3 L4 4 L5 5 L6 6 L7 7 L8 8 L9 9" marker-mid="url(#k${b})"/>`,
      '<polyline points="0,0 1,1 2,2 3,3 4,4 5,5 6,6 7,7 8,8 9,9" marker-mid="url(#k4)"/>',
    ),
  };
  for (const [name, body] of Object.entries(cases)) assert.throws(() => checkSvgSource(svg(body)), /expand past/, name);
});

test('charges content drawn by reference for the paint and markers it inherits or takes from context', () => {
  const heavy = `<pattern id="p" width="10" height="10" patternUnits="userSpaceOnUse">${'<rect/>'.repeat(100)}</pattern>`;
  // 10 <use> of 1000 rectangles, each painted with a 100-element pattern: 10^6 elements.
  refuses(`<defs>${heavy}<g id="g">${'<rect/>'.repeat(1000)}</g></defs>${'<use href="#g" fill="url(#p)"/>'.repeat(10)}`, /expand past/);
  // 100 markers of 100 context-filled rectangles, each painted with the pattern: 10^6 elements.
  const vertices = Array.from({ length: 100 }, (_, k) => `L${k} ${k}`).join(' ');
  refuses(`<defs>${heavy}<marker id="k">${'<rect fill="context-fill"/>'.repeat(100)}</marker></defs><path fill="url(#p)" marker-mid="url(#k)" d="M0 0 ${vertices}"/>`, /expand past/);
});

test('refuses reference bombs made through <style> sheets, class selectors and CSS escapes', () => {
  const pattern = (i: number, items: string) => `<pattern id="p${i}" width="10" height="10" patternUnits="userSpaceOnUse">${items}</pattern>`;
  const body = (rules: string) => `<style>${rules}</style>${chain(6, 10, pattern(0, '<rect/>'), pattern, (b) => `<rect class="c${b}"/>`, '<rect class="c6"/>')}`;
  const rules = (decl: (i: number) => string) => Array.from({ length: 7 }, (_, i) => `.c${i}{${decl(i)}}`).join('');
  refuses(body(rules((i) => `fill:url(#p${i})`)), /expand past/);
  refuses(body(rules((i) => `fill:u\\72l(\\23 p${i})`)), /expand past/);
  refuses(body(`<![CDATA[${rules((i) => `fill: url("#p${i}")`)}]]>`), /expand past/);
  refuses(body(`@media screen { ${rules((i) => `f\\69ll:url(#p${i})`)} }`), /expand past/);
  // A selector the scanner does not reduce (a namespace here) applies to every element: never to none.
  refuses(body(Array.from({ length: 7 }, (_, i) => `svg|rect.c${i}{fill:url(#p${i})}`).join('')), /expand past|circular/);
});

test('sees through comments, CDATA and prefixes that used to hide the structure from the scanner', () => {
  const bomb = nestedUses(10, 10).toString();
  for (const hidden of [
    bomb.replace(/(<g id="l\d+">)/g, '$1<!-- </g> -->'),
    bomb.replace(/(<g id="l\d+">)/g, '$1<text><![CDATA[ </g> ]]></text>'),
    bomb.replace(/(<g id="l\d+">)/g, '$1<?pi </g> ?>'),
    bomb.replace(/<use /g, '<ü:use xmlns:ü="http://www.w3.org/2000/svg" '),
    bomb.replace(/<g id/g, '<svg:g xmlns:svg="http://www.w3.org/2000/svg" id').replace(/<\/g>/g, '</svg:g>'),
  ]) {
    assert.throws(() => checkSvgSource(Buffer.from(hidden)), /expand past/);
  }
});

test('refuses a data: URL that librsvg would draw as a second SVG document', () => {
  const inner = Buffer.from(nestedUses(10, 10)).toString('base64');
  for (const href of [
    `data:image/svg+xml;base64,${inner}`,
    `data:;base64,${inner}`,
    `data:image/bmp;base64,${inner}`,
    `data:text/plain;base64,${inner}`,
    `data:image/png%20;base64,${inner}`,
    `DATA:image/svg+xml;base64,${inner}`,
    `&#100;ata:image/svg+xml;base64,${inner}`,
    ` d&#10;ata:image/svg+xml;base64,${inner}`,
    `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg"/>')}`,
  ]) {
    refuses(`<image width="10" height="10" href="${href}"/>`, /data: URL/);
    refuses(`<filter id="f"><feImage xlink:href="${href}"/></filter><rect filter="url(#f)"/>`, /data: URL/);
  }
});

test('accepts raster data: URLs, which librsvg never reads as SVG', () => {
  const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
  for (const type of ['image/png', 'IMAGE/PNG', 'image/jpeg', 'image/gif', 'image/webp', 'image/png;charset=x']) {
    accepts(`<image width="10" height="10" href="data:${type};base64,${png}"/>`);
  }
});

test('refuses style sheets librsvg would load from elsewhere: <?xml-stylesheet?> and @import', () => {
  const css = encodeURIComponent('rect{fill:red}');
  assert.throws(() => checkSvgSource(Buffer.from(`<?xml-stylesheet type="text/css" href="data:text/css,${css}"?>${svg('<rect/>').toString()}`)), /xml-stylesheet/);
  refuses(`<style>@import url("data:text/css,${css}");</style>`, /@import/);
  refuses(`<style>@\\69mport 'data:text/css,${css}';</style>`, /@import/);
});

test('the budget sits between what renders fast and what does not', () => {
  assert.ok(SVG_RENDER_BUDGET >= 1000 && SVG_RENDER_BUDGET <= 100_000);
  assert.doesNotThrow(() => checkSvgSource(nestedUses(12, 2))); // 2^12 instances: about 0.1 s in librsvg
  assert.throws(() => checkSvgSource(nestedUses(14, 2)), /expand past/); // 2^14 instances
});

test('accepts ordinary drawings, a few nested uses and a flat sprite of many symbols', () => {
  accepts('<rect width="5" height="5" fill="red"/><circle cx="5" cy="5" r="2"/>');
  assert.doesNotThrow(() => checkSvgSource(nestedUses(3, 3)));
  const symbols = Array.from({ length: 200 }, (_, i) => `<symbol id="s${i}"><rect width="1" height="1"/></symbol>`).join('');
  const uses = Array.from({ length: 200 }, (_, i) => `<use href="#s${i}" x="${i}"/>`).join('');
  accepts(`<defs>${symbols}</defs>${uses}`);
});

test('accepts drawings as editors and chart tools write them', () => {
  // Illustrator: a class per style, gradients and clip paths named from the sheet.
  const rules = Array.from({ length: 50 }, (_, i) => `.cls-${i}{fill:url(#linear-gradient-${i});clip-path:url(#clip-path-${i});}`).join('');
  const defs = Array.from({ length: 50 }, (_, i) =>
    `<linearGradient id="linear-gradient-${i}"><stop offset="0" stop-color="#fff"/><stop offset="1"/></linearGradient><clipPath id="clip-path-${i}"><rect width="10" height="10"/></clipPath>`,
  ).join('');
  accepts(`<defs><style>${rules}</style>${defs}</defs>${Array.from({ length: 5000 }, (_, k) => `<path class="cls-${k % 50}" d="M0 0h1v1z"/>`).join('')}`);
  // Inkscape: markers and a pattern in <defs>, used from style attributes and clones.
  accepts(
    '<defs><marker id="Arrow1Lend" orient="auto"><path d="M 0,0 5,-5 -12.5,0 5,5 Z" style="fill:context-stroke"/></marker>' +
      '<pattern id="pattern1" width="4" height="4" patternUnits="userSpaceOnUse"><path d="M0 0h2v2H0z"/></pattern></defs>' +
      '<g id="layer1"><path id="path1" d="m 10,10 h 50 v 20" style="stroke:#000;marker-end:url(#Arrow1Lend)"/>' +
      '<rect id="rect1" style="fill:url(#pattern1)" width="20" height="20"/></g><use xlink:href="#layer1" transform="translate(30)"/>',
  );
  // A line chart: a marker at each of 2000 points.
  accepts(`<defs><marker id="dot"><circle r="1"/></marker></defs><polyline marker-mid="url(#dot)" points="${Array.from({ length: 2000 }, (_, k) => `${k},${k % 7}`).join(' ')}"/>`);
  // Comments, CDATA sheets, entities in text, a DOCTYPE without internal subset, deep groups.
  assert.doesNotThrow(() =>
    checkSvgSource(
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' +
          `<!-- made by hand --><svg xmlns="http://www.w3.org/2000/svg"><style><![CDATA[ rect { fill: #0a0 } ]]></style>${'<g>'.repeat(200)}<text>a &amp; b &#x3C; c</text>${'</g>'.repeat(200)}</svg>`,
      ),
    ),
  );
});

test('refuses entity declarations, DTD subsets, XInclude and circular references', () => {
  const dtd = Buffer.from('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>');
  assert.throws(() => checkSvgSource(dtd), /entity/);
  const attlist = Buffer.from('<!DOCTYPE svg [<!ATTLIST use href CDATA "#l9">]><svg xmlns="http://www.w3.org/2000/svg"><use/></svg>');
  assert.throws(() => checkSvgSource(attlist), /internal subset/);
  refuses('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>', /XInclude/);
  refuses('<ü:include xmlns:ü="http://www.w3.org/2001/XInclude" href="data:text/plain,x" parse="text"/>', /XInclude/);
  refuses('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>', /circular/);
  refuses('<defs><mask id="m"><rect mask="url(#m)"/></mask></defs><rect mask="url(#m)"/>', /circular/);
});

test('refuses markup the scanner cannot read instead of guessing at it', () => {
  const odd = Array.from({ length: 40 }, () => '<use href=#l0 />').join('');
  refuses(`<g id="l0"><rect/></g>${odd}`, /cannot read/);
  refuses('<g><rect></g></rect>', /cannot read/);
  refuses('<g><rect/>', /cannot read/);
  refuses('<rect width="1" height="<"/>', /cannot read/);
  assert.throws(() => checkSvgSource(Buffer.from('not markup at all')), /cannot read/);
  // libxml2 would decode these differently from the scan's UTF-8 reading (UTF-7 spells '<' as +ADw-).
  const utf7 = `<?xml version="1.0" encoding="UTF-7"?>${nestedUses(10, 10).toString().replace(/<use /g, '+ADw-use ')}`;
  assert.throws(() => checkSvgSource(Buffer.from(utf7)), /encoding/);
  assert.doesNotThrow(() => checkSvgSource(Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${svg('<rect/>').toString()}`)));
  refuses(`${'<g>'.repeat(300)}${'</g>'.repeat(300)}`, /nested too deep/);
});
