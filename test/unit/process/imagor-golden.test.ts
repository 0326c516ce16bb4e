/**
 * Output sizes and frame counts of imagor's own golden images (cshum/imagor e7cd514f,
 * processor/vipsprocessor/processor_test.go and testdata/golden/<path>: sizes read from those files), planned
 * here for sources of the same size, alpha, frame count and orientation. Filters we do not implement yet and that
 * do not change the size run in lenient mode.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { resolveLimits, type LimitSettings } from '../../../src/policy/limits.js';
import { buildPlan, completePlan, type PlanOptions } from '../../../src/process/plan.js';
import { colourSource } from '../../../src/process/probe.js';
import type { SourceInfo } from '../../../src/process/steps.js';

const src = (format: SourceInfo['format'], width: number, height: number, extra: Partial<SourceInfo> = {}): SourceInfo => ({
  format,
  width,
  height,
  pages: 1,
  orientation: 1,
  hasAlpha: false,
  animated: false,
  hasProfile: false,
  ...extra,
});

// imagor's testdata, as sharp's metadata() reads it.
const SOURCES: Record<string, SourceInfo> = {
  'gopher.png': src('png', 1634, 2224, { hasAlpha: true }),
  'gopher-front.png': src('png', 202, 259, { hasAlpha: true }),
  'gopher-front.avif': src('avif', 202, 259, { hasAlpha: true }),
  'gopher.tiff': src('tiff', 200, 100, { hasAlpha: true }),
  'gopher-landscape-exif-cw90.png': src('png', 2224, 1634, { hasAlpha: true, orientation: 6 }),
  'gopher-exif-orientation-cw90.png': src('png', 1634, 2224, { hasAlpha: true, orientation: 6 }),
  'dancing-banana.gif': src('gif', 121, 128, { hasAlpha: true, pages: 8, animated: true }),
  'demo3.webp': src('webp', 70, 87, { hasAlpha: true, pages: 8, animated: true }),
  'Canon_40D.jpg': src('jpeg', 100, 68),
  'jpg-24bit-icc-adobe-rgb.jpg': src('jpeg', 1900, 1263, { hasProfile: true }),
  'demo1.jpg': src('jpeg', 200, 200),
  'find_trim.png': src('png', 512, 320),
  '2bands.png': src('png', 293, 115, { hasAlpha: true }),
  'test.svg': src('svg', 620, 472, { hasAlpha: true }),
};

type Golden = readonly [path: string, width: number, height: number, frames?: number, format?: string];

function run(cases: readonly Golden[], settings: LimitSettings = {}, extra: Partial<PlanOptions> = {}): void {
  const limits = resolveLimits(settings);
  for (const [path, width, height, frames = 1, format] of cases) {
    test(path, () => {
      const params = parseImagorPath(`unsafe/${path}`);
      const source = params.image.startsWith('color:')
        ? colourSource(params.image, params.width, params.height, limits)
        : SOURCES[params.image];
      assert.ok(source, `no source for ${params.image}`);
      const plan = buildPlan(params, source, { limits, lenientFilters: true, ...extra });
      assert.deepEqual([plan.size?.width, plan.size?.height, plan.size?.pages], [width, height, frames]);
      if (format !== undefined) assert.equal(plan.output.format, format);
    });
  }
}

describe('imagor golden sizes: resize and crop', () => {
  run([
    ['0x50/filters:fill(white):format(jpg)/Canon_40D.jpg', 74, 50, 1, 'jpeg'],
    ['50x0/filters:fill(white):format(jpg)/Canon_40D.jpg', 50, 34],
    ['100x100/dancing-banana.gif', 100, 100, 8, 'gif'],
    ['100x100/filters:quality(70):format(jpeg)/gopher.png', 100, 100, 1, 'jpeg'],
    ['100x100/smart/filters:autojpg()/gopher.png', 100, 100],
    ['100x200/left/bottom/dancing-banana.gif', 100, 200, 8],
    ['100x200/left/bottom/gopher.png', 100, 200],
    ['100x200/left/dancing-banana.gif', 100, 200, 8],
    ['100x200/left/gopher.png', 100, 200],
    ['100x200/left/filters:orient(90)/gopher.png', 100, 200],
    ['100x200/right/dancing-banana.gif', 100, 200, 8],
    ['100x200/right/top/gopher.png', 100, 200],
    ['100x30/filters:focal(0.89x0.72)/dancing-banana.gif', 100, 30, 8],
    ['100x300/filters:fill(white):format(jpeg):focal(589x401:1000x814)/gopher.png', 100, 300],
    ['200x-210/top/filters:blur(5):sharpen(5):background_color(ffff00):format(jpeg):quality(70)/gopher.png', 200, 210, 1, 'jpeg'],
    ['200x100/bottom/dancing-banana.gif', 200, 100, 8],
    ['200x100/left/bottom/gopher.png', 200, 100],
    ['200x100/right/top/dancing-banana.gif', 200, 100, 8],
    ['200x100/top/filters:quality(70):format(tiff)/gopher.png', 200, 100, 1, 'tiff'],
    ['300x100/filters:fill(white):format(jpeg):focal(0.35x0.25:0.6x0.3)/gopher.png', 300, 100],
    ['300x300/filters:format(jpeg):focal(150:150)/gopher-exif-orientation-cw90.png', 300, 300],
    ['0x100:9999x9999/300x100/filters:fill(white):format(jpeg):focal(589x401:1000x814)/gopher.png', 300, 100],
    ['10x20:3000x5000/stretch/100x200/filters:brightness(-20):contrast(50):rgb(10,-50,30):fill(black)/gopher.png', 100, 200],
    ['0.006120x0.008993:1.0x1.0/stretch/100x200/filters:brightness(-20):contrast(50):rgb(10,-50,30):fill(black)/gopher.png', 100, 200],
    ['30x20:100x150/dancing-banana.gif', 70, 107, 8],
    ['0.1x0.2:0.89x0.72/dancing-banana.gif', 96, 66, 8],
    ['500x0/filters:no_upscale()/gopher-front.png', 202, 259],
    ['500x200/filters:no_upscale()/gopher-front.png', 202, 200],
    ['500x400/filters:no_upscale()/gopher-front.png', 202, 259],
    ['stretch/100x200/dancing-banana.gif', 100, 200, 8],
    ['stretch/100x100/filters:modulate(-10,30,20)/gopher.png', 100, 100],
    ['200x200/filters:strip_icc():to_colorspace()/jpg-24bit-icc-adobe-rgb.jpg', 200, 200],
  ]);
});

describe('imagor golden sizes: fit-in', () => {
  run([
    ['fit-in/100x100/demo1.jpg', 100, 100],
    ['fit-in/100x100/demo3.webp', 70, 87, 8, 'webp'],
    ['fit-in/100x100/gopher-front.avif', 78, 100, 1, 'avif'],
    ['fit-in/100x100/gopher.tiff', 100, 50, 1, 'tiff'],
    ['fit-in/67x67/dancing-banana.gif', 63, 67, 8],
    ['fit-in/67x67/demo1.jpg', 67, 67],
    ['fit-in/67x67/demo3.webp', 54, 67, 8],
    ['fit-in/67x67/gopher-front.avif', 52, 67],
    ['fit-in/67x67/gopher-front.png', 52, 67],
    ['fit-in/67x67/gopher.tiff', 67, 34],
    ['fit-in/67x67/filters:strip_metadata()/dancing-banana.gif', 63, 67, 8],
    ['fit-in/0x50/filters:fill(white):format(jpg)/Canon_40D.jpg', 74, 50],
    ['fit-in/50x0/filters:fill(white):format(jpg)/Canon_40D.jpg', 50, 34],
    ['fit-in/-200x0/filters:hue(290):saturation(100):fill(FFO):upscale()/gopher.png', 200, 272],
    ['fit-in/0x210/filters:fill(yellow):round_corner(40,60,green)/gopher.png', 154, 210],
    ['fit-in/300x0/filters:max_bytes(999999):format(jpeg)/gopher-landscape-exif-cw90.png', 300, 408],
    ['fit-in/400x400/filters:fill(auto)/find_trim.png', 400, 400],
    ['adaptive-fit-in/100x200/gopher.png', 100, 136],
    ['adaptive-fit-in/200x100/gopher.png', 100, 136],
    ['adaptive-fit-in/200x100/gopher-front.png', 100, 128],
    ['adaptive-fit-in/200x100/filters:fill(white):format(jpeg)/gopher-front.png', 100, 200],
    ['adaptive-fit-in/200x300/filters:format(png)/gopher-landscape-exif-cw90.png', 200, 272],
    ['adaptive-full-fit-in/100x200/gopher.png', 147, 200],
    ['adaptive-full-fit-in/200x100/filters:fill(yellow):format(jpeg)/gopher-front.png', 156, 200],
    ['adaptive-full-fit-in/200x300/filters:format(png)/gopher-landscape-exif-cw90.png', 220, 300],
    ['adaptive-full-fit-in/500x400/gopher-front.png', 400, 513],
    ['full-fit-in/100x65/jpg-24bit-icc-adobe-rgb.jpg', 100, 66],
    ['full-fit-in/102x30/Canon_40D.jpg', 102, 69],
    ['full-fit-in/200x300/gopher-front.png', 234, 300],
    ['full-fit-in/300x200/filters:format(png)/gopher-landscape-exif-cw90.png', 300, 408],
    ['full-fit-in/300x200/gopher.png', 300, 408],
    ['full-fit-in/300x200/smart/gopher.png', 300, 408],
    ['full-fit-in/30x39/gopher-front.png', 30, 39],
    ['full-fit-in/500x400/gopher-front.png', 500, 641],
    ['full-fit-in/74x11/gopher-front.png', 74, 95],
  ]);
});

describe('imagor golden sizes: fill and padding', () => {
  run([
    ['0x0/40x50/filters:fill(white)/gopher-front.png', 282, 359],
    ['100x100/10x5/top/filters:fill(white)/gopher.png', 120, 110],
    ['100x100/10x5/top/filters:fill(yellow)/dancing-banana.gif', 120, 110, 8],
    ['fit-in/100x100/10x5/filters:fill(none)/gopher.png', 120, 110],
    ['fit-in/100x100/10x5/filters:fill(white)/gopher.png', 120, 110],
    ['fit-in/100x100/filters:fill(none)/2bands.png', 100, 100],
    ['fit-in/100x120/10x5/filters:fill(none):format(png)/demo1.jpg', 120, 130, 1, 'png'],
    ['fit-in/stretch/100x100/10x10/filters:fill(transparent)/gopher.png', 120, 120],
    ['stretch/100x100/10x5/filters:fill(white)/gopher.png', 120, 110],
    ['filters:background_color(yellow)/demo1.jpg', 200, 200],
    ['filters:fill(cyan):round_corner(60)/dancing-banana.gif', 121, 128, 8],
  ]);
});

describe('imagor golden sizes: formats, frames, colour images', () => {
  run([
    ['gopher-front.png', 202, 259, 1, 'png'],
    ['dancing-banana.gif', 121, 128, 8, 'gif'],
    ['test.svg', 620, 472, 1, 'jpeg'],
    ['filters:fill(white):format(jpeg)/dancing-banana.gif', 121, 128, 1, 'jpeg'],
    ['filters:format(avif):quality(70)/gopher-front.png', 202, 259, 1, 'avif'],
    ['filters:format(gif):quality(70)/gopher-front.png', 202, 259, 1, 'gif'],
    ['filters:format(webp):lossless():max_bytes(100)/gopher-front.png', 202, 259, 1, 'webp'],
    ['filters:max_bytes(6000):format(jpg):fill(white)/gopher.png', 1634, 2224, 1, 'jpeg'],
    ['filters:max_frames(3)/dancing-banana.gif', 121, 128, 3],
    ['filters:page(5)/dancing-banana.gif', 121, 128, 1, 'gif'],
    ['filters:page(999)/dancing-banana.gif', 121, 128, 1],
    ['filters:quality(60)/dancing-banana.gif', 121, 128, 8],
    ['filters:strip_exif()/Canon_40D.jpg', 100, 68],
    ['filters:background_color():round_corner():padding():rotate():proportion():proportion(9999)/gopher-front.png', 202, 259],
    ['-100x-50/color:blue', 100, 50, 1, 'jpeg'],
    ['100x50/color:0000ff', 100, 50],
    ['10x10/color:fff', 10, 10],
    ['color:green', 1, 1],
    ['200x200/color:red', 200, 200],
    ['300x200/filters:format(png)/color:transparent', 300, 200, 1, 'png'],
    ['50x50/filters:format(png)/color:ff000080', 50, 50, 1, 'png'],
    ['100x100/filters:format(png)/color:red', 100, 100, 1, 'png'],
  ]);
});

describe('imagor golden sizes with VIPS_MAX_ANIMATION_FRAMES', () => {
  describe('3 frames', () => {
    run(
      [
        ['200x100/top/dancing-banana.gif', 200, 100, 3],
        ['30x20:100x150/dancing-banana.gif', 70, 107, 3],
        ['dancing-banana.gif', 121, 128, 3],
        ['filters:fill(white):format(jpeg)/dancing-banana.gif', 121, 128, 1, 'jpeg'],
        ['filters:max_frames(6)/dancing-banana.gif', 121, 128, 3],
        ['gopher-front.png', 202, 259, 1],
        ['trim/dancing-banana.gif', 121, 128, 3],
      ],
      { maxFrames: 3 },
    );
  });
  describe('100 frames', () => {
    run([['trim/dancing-banana.gif', 121, 128, 8], ['200x100/top/dancing-banana.gif', 200, 100, 8]], { maxFrames: 100 });
  });
  describe('1 frame', () => {
    run([['dancing-banana.gif', 121, 128, 1, 'gif'], ['gopher-front.png', 202, 259, 1]], { maxFrames: 1 });
  });
});

describe('imagor golden sizes with VIPS_DISABLE_FILTERS=fill,watermark,format', () => {
  run([['filters:fill(white):format(jpeg)/dancing-banana.gif', 121, 128, 8, 'gif']], {}, { disabledFilters: ['fill', 'watermark', 'format'] });
});

describe('imagor golden sizes with VIPS_MAX_FILTER_OPS=1', () => {
  run([['fit-in/200x150/filters:fill(yellow)/dancing-banana.gif', 200, 150, 8]], {}, { maxFilterOps: 1 });
});

describe('imagor golden sizes after trim', () => {
  test('trim:50/500x500/filters:stretch()/find_trim.png is 500x500 whatever the trim box', () => {
    const limits = resolveLimits();
    const pending = buildPlan(parseImagorPath('unsafe/trim:50/500x500/filters:stretch()/find_trim.png'), SOURCES['find_trim.png']!, { limits });
    const plan = completePlan(pending, { trim: { left: 40, top: 30, width: 432, height: 288 } });
    assert.deepEqual([plan.size?.width, plan.size?.height], [500, 500]);
  });
});
