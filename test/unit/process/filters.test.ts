import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Filter } from '../../../src/parse/imagor-params.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { parseColour, parseFilterColour, parseFilterColourLenient } from '../../../src/process/filters/colour.js';
import { COLOUR_NAMES } from '../../../src/process/filters/colour-names.js';
import { createFilterRegistry, defaultFilterRegistry, prepareFilters } from '../../../src/process/filters/registry.js';
import { createCollectedOptions, defineFilter } from '../../../src/process/filters/types.js';

const f = (name: string, args = ''): Filter => ({ name, args });
const collect = (filters: Filter[], lenient = false) => {
  const into = createCollectedOptions();
  for (const p of prepareFilters(filters, { lenient })) p.collect(into);
  return into;
};
const invalidNaming = (detail: string) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && e.publicDetail === detail;

describe('colours', () => {
  const cases: Array<[string, [number, number, number, number] | undefined]> = [
    ['red', [255, 0, 0, 1]],
    ['RED', [255, 0, 0, 1]],
    ['#ff8800', [255, 136, 0, 1]],
    ['ff8800', [255, 136, 0, 1]],
    ['f80', [255, 136, 0, 1]],
    ['#FFF', [255, 255, 255, 1]],
    ['ff000080', [255, 0, 0, 128 / 255]],
    ['none', [0, 0, 0, 0]],
    ['transparent', [0, 0, 0, 0]],
    ['lightgoldenrodyellow', [250, 250, 210, 1]],
    ['grey', [128, 128, 128, 1]],
    ['rebeccapurple', undefined],
    ['ffo', undefined],
    ['ff00', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases) {
    test(`parseColour(${JSON.stringify(text)})`, () => {
      const c = parseColour(text);
      assert.deepEqual(c === undefined ? undefined : [c.r, c.g, c.b, c.alpha], want);
    });
  }
  test('knows the 147 SVG colour names imagor knows', () => assert.equal(COLOUR_NAMES.size, 147));
  test('filter colours are opaque, as imagor drops the alpha of 8-digit hex', () => {
    assert.deepEqual(parseFilterColour('ff000080'), { kind: 'colour', colour: { r: 255, g: 0, b: 0, alpha: 1 } });
  });
  test('auto is the average colour', () => assert.deepEqual(parseFilterColour('auto'), { kind: 'auto' }));
  test('leniently an unknown name is black and non-hex digits are 0 (imagor)', () => {
    assert.deepEqual(parseFilterColourLenient('nope'), { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } });
    assert.deepEqual(parseFilterColourLenient('FFO'), { kind: 'colour', colour: { r: 255, g: 255, b: 0, alpha: 1 } });
  });
});

describe('the registry', () => {
  test('knows the filters of the processing core and those handled elsewhere', () => {
    for (const name of ['format', 'fallback_format', 'quality', 'lossless', 'upscale', 'no_upscale', 'stretch', 'fill', 'background_color',
      'strip_exif', 'strip_icc', 'strip_metadata', 'max_frames', 'page', 'orient', 'expire', 'attachment', 'max_age', 'preview', 'raw',
      'blurhash', 'thumbhash', 'avgcolor']) {
      assert.ok(defaultFilterRegistry.get(name), name);
    }
  });
  test('declares phases and animation support for every filter', () => {
    for (const name of defaultFilterRegistry.names) {
      const def = defaultFilterRegistry.get(name)!;
      assert.ok(def.phases.length > 0, name);
      assert.ok(['all-frames', 'skipped', 'not-applicable'].includes(def.animation), name);
    }
  });
  test('refuses a name registered twice', () => {
    const a = defineFilter({ name: 'x', phases: ['pixel'], animation: 'all-frames', parse: () => true });
    assert.throws(() => createFilterRegistry([a, a]));
  });
  test('a new filter is one declaration', () => {
    const reg = createFilterRegistry([
      defineFilter<number>({
        name: 'double_quality',
        phases: ['export'],
        animation: 'not-applicable',
        parse: (args) => Number(args[0]),
        collect: (n, into) => {
          into.quality = n * 2;
        },
      }),
    ]);
    const into = createCollectedOptions();
    for (const p of prepareFilters([f('double_quality', '30')], { registry: reg })) p.collect(into);
    assert.equal(into.quality, 60);
  });
});

describe('prepareFilters', () => {
  test('an unknown filter is INVALID_PARAMS naming it', () => {
    assert.throws(() => prepareFilters([f('blurr', '3')]), invalidNaming('unknown filter: blurr'));
  });
  test('an unknown filter name is sanitised before it is shown', () => {
    assert.throws(() => prepareFilters([f('<script>')]), invalidNaming('unknown filter: ?script?'));
  });
  test('lenient mode ignores unknown filters (imagor)', () => assert.deepEqual(prepareFilters([f('blurr', '3')], { lenient: true }), []));
  test('an empty name from a stray colon is skipped', () => assert.deepEqual(prepareFilters([f('')]), []));
  test('a custom unknown-filter policy is called', () => {
    const seen: string[] = [];
    prepareFilters([f('a'), f('b')], { onUnknown: (name) => seen.push(name) });
    assert.deepEqual(seen, ['a', 'b']);
  });
  test('disabled filters are not even parsed', () => assert.deepEqual(prepareFilters([f('quality', 'x')], { disabled: ['quality'] }), []));
  test('keeps the URL index of each filter', () => {
    assert.deepEqual(prepareFilters([f('bogus'), f('format', 'png')], { lenient: true }).map((p) => p.index), [1]);
  });

  const malformed: Array<[Filter, string]> = [
    [f('quality', 'abc'), 'quality: expects an integer from 0 to 100'],
    [f('quality', '101'), 'quality: expects an integer from 0 to 100'],
    [f('quality', '-1'), 'quality: expects an integer from 0 to 100'],
    [f('format', 'jpeg2000'), 'format: expects jpeg, jpg, png, gif, webp, avif, heif, tiff, jp2, jxl, bmp, pdf or svg'],
    [f('format', 'PNG'), 'format: expects jpeg, jpg, png, gif, webp, avif, heif, tiff, jp2, jxl, bmp, pdf or svg'],
    [f('fallback_format', ''), 'fallback_format: expects jpeg, jpg, png, gif, webp, avif, heif, tiff, jp2, jxl, bmp, pdf or svg'],
    [f('fill', 'notacolour'), 'fill: expects a colour, auto, blur, none or transparent'],
    [f('fill', ''), 'fill: expects a colour, auto, blur, none or transparent'],
    [f('fill', 'red,maybe'), 'fill: expects a colour, auto, blur, none or transparent'],
    [f('background_color', 'ffo'), 'background_color: expects a colour or auto'],
    [f('background_color', ''), 'background_color: expects a colour or auto'],
    [f('max_frames', '0'), 'max_frames: expects a positive integer'],
    [f('max_frames', 'x'), 'max_frames: expects a positive integer'],
    [f('page', '-2'), 'page: expects a positive integer'],
    [f('orient', '45'), 'orient: expects 90, 180 or 270'],
    [f('upscale', 'true'), 'upscale: takes no arguments'],
    [f('strip_exif', '1'), 'strip_exif: takes no arguments'],
  ];
  for (const [filter, detail] of malformed) {
    test(`${filter.name}(${filter.args}) is INVALID_PARAMS naming the filter`, () => {
      assert.throws(() => prepareFilters([filter]), invalidNaming(detail));
    });
  }

  test('lenient quality(abc) is the encoder default, as imagor reads Atoi failures as 0', () => {
    assert.equal(collect([f('quality', 'abc')], true).quality, 0);
  });
  test('lenient format(PNG) is ignored, as imagor looks names up case-sensitively', () => {
    assert.equal(collect([f('format', 'PNG')], true).format, undefined);
  });
  test('lenient orient(45) rotates nothing but still needs the full image', () => {
    const c = collect([f('orient', '45')], true);
    assert.deepEqual([c.orient, c.fullDecode], [undefined, ['orient']]);
  });
  test('thumbor fill(colour, true) is accepted', () => assert.doesNotThrow(() => prepareFilters([f('fill', 'red,true')])));
  test('later filters override earlier ones', () => {
    const c = collect([f('format', 'png'), f('quality', '30'), f('format', 'webp'), f('upscale'), f('no_upscale')]);
    assert.deepEqual([c.format, c.quality, c.upscale], ['webp', 30, false]);
  });
  test('max_frames keeps the smallest', () => assert.equal(collect([f('max_frames', '5'), f('max_frames', '2'), f('max_frames', '4')]).maxFrames, 2));
  test('filters handled by the server are accepted as they are', () => {
    assert.doesNotThrow(() => prepareFilters([f('expire', '1700000000000'), f('attachment', 'a.jpg'), f('max_age', '60'), f('preview'), f('raw')]));
  });
});
