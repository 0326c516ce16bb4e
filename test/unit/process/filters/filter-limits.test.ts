import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, validateFilters, type ProcessOptions } from '../../../../src/process/process-image.js';
import { loadSettings } from '../../../../src/settings/load.js';
import { decode, makeQuadrant, near, RED } from '../../../helpers/images.js';

const params = (path: string) => parseImagorPath(`unsafe/${path}`);

async function run(path: string, options: ProcessOptions = {}) {
  const result = await processImage(await makeQuadrant(20, 10), params(path), options);
  return { ...result, decoded: await decode(result.image.data) };
}

describe('VIPS_MAX_FILTER_OPS', () => {
  test('more pixel filters than the limit is INVALID_PARAMS naming the limit, before any image', () => {
    assert.throws(
      () => validateFilters(params('filters:invert():grayscale():blur(2)/a.png'), { maxFilterOps: 2 }),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /at most 2/.test(e.publicDetail ?? ''),
    );
  });
  test('filters that only set options do not count', async () => {
    const { image, decoded: d } = await run('filters:format(png):quality(80):strip_exif():invert()/a.png', { maxFilterOps: 1 });
    assert.equal(image.format, 'png');
    // The one pixel filter ran even though it is fourth in the URL.
    assert.ok(near(d.pixel(2, 2), { r: 0, g: 255, b: 255 }, 2));
  });
  test('-1 and 0 mean no limit', () => {
    validateFilters(params('filters:invert():grayscale():blur(2)/a.png'), { maxFilterOps: -1 });
    validateFilters(params('filters:invert():grayscale():blur(2)/a.png'), { maxFilterOps: 0 });
  });
  test('lenient mode skips the filters at or beyond the limit\'s index in the URL (imagor)', async () => {
    const { decoded: d } = await run('filters:format(png):invert()/a.png', { maxFilterOps: 1, lenientFilters: true });
    assert.ok(near(d.pixel(2, 2), RED, 2));
  });
});

describe('VIPS_DISABLE_FILTERS', () => {
  test('a disabled filter is skipped and its arguments are not checked', async () => {
    const { decoded: d } = await run('filters:invert(nonsense):brightness(x)/a.png', { disabledFilters: ['invert', 'brightness'] });
    assert.ok(near(d.pixel(2, 2), RED, 2));
  });
  test('other filters still run', async () => {
    const { decoded: d } = await run('filters:invert():grayscale()/a.png', { disabledFilters: ['grayscale'] });
    assert.ok(near(d.pixel(2, 2), { r: 0, g: 255, b: 255 }, 2));
  });
});

describe('settings', () => {
  test('VIPS_MAX_FILTER_OPS, VIPS_DISABLE_BLUR and VIPS_DISABLE_FILTERS are read from the environment', () => {
    const { settings } = loadSettings({ VIPS_MAX_FILTER_OPS: '3', VIPS_DISABLE_BLUR: 'true', VIPS_DISABLE_FILTERS: 'blur, watermark' }, []);
    assert.equal(settings.vipsMaxFilterOps, 3);
    assert.equal(settings.vipsDisableBlur, true);
    assert.deepEqual(settings.vipsDisableFilters, ['blur', 'watermark']);
  });
  test('the defaults change nothing: no limit, nothing disabled', () => {
    const { settings } = loadSettings({}, []);
    assert.deepEqual([settings.vipsMaxFilterOps, settings.vipsDisableBlur, settings.vipsDisableFilters], [-1, false, []]);
  });
  test('VIPS_MAX_FILTER_OPS below -1 is refused', () => {
    assert.throws(() => loadSettings({ VIPS_MAX_FILTER_OPS: '-2' }, []), /VIPS_MAX_FILTER_OPS/);
  });
});

describe('filters pixgate does not implement', () => {
  for (const [filter, reason] of [
    ['redact()', /detector/],
    ['redact_oval(blur)', /detector/],
    ['draw_detections()', /detector/],
    ['red_eye()', /eye detector/],
    ['extract_focal()', /inner thumbor URL/],
    ['frame(frame.png)', /nine-patch/],
    ['distributed_collage(a,b,c)', /collage/],
  ] as const) {
    test(`${filter} is INVALID_PARAMS saying why`, () => {
      assert.throws(
        () => validateFilters(params(`filters:${filter}/a.png`)),
        (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && reason.test(e.publicDetail ?? ''),
      );
    });
  }
  test('lenient mode ignores them, as imagor does', async () => {
    const { decoded: d } = await run('filters:redact():red_eye()/a.png', { lenientFilters: true });
    assert.ok(near(d.pixel(2, 2), RED, 2));
  });
});
