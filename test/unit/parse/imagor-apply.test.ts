import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOperations, expandPresets, parseOperations, parsePresets, splitPresetSegment } from '../../../src/parse/imagor-apply.js';
import { parseImagorParamsPath } from '../../../src/parse/imagor-path.js';

test('base params override the URL segments they set and append their filters', () => {
  const url = parseImagorParamsPath('fit-in/300x200/filters:quality(70)/example.com/a.jpg');
  const out = applyOperations(url, parseOperations('filters:watermark(logo.png,0,0,0)'));
  assert.equal(out.fitIn, true);
  assert.equal(out.width, 300);
  assert.equal(out.image, 'example.com/a.jpg');
  assert.deepEqual(out.filters.map((f) => f.name), ['quality', 'watermark']);
  const sized = applyOperations(url, parseOperations('100x100/'));
  assert.equal(sized.width, 100);
  assert.equal(sized.height, 100);
});

test('parses presets and refuses malformed ones with the preset named', () => {
  const p = parsePresets('thumb=fit-in/200x200/filters:quality(80); wide = 1200x0/');
  assert.equal(p.get('thumb')!.width, 200);
  assert.equal(p.get('thumb')!.fitIn, true);
  assert.equal(p.get('wide')!.width, 1200);
  assert.throws(() => parsePresets('thumb'), /thumb/);
  assert.throws(() => parsePresets('a=1x1/;a=2x2/'), /defined twice/);
  assert.throws(() => parsePresets('bad=not-an-op/x.jpg'), /bad/);
});

test('expands presets under the URL\'s own segments', () => {
  const presets = parsePresets('thumb=fit-in/200x200/filters:quality(80);webp=filters:format(webp)');
  const split = splitPresetSegment('preset:thumb,webp/filters:quality(60)/example.com/a.jpg')!;
  assert.deepEqual(split.names, ['thumb', 'webp']);
  const own = parseImagorParamsPath(split.rest);
  const params = expandPresets(split.names, own, presets);
  assert.equal(params.width, 200);
  assert.equal(params.image, 'example.com/a.jpg');
  assert.deepEqual(params.filters.map((f) => `${f.name}(${f.args})`), ['quality(80)', 'format(webp)', 'quality(60)']);
  assert.throws(() => expandPresets(['nope'], own, presets), /unknown preset nope/);
  assert.equal(splitPresetSegment('fit-in/1x1/a.jpg'), undefined);
});

test("operations that drop nothing keep the URL's dropped filter text, so strict validation still sees it", () => {
  const url = parseImagorParamsPath('filters:blurr/example.com/a.jpg');
  assert.deepEqual(url.droppedFilterText, [{ kind: 'bare', text: 'blurr' }]);
  assert.deepEqual(applyOperations(url, parseOperations('filters:grayscale()')).droppedFilterText, url.droppedFilterText);
  assert.deepEqual(applyOperations(url, parseOperations('fit-in/10x10/')).droppedFilterText, url.droppedFilterText);
  const presets = parsePresets('thumb=fit-in/20x20/filters:quality(80)');
  assert.deepEqual(expandPresets(['thumb'], url, presets).droppedFilterText, url.droppedFilterText);
  assert.deepEqual(parseOperations('filters:foo').droppedFilterText, [{ kind: 'bare', text: 'foo' }]);
});
