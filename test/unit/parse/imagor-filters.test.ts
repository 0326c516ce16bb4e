// The `filters:` scanner: the text imagor's parser drops (a name without parentheses, text after `)`, a `(...)`
// with no name) is listed beside the filters, while the filters, the image and the /params JSON stay imagor's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanFiltersSegment } from '../../../src/parse/imagor-filters.js';
import { NOTHING_DROPPED, toImagorJson, type DroppedFilterText } from '../../../src/parse/imagor-params.js';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';

describe('dropped filter text', () => {
  const cases: ReadonlyArray<readonly [segment: string, dropped: readonly DroppedFilterText[]]> = [
    ['filters:blurr/quad.png', [{ kind: 'bare', text: 'blurr' }]],
    ['filters:grayscale/quad.png', [{ kind: 'bare', text: 'grayscale' }]],
    ['filters:grayscale():sepiaa/quad.png', [{ kind: 'bare', text: 'sepiaa' }]],
    ['filters:sepiaa:grayscale()/quad.png', [{ kind: 'bare', text: 'sepiaa' }]],
    ['filters:blur(5)junk:grayscale()/quad.png', [{ kind: 'trailing', text: 'junk', after: 'blur' }]],
    ['filters:grayscale():blur(5)junk/quad.png', [{ kind: 'trailing', text: 'junk', after: 'blur' }]],
    ['filters:blur(5) /quad.png', [{ kind: 'trailing', text: ' ', after: 'blur' }]],
    ['filters:a(1)b(2)/quad.png', [{ kind: 'trailing', text: 'b(2)', after: 'a' }]],
    ['filters:(5)/quad.png', [{ kind: 'unnamed', text: '(5)' }]],
    ['filters:(5):grayscale()/quad.png', [{ kind: 'unnamed', text: '(5)' }]],
    ['filters:a:b(1)c:(2)/quad.png', [{ kind: 'bare', text: 'a' }, { kind: 'trailing', text: 'c', after: 'b' }, { kind: 'unnamed', text: '(2)' }]],
    // operations as IMAGOR_BASE_PARAMS writes them: no image, the trailing slash added by parseOperations
    ['filters:foo/', [{ kind: 'bare', text: 'foo' }]],
    ['filters:foo', [{ kind: 'bare', text: 'foo' }]],
    ['filters:blur(5)x', [{ kind: 'trailing', text: 'x', after: 'blur' }]],
  ];
  for (const [segment, dropped] of cases) {
    test(`${JSON.stringify(segment)} lists ${dropped.map((d) => d.text).join(', ')} as dropped`, () => {
      assert.deepEqual(scanFiltersSegment(segment).dropped, dropped);
    });
  }

  const clean = [
    'filters:blur(5):grayscale()/quad.png',
    'filters:blur(1):/a.jpg',
    'filters::grayscale()/a.jpg',
    'filters:/a.jpg',
    'filters:blur(5)/',
    'filters:blur(5)',
    'filters:image(/100x100/filters:blurr/d.jpg,0,0):round_corner(5)/a.jpg',
    'filters:label(a b:c/d)/a.jpg',
    'a.jpg',
    '',
  ];
  for (const segment of clean) {
    test(`${JSON.stringify(segment)} drops nothing (the shared empty list)`, () => {
      assert.equal(scanFiltersSegment(segment).dropped, NOTHING_DROPPED);
    });
  }

  test('an unclosed parenthesis reports nothing more: the rest of the path, image included, is its argument', () => {
    const out = scanFiltersSegment('filters:blur(5/a.png');
    assert.deepEqual(out, { filters: [{ name: 'blur', args: '' }], image: '', dropped: NOTHING_DROPPED });
  });

  test('the parsed URL carries the list; the /params JSON has no field for it', () => {
    const p = parseImagorPath('unsafe/filters:grayscale():sepiaa/quad.png');
    assert.deepEqual(p.droppedFilterText, [{ kind: 'bare', text: 'sepiaa' }]);
    const json = toImagorJson(p);
    assert.deepEqual(Object.keys(json), ['path', 'image', 'unsafe', 'filters']);
    assert.deepEqual(json.filters, [{ name: 'grayscale' }]);
  });
});

describe('removing exactly the dropped text changes nothing imagor sees', () => {
  // imagor drops these pieces, so a URL without them parses to the same filters, image and /params JSON.
  const name = fc.stringMatching(/^[a-z][a-z_]{0,8}$/);
  const args = fc.stringMatching(/^[0-9a-z,.]{0,6}$/);
  const junk = fc.stringMatching(/^[a-z]{1,6}$/);
  const entry = fc.oneof(
    fc.record({ call: fc.tuple(name, args), junk: fc.constant('') }),
    fc.record({ call: fc.tuple(name, args), junk }),
    fc.record({ call: fc.constant(undefined), junk }),
  );
  test('for bare names and text after `)`', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
        const write = (withJunk: boolean): string =>
          'unsafe/filters:' +
          entries.map((e) => (e.call ? `${e.call[0]}(${e.call[1]})` : '') + (withJunk ? e.junk : '')).join(':') +
          '/img.png';
        const dirty = parseImagorPath(write(true));
        const tidy = parseImagorPath(write(false));
        assert.deepEqual(dirty.filters, tidy.filters);
        assert.equal(dirty.image, tidy.image);
        assert.deepEqual({ ...toImagorJson(dirty), path: '' }, { ...toImagorJson(tidy), path: '' });
        assert.equal(tidy.droppedFilterText, NOTHING_DROPPED);
        const expected = entries.filter((e) => e.junk !== '').map((e) => e.junk);
        assert.deepEqual(dirty.droppedFilterText.map((d) => d.text), expected);
      }),
      { numRuns: 300 },
    );
  });
});
