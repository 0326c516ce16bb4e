import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { resolveLimits } from '../../../src/policy/limits.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { buildPlan, completePlan, type Plan, type PlanOptions } from '../../../src/process/plan.js';
import type { SourceInfo, Step } from '../../../src/process/steps.js';

function source(fields: Partial<SourceInfo> = {}): SourceInfo {
  return { format: 'jpeg', width: 1000, height: 500, pages: 1, orientation: 1, hasAlpha: false, animated: false, hasProfile: false, ...fields };
}
const gif = (pages = 4): SourceInfo =>
  source({ format: 'gif', width: 120, height: 80, pages, animated: true, hasAlpha: true, loop: 0, delay: [10, 20, 30, 40, 50, 60].slice(0, pages) });

function plan(path: string, src: SourceInfo = source(), options: Partial<PlanOptions> = {}): Plan {
  return buildPlan(parseImagorPath(`unsafe/${path}`), src, { limits: resolveLimits(), ...options });
}

const RED = { r: 255, g: 0, b: 0, alpha: 1 };
const colour = (c: typeof RED) => ({ kind: 'colour' as const, colour: c });

type Row = readonly [path: string, src: SourceInfo, steps: readonly Step[], size: readonly [number, number]];

function table(rows: readonly Row[]): void {
  for (const [path, src, steps, [w, h]] of rows) {
    test(`${path} on ${src.width}x${src.height} ${src.format}`, () => {
      const p = plan(path, src);
      assert.deepEqual(p.steps, steps);
      assert.deepEqual([p.size?.width, p.size?.height], [w, h]);
    });
  }
}

describe('resize modes as steps', () => {
  const landscape = source();
  const portrait = source({ width: 500, height: 1000 });
  table([
    ['fit-in/100x100/a.jpg', landscape, [{ op: 'resize', width: 100, height: 50 }], [100, 50]],
    ['fit-in/100x0/a.jpg', landscape, [{ op: 'resize', width: 100, height: 50 }], [100, 50]],
    ['fit-in/2000x2000/a.jpg', landscape, [], [1000, 500]],
    ['fit-in/2000x2000/filters:upscale()/a.jpg', landscape, [{ op: 'resize', width: 2000, height: 1000 }], [2000, 1000]],
    ['200x0/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }], [200, 100]],
    ['0x100/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }], [200, 100]],
    ['stretch/100x100/a.jpg', landscape, [{ op: 'resize', width: 100, height: 100 }], [100, 100]],
    ['100x100/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }, { op: 'crop', left: 50, top: 0, width: 100, height: 100 }], [100, 100]],
    ['100x100/left/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }, { op: 'crop', left: 0, top: 0, width: 100, height: 100 }], [100, 100]],
    ['100x100/right/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }, { op: 'crop', left: 100, top: 0, width: 100, height: 100 }], [100, 100]],
    ['100x100/top/a.jpg', portrait, [{ op: 'resize', width: 100, height: 200 }, { op: 'crop', left: 0, top: 0, width: 100, height: 100 }], [100, 100]],
    ['100x100/bottom/a.jpg', portrait, [{ op: 'resize', width: 100, height: 200 }, { op: 'crop', left: 0, top: 100, width: 100, height: 100 }], [100, 100]],
    // A vertical alignment does not move a horizontal crop (imagor's shrink path would pin it to the left).
    ['100x100/top/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }, { op: 'crop', left: 50, top: 0, width: 100, height: 100 }], [100, 100]],
    ['100x100/smart/a.jpg', landscape, [{ op: 'resize', width: 200, height: 100 }, { op: 'smartcrop', width: 100, height: 100 }], [100, 100]],
    ['2000x1000/a.jpg', landscape, [{ op: 'resize', width: 2000, height: 1000 }], [2000, 1000]],
    // no_upscale keeps the scale at 1 and crops what it can.
    ['2000x400/filters:no_upscale()/a.jpg', landscape, [{ op: 'crop', left: 0, top: 50, width: 1000, height: 400 }], [1000, 400]],
    ['-100x-100/a.jpg', landscape, [
      { op: 'resize', width: 200, height: 100 },
      { op: 'crop', left: 50, top: 0, width: 100, height: 100 },
      { op: 'flip', horizontal: true, vertical: true },
    ], [100, 100]],
    ['a.jpg', landscape, [], [1000, 500]],
  ]);
});

describe('manual crop', () => {
  table([
    ['10x20:110x70/a.jpg', source(), [{ op: 'crop', left: 10, top: 20, width: 100, height: 50 }], [100, 50]],
    ['0.1x0.2:0.6x0.7/a.jpg', source(), [{ op: 'crop', left: 100, top: 100, width: 500, height: 250 }], [500, 250]],
    // imagor clamps right/bottom to size - 1: the last column and row are never kept.
    ['0x0:1000x500/a.jpg', source(), [{ op: 'crop', left: 0, top: 0, width: 999, height: 499 }], [999, 499]],
    ['100x100:0x0/a.jpg', source(), [{ op: 'crop', left: 100, top: 100, width: 899, height: 399 }], [899, 399]],
    ['10x20:110x70/50x0/a.jpg', source(), [
      { op: 'crop', left: 10, top: 20, width: 100, height: 50 },
      { op: 'resize', width: 50, height: 25 },
    ], [50, 25]],
    ['600x300:500x400/a.jpg', source(), [], [1000, 500]],
  ]);
});

describe('fit-in variants', () => {
  const portrait = source({ width: 500, height: 1000 });
  table([
    // adaptive-fit-in turns the box when image and box orientations differ.
    ['adaptive-fit-in/200x100/a.jpg', portrait, [{ op: 'resize', width: 100, height: 200 }], [100, 200]],
    ['adaptive-fit-in/100x200/a.jpg', source(), [{ op: 'resize', width: 200, height: 100 }], [200, 100]],
    // full-fit-in meets the smaller side of the box and lets the other overflow.
    ['full-fit-in/100x100/a.jpg', source(), [{ op: 'resize', width: 200, height: 100 }], [200, 100]],
    ['full-fit-in/2000x2000/a.jpg', source(), [{ op: 'resize', width: 4000, height: 2000 }], [4000, 2000]],
  ]);
});

describe('fill and padding', () => {
  const alpha = source({ format: 'png', hasAlpha: true });
  table([
    ['fit-in/100x100/10x20/filters:fill(red)/a.jpg', source(), [
      { op: 'resize', width: 100, height: 50 },
      { op: 'embed', left: 10, top: 45, width: 120, height: 140, background: colour(RED), flatten: true },
    ], [120, 140]],
    ['fit-in/100x100/filters:fill(none)/a.png', alpha, [
      { op: 'resize', width: 100, height: 50 },
      { op: 'embed', left: 0, top: 25, width: 100, height: 100, background: colour({ r: 0, g: 0, b: 0, alpha: 0 }), flatten: false },
    ], [100, 100]],
    ['fit-in/100x100/filters:fill(auto)/a.jpg', source(), [
      { op: 'resize', width: 100, height: 50 },
      { op: 'embed', left: 0, top: 25, width: 100, height: 100, background: { kind: 'average' }, flatten: true },
    ], [100, 100]],
    ['fit-in/100x100/filters:fill(blur)/a.jpg', source(), [
      { op: 'resize', width: 100, height: 50 },
      { op: 'embed', left: 0, top: 25, width: 100, height: 100, background: { kind: 'blur', sigma: 50 }, flatten: false },
    ], [100, 100]],
    // Without a box larger than the image, fill only flattens.
    ['filters:fill(red)/a.png', alpha, [{ op: 'flatten', background: colour(RED) }], [1000, 500]],
    ['filters:fill(red)/a.jpg', source(), [], [1000, 500]],
    // Padding without fill does nothing, as in imagor.
    ['fit-in/100x100/10x10/a.jpg', source(), [{ op: 'resize', width: 100, height: 50 }], [100, 50]],
    ['filters:background_color(red)/a.png', alpha, [{ op: 'flatten', background: colour(RED) }], [1000, 500]],
    ['filters:background_color(red)/a.jpg', source(), [], [1000, 500]],
    ['filters:background_color(auto)/a.png', alpha, [{ op: 'flatten', background: { kind: 'average' } }], [1000, 500]],
  ]);

  test('fill(blur) blurs the backdrop of an animation too (imagor paints it black)', () => {
    const p = plan('fit-in/200x200/filters:fill(blur)/a.gif', gif());
    const embed = p.steps.find((s) => s.op === 'embed');
    assert.equal(embed && embed.op === 'embed' ? embed.background.kind : undefined, 'blur');
  });

  test('fill(blur) paints black with VIPS_DISABLE_BLUR', () => {
    const p = plan('fit-in/100x100/filters:fill(blur)/a.jpg', source(), { disableBlur: true });
    const embed = p.steps.at(-1);
    assert.deepEqual(embed?.op === 'embed' ? embed.background : undefined, colour({ r: 0, g: 0, b: 0, alpha: 1 }));
  });
});

describe('orientation', () => {
  const rotated = source({ orientation: 6 });
  test('EXIF orientation 6 turns a 1000x500 JPEG into a 500x1000 image before planning', () => {
    const p = plan('fit-in/100x100/a.jpg', rotated);
    assert.equal(p.load.autoOrient, true);
    assert.deepEqual(p.steps, [{ op: 'resize', width: 50, height: 100 }]);
  });
  test('orient(90) turns counter-clockwise before resizing, as thumbor and imagor do', () => {
    const p = plan('fit-in/100x100/filters:orient(90)/a.jpg');
    assert.deepEqual(p.steps, [{ op: 'rotate', angle: 270 }, { op: 'resize', width: 50, height: 100 }]);
  });
  test('orient(270) is a clockwise quarter turn', () => {
    assert.deepEqual(plan('filters:orient(270)/a.jpg').steps, [{ op: 'rotate', angle: 90 }]);
  });
});

describe('trim', () => {
  test('is pending until measured on pixels', () => {
    const p = plan('trim:bottom-right:20/100x100/a.jpg');
    assert.equal(p.size, undefined);
    assert.equal(p.pending?.kind, 'trim');
    assert.equal(p.pending?.by, 'bottom-right');
    assert.equal(p.pending?.tolerance, 20);
    assert.equal(p.pending?.after, 0);
  });
  test('tolerance 0 reads as 1 (imagor)', () => {
    assert.equal(plan('trim/a.jpg').pending?.tolerance, 1);
  });
  test('the measured box becomes a crop before the resize', () => {
    const p = completePlan(plan('trim/fit-in/100x100/a.jpg'), { trim: { left: 100, top: 50, width: 400, height: 200 } });
    assert.deepEqual(p.steps, [
      { op: 'crop', left: 100, top: 50, width: 400, height: 200 },
      { op: 'resize', width: 100, height: 50 },
    ]);
    assert.equal(p.pending, undefined);
  });
  test('the trim box is intersected with the URL crop', () => {
    const p = completePlan(plan('trim/10x10:500x400/a.jpg'), { trim: { left: 50, top: 0, width: 600, height: 300 } });
    assert.deepEqual(p.steps, [{ op: 'crop', left: 50, top: 10, width: 450, height: 290 }]);
  });
  test('steps before the measuring point are kept', () => {
    const pending = plan('trim/filters:orient(180)/a.jpg');
    assert.deepEqual(pending.steps, [{ op: 'rotate', angle: 180 }]);
    assert.deepEqual(completePlan(pending, { trim: null }).steps, [{ op: 'rotate', angle: 180 }]);
  });
  test('is skipped on animations (imagor)', () => {
    const p = plan('trim/a.gif', gif());
    assert.equal(p.pending, undefined);
    assert.deepEqual(p.steps, []);
  });
});

describe('frames', () => {
  test('an animated GIF keeps all frames and its delays', () => {
    const p = plan('60x40/a.gif', gif());
    assert.deepEqual(p.load, { page: 0, pages: 4, autoOrient: false });
    assert.equal(p.output.animated, true);
    assert.deepEqual(p.output.delay, [10, 20, 30, 40]);
  });
  test('max_frames(2) loads two frames', () => {
    const p = plan('filters:max_frames(2)/a.gif', gif());
    assert.equal(p.load.pages, 2);
    assert.deepEqual(p.output.delay, [10, 20]);
  });
  test('VIPS_MAX_ANIMATION_FRAMES caps the frames, max_frames cannot raise it', () => {
    const p = plan('filters:max_frames(6)/a.gif', gif(6), { limits: resolveLimits({ maxFrames: 3 }) });
    assert.equal(p.load.pages, 3);
  });
  test('page(2) loads the second frame only', () => {
    const p = plan('filters:page(2)/a.gif', gif());
    assert.deepEqual([p.load.page, p.load.pages, p.output.animated], [1, 1, false]);
  });
  test('page(999) is the last frame', () => {
    assert.equal(plan('filters:page(999)/a.gif', gif()).load.page, 3);
  });
  test('format(jpeg) on an animation decodes the first frame only', () => {
    const p = plan('filters:format(jpeg)/a.gif', gif());
    assert.deepEqual([p.load.pages, p.output.format, p.output.animated], [1, 'jpeg', false]);
  });
  test('format(avif) with fallback_format(webp) keeps the animation as WebP', () => {
    const p = plan('filters:format(avif):fallback_format(webp)/a.gif', gif());
    assert.deepEqual([p.load.pages, p.output.format, p.output.animated], [4, 'webp', true]);
  });
  test('auto-AVIF for a browser that also takes WebP keeps the animation as WebP', () => {
    const p = plan('a.gif', gif(), { autoAvif: true, autoWebp: true, accept: 'image/avif,image/webp,*/*' });
    assert.deepEqual([p.output.format, p.output.animated, p.vary], ['webp', true, true]);
  });
  test('smart crops animations in the centre', () => {
    const p = plan('60x80/smart/a.gif', gif());
    assert.deepEqual(p.steps, [{ op: 'crop', left: 30, top: 0, width: 60, height: 80 }]);
  });
  test('the frames together count against the resolution limit', () => {
    assert.throws(() => plan('a.gif', gif(4), { limits: resolveLimits({ maxResolution: 120 * 80 * 3 }) }), tooBig);
    assert.doesNotThrow(() => plan('filters:max_frames(3)/a.gif', gif(4), { limits: resolveLimits({ maxResolution: 120 * 80 * 3 }) }));
  });
});

const tooBig = (e: unknown): boolean => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS';
const invalid = (e: unknown): boolean => isPixgateError(e) && e.code === 'INVALID_PARAMS';

describe('limits', () => {
  test('an upscale beyond VIPS_MAX_WIDTH is refused before any decode', () => {
    assert.throws(() => plan('fit-in/20000x20000/filters:upscale()/a.jpg'), tooBig);
  });
  test('full-fit-in that overflows the limits is refused', () => {
    assert.throws(() => plan('full-fit-in/9999x9999/a.jpg'), tooBig);
  });
  test('the source is checked as oriented', () => {
    const limits = resolveLimits({ maxWidth: 800, maxHeight: 2000 });
    assert.doesNotThrow(() => plan('a.jpg', source({ orientation: 6 }), { limits }));
    assert.throws(() => plan('a.jpg', source(), { limits }), tooBig);
  });
  test('a fill canvas beyond the limits is refused', () => {
    assert.throws(() => plan('fit-in/9999x9999/100x100/filters:fill(red)/a.jpg'), tooBig);
  });
});

describe('filters', () => {
  test('an unknown filter is INVALID_PARAMS naming it', () => {
    assert.throws(
      () => plan('filters:sepiaa()/a.jpg'),
      (e: unknown) => invalid(e) && isPixgateError(e) && e.publicDetail === 'unknown filter: sepiaa',
    );
  });
  test('lenient mode ignores unknown filters and bad arguments, as imagor', () => {
    const p = plan('filters:sepiaa():quality(abc):format(nope)/a.jpg', source(), { lenientFilters: true });
    assert.deepEqual([p.output.format, p.output.quality], ['jpeg', 75]);
  });
  test('VIPS_DISABLE_FILTERS skips a filter entirely', () => {
    const p = plan('fit-in/100x100/filters:fill(red):format(png)/a.jpg', source(), { disabledFilters: ['fill', 'format'] });
    assert.deepEqual(p.steps, [{ op: 'resize', width: 100, height: 50 }]);
    assert.equal(p.output.format, 'jpeg');
  });
  test('VIPS_MAX_FILTER_OPS in lenient mode stops pixel filters at their index in the URL (imagor)', () => {
    const p = plan('fit-in/100x100/filters:format(png):fill(red)/a.jpg', source(), { maxFilterOps: 1, lenientFilters: true });
    assert.deepEqual(p.steps, [{ op: 'resize', width: 100, height: 50 }]);
    assert.equal(p.output.format, 'png');
  });
  test('stretch() acts like stretch/', () => {
    assert.deepEqual(plan('100x100/filters:stretch()/a.jpg').steps, [{ op: 'resize', width: 100, height: 100 }]);
  });
  test('the last of upscale()/no_upscale() wins', () => {
    assert.deepEqual(plan('fit-in/2000x2000/filters:upscale():no_upscale()/a.jpg').steps, []);
  });
});

describe('output', () => {
  test('keeps the source format with libvips default quality', () => {
    const p = plan('a.jpg');
    assert.deepEqual([p.output.format, p.output.contentType, p.output.quality, p.output.mozjpeg], ['jpeg', 'image/jpeg', 75, false]);
    assert.deepEqual(p.output.keep, { exif: true, icc: true, xmp: true });
    assert.equal(p.vary, false);
  });
  test('quality() is honoured and turns chroma subsampling off from 90', () => {
    assert.deepEqual([plan('filters:quality(60)/a.jpg').output.quality, plan('filters:quality(60)/a.jpg').output.chromaSubsampling], [60, '4:2:0']);
    assert.equal(plan('filters:quality(95)/a.jpg').output.chromaSubsampling, '4:4:4');
  });
  test('AVIF gets quality 50 and effort 9 - VIPS_AVIF_SPEED', () => {
    const p = plan('filters:format(avif)/a.jpg');
    assert.deepEqual([p.output.quality, p.output.effort], [50, 1]);
    assert.equal(plan('filters:format(avif)/a.jpg', source(), { avifSpeed: 5 }).output.effort, 4);
  });
  test('WebP effort is 4 as in imagor', () => assert.equal(plan('filters:format(webp)/a.jpg').output.effort, 4));
  test('an SVG source is written as JPEG', () => assert.equal(plan('a.svg', source({ format: 'svg' })).output.format, 'jpeg'));
  test('a BMP source is written as JPEG, as imagor (no BMP encoder)', () => {
    const p = plan('fit-in/100x100/a.bmp', source({ format: 'bmp' }));
    assert.deepEqual([p.output.format, p.output.contentType], ['jpeg', 'image/jpeg']);
    assert.equal(plan('filters:format(png)/a.bmp', source({ format: 'bmp' })).output.format, 'png');
  });
  test('strip_exif drops EXIF only', () => assert.deepEqual(plan('filters:strip_exif()/a.jpg').output.keep, { exif: false, icc: true, xmp: true }));
  test('strip_icc drops the profile only', () => assert.deepEqual(plan('filters:strip_icc()/a.jpg').output.keep, { exif: true, icc: false, xmp: true }));
  test('strip_metadata and VIPS_STRIP_METADATA drop everything', () => {
    assert.deepEqual(plan('filters:strip_metadata()/a.jpg').output.keep, { exif: false, icc: false, xmp: false });
    assert.deepEqual(plan('a.jpg', source(), { stripMetadata: true }).output.keep, { exif: false, icc: false, xmp: false });
  });
  test('a CMYK profile is never carried over to sRGB output', () => {
    assert.equal(plan('a.jpg', source({ space: 'cmyk', hasProfile: true })).output.keep.icc, false);
  });
  test('VIPS_MOZJPEG: progressive mozjpeg, metadata stripped', () => {
    const p = plan('a.jpg', source(), { mozjpeg: true });
    assert.deepEqual([p.output.mozjpeg, p.output.keep.exif], [true, false]);
  });
  test('Vary is needed whenever an auto format is on without format()', () => {
    assert.equal(plan('a.jpg', source(), { autoWebp: true, accept: '*/*' }).vary, true);
    assert.equal(plan('filters:format(png)/a.jpg', source(), { autoWebp: true, accept: 'image/webp' }).vary, false);
  });
});

describe('color: images', () => {
  const colourSrc = (w: number, h: number): SourceInfo =>
    source({ format: 'color', width: w, height: h, colour: { r: 0, g: 0, b: 255, alpha: 1 } });
  test('are never resized, only flipped and cropped (imagor)', () => {
    const p = plan('-100x-50/color:blue', colourSrc(100, 50));
    assert.deepEqual(p.steps, [{ op: 'flip', horizontal: true, vertical: true }]);
    assert.deepEqual([p.output.format, p.size?.width, p.size?.height], ['jpeg', 100, 50]);
  });
});
