// Empty and degenerate geometry: which crops imagor skips (process.go applyTransformations extracts only when
// right > left and bottom > top after clamping to size - 1), which it hands to libvips extract_area with a
// truncated width or height of 0 and fails on (INVALID_PARAMS here), and that no step with a size below one
// pixel, a fraction or NaN ever leaves the planner. Expected rectangles are worked out by hand from that code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { resolveLimits } from '../../../src/policy/limits.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import {
  checkStep,
  cropEdges,
  edgesToRect,
  intersectTrim,
  planGeometry,
  type CropParams,
  type GeometryInput,
  type Rect,
} from '../../../src/process/geometry.js';
import { buildPlan, type Measured } from '../../../src/process/plan.js';
import type { Size, SourceInfo, Step } from '../../../src/process/steps.js';

const BOUNDS = { maxWidth: 9999, maxHeight: 9999 };

function input(fields: Partial<GeometryInput> = {}): GeometryInput {
  return {
    crop: { left: 0, top: 0, right: 0, bottom: 0 },
    fitIn: false,
    fullFitIn: false,
    adaptiveFitIn: false,
    stretch: false,
    width: 0,
    height: 0,
    upscale: true,
    hFlip: false,
    vFlip: false,
    hAlign: 'center',
    vAlign: 'middle',
    smart: false,
    path: 'full',
    animated: false,
    ...fields,
  };
}

const crop = (left: number, top: number, right: number, bottom: number): CropParams => ({ left, top, right, bottom });

function isInvalidParams(err: unknown): boolean {
  return isPixgateError(err) && err.code === 'INVALID_PARAMS';
}

/** Every geometry step has whole, positive sizes; crops stay inside the image they run on. */
function assertSane(steps: readonly Step[], start: Size): void {
  let size = start;
  for (const step of steps) {
    if (step.op === 'crop' || step.op === 'resize' || step.op === 'smartcrop' || step.op === 'embed') {
      assert.ok(Number.isInteger(step.width) && step.width >= 1, `${step.op} width ${step.width}`);
      assert.ok(Number.isInteger(step.height) && step.height >= 1, `${step.op} height ${step.height}`);
    }
    if (step.op === 'crop') {
      assert.ok(step.left >= 0 && step.top >= 0 && step.left + step.width <= size.width && step.top + step.height <= size.height);
    }
    if (step.op === 'crop' || step.op === 'resize' || step.op === 'smartcrop' || step.op === 'embed') size = step;
  }
}

describe('URL crop on a 100x80 image', () => {
  const size = { width: 100, height: 80 };
  // [what, crop, the rectangle imagor extracts, or 'skip' when it extracts nothing, or 'error' when libvips fails]
  const rows: readonly (readonly [string, CropParams, Rect | 'skip' | 'error'])[] = [
    ['pixels', crop(10, 20, 60, 50), { left: 10, top: 20, width: 50, height: 30 }],
    ['a pixel width of 0.9 truncates to 0', crop(0, 0, 0.9, 20), 'error'],
    ['a pixel height of 0.9 truncates to 0', crop(0, 0, 20, 0.9), 'error'],
    ['right 1.5 and bottom 0.5: one column, zero rows', crop(0, 0, 1.5, 0.5), 'error'],
    ['left 0.5 to right 1.2 is 0.7 wide', crop(0.5, 0, 1.2, 10), 'error'],
    ['left 0.5 to right 1.6 is one pixel from column 0', crop(0.5, 0, 1.6, 10), { left: 0, top: 0, width: 1, height: 10 }],
    ['right left of left', crop(50, 10, 20, 40), 'skip'],
    ['bottom above top', crop(10, 50, 40, 20), 'skip'],
    ['left beyond the image (right clamps to 99)', crop(150, 10, 300, 40), 'skip'],
    ['top beyond the image (bottom clamps to 79)', crop(10, 90, 50, 200), 'skip'],
    ['left on the last column, right 0 = the far edge', crop(99, 0, 0, 0), 'skip'],
    ['right equal to left', crop(30, 10, 30, 40), 'skip'],
    ['fractions that meet', crop(0.5, 0.5, 0.5, 0.9), 'skip'],
    ['fractions', crop(0.1, 0.25, 0.6, 0.75), { left: 10, top: 20, width: 50, height: 40 }],
    ['fractions to 1 lose the last row and column', crop(0.9, 0, 1, 1), { left: 90, top: 0, width: 9, height: 79 }],
    ['a fraction rounding to 0 on the far edge means the far edge', crop(0, 0, 0.004, 0.5), { left: 0, top: 0, width: 99, height: 40 }],
    ['all zero is no crop', crop(0, 0, 0, 0), 'skip'],
  ];
  for (const [what, c, expected] of rows) {
    test(`${what}: ${c.left}x${c.top}:${c.right}x${c.bottom} ${expected === 'error' ? 'is INVALID_PARAMS' : expected === 'skip' ? 'is skipped' : 'is extracted'}`, () => {
      const run = () => {
        const edges = cropEdges(c, size);
        return edges === undefined ? undefined : edgesToRect(edges);
      };
      if (expected === 'error') {
        assert.throws(run, isInvalidParams);
        assert.throws(() => planGeometry(input({ crop: c, width: 50, height: 50 }), size, BOUNDS), isInvalidParams);
        return;
      }
      assert.deepEqual(run(), expected === 'skip' ? undefined : expected);
      const { steps, size: out } = planGeometry(input({ crop: c }), size, BOUNDS);
      assert.deepEqual(steps, expected === 'skip' ? [] : [{ op: 'crop', ...expected }]);
      assert.deepEqual(out, expected === 'skip' ? size : { width: expected.width, height: expected.height });
    });
  }

  test('a skipped crop still resizes the whole image, with finite sizes', () => {
    const { steps, size: out } = planGeometry(input({ crop: crop(50, 10, 20, 40), width: 50, height: 0 }), size, BOUNDS);
    assert.deepEqual(steps, [{ op: 'resize', width: 50, height: 40 }]);
    assert.deepEqual(out, { width: 50, height: 40 });
  });

  test('a 1x1 image with a crop to its far edges keeps the pixel (imagor skips the empty crop)', () => {
    const one = { width: 1, height: 1 };
    const { steps, size: out } = planGeometry(input({ crop: crop(0, 0, 1, 1) }), one, BOUNDS);
    assert.deepEqual([steps, out], [[], one]);
  });
});

describe('URL trim intersected with the crop on a 100x80 image', () => {
  const size = { width: 100, height: 80 };
  // [what, crop, measured trim box, result]
  const rows: readonly (readonly [string, CropParams, Rect, Rect | 'skip' | 'error'])[] = [
    ['trim alone', crop(0, 0, 0, 0), { left: 10, top: 20, width: 30, height: 40 }, { left: 10, top: 20, width: 30, height: 40 }],
    ['a sub-pixel crop inside a trim box from column 0', crop(0, 0, 0.9, 20), { left: 0, top: 0, width: 60, height: 80 }, 'error'],
    ['a sub-pixel crop left of the trim box', crop(0, 0, 0.9, 20), { left: 10, top: 0, width: 60, height: 80 }, 'skip'],
    ['a crop outside the trim box', crop(70, 0, 90, 20), { left: 0, top: 0, width: 60, height: 80 }, 'skip'],
    ['a zero-width trim box', crop(0, 0, 0, 0), { left: 5, top: 5, width: 0, height: 10 }, 'skip'],
    ['a zero-height trim box', crop(0, 0, 0, 0), { left: 5, top: 5, width: 10, height: 0 }, 'skip'],
  ];
  for (const [what, c, trim, expected] of rows) {
    test(`${what} ${expected === 'error' ? 'is INVALID_PARAMS' : expected === 'skip' ? 'is skipped' : 'is extracted'}`, () => {
      const run = () => edgesToRect(intersectTrim(cropEdges(c, size), trim));
      if (expected === 'error') {
        assert.throws(run, isInvalidParams);
        assert.throws(() => planGeometry(input({ crop: c, trim }), size, BOUNDS), isInvalidParams);
        return;
      }
      assert.deepEqual(run(), expected === 'skip' ? undefined : expected);
      const { steps } = planGeometry(input({ crop: c, trim }), size, BOUNDS);
      assert.deepEqual(steps, expected === 'skip' ? [] : [{ op: 'crop', ...expected }]);
    });
  }
});

describe('sizes never drop below one pixel', () => {
  // [what, input fields, source size, expected final size]
  const rows: readonly (readonly [string, Partial<GeometryInput>, Size, Size])[] = [
    ['fit-in 0x0 leaves the image alone', { fitIn: true, upscale: false }, { width: 100, height: 80 }, { width: 100, height: 80 }],
    ['fit-in 0x0 on the shrink path too', { fitIn: true, upscale: false, path: 'shrink' }, { width: 100, height: 80 }, { width: 100, height: 80 }],
    ['fit-in 1x1 on a 1000x10 strip keeps a row', { fitIn: true, upscale: false, width: 1, height: 1 }, { width: 1000, height: 10 }, { width: 1, height: 1 }],
    ['fit-in 10x10 on a 1000x1 strip keeps a row', { fitIn: true, upscale: false, width: 10, height: 10 }, { width: 1000, height: 1 }, { width: 10, height: 1 }],
    ['a width alone on a 1x1000 strip keeps a column', { width: 0, height: 10 }, { width: 1, height: 1000 }, { width: 1, height: 10 }],
    ['a height alone on a 1000x1 strip keeps a row', { width: 10, height: 0 }, { width: 1000, height: 1 }, { width: 10, height: 1 }],
    ['a cover crop 1x1', { width: 1, height: 1 }, { width: 100, height: 80 }, { width: 1, height: 1 }],
    ['full fit-in 1x1 on a strip', { fitIn: true, fullFitIn: true, width: 1, height: 1 }, { width: 1000, height: 1 }, { width: 1000, height: 1 }],
    ['adaptive fit-in 1x2 on a landscape', { fitIn: true, adaptiveFitIn: true, width: 1, height: 2, upscale: false }, { width: 100, height: 80 }, { width: 1, height: 1 }],
    ['stretch 1x1', { stretch: true, width: 1, height: 1 }, { width: 100, height: 80 }, { width: 1, height: 1 }],
    ['a cover crop after a one-pixel crop', { crop: crop(0.5, 0, 1.6, 10), width: 5, height: 5 }, { width: 100, height: 80 }, { width: 5, height: 5 }],
  ];
  for (const [what, fields, size, expected] of rows) {
    test(`${what}: ${expected.width}x${expected.height}`, () => {
      const result = planGeometry(input(fields), size, BOUNDS);
      assert.deepEqual(result.size, expected);
      assertSane(result.steps, size);
      assert.ok(result.box.width >= 1 && result.box.height >= 1, `box ${result.box.width}x${result.box.height}`);
    });
  }
});

describe('focal point of a cover crop', () => {
  const size = { width: 200, height: 100 };
  test('a point at infinity clamps to the far edge (imagor: min(+Inf, width - w))', () => {
    const { steps } = planGeometry(input({ width: 100, height: 100, focal: { x: Number.POSITIVE_INFINITY, y: 50 } }), size, BOUNDS);
    assert.deepEqual(steps, [{ op: 'crop', left: 100, top: 0, width: 100, height: 100 }]);
  });
  test('a NaN point (regions whose areas overflow) is INVALID_PARAMS, not a NaN crop', () => {
    assert.throws(() => planGeometry(input({ width: 100, height: 100, focal: { x: Number.NaN, y: 50 } }), size, BOUNDS), isInvalidParams);
  });
  test('a NaN point is harmless when nothing is cropped', () => {
    const { steps } = planGeometry(input({ width: 100, height: 50, focal: { x: Number.NaN, y: Number.NaN } }), size, BOUNDS);
    assert.deepEqual(steps, [{ op: 'resize', width: 100, height: 50 }]);
  });
});

describe('checkStep', () => {
  const size = { width: 100, height: 80 };
  const cropStep = (left: number, top: number, width: number, height: number): Step => ({ op: 'crop', left, top, width, height });
  const embed = (left: number, top: number, width: number, height: number): Step => ({
    op: 'embed',
    left,
    top,
    width,
    height,
    background: { kind: 'colour', colour: { r: 0, g: 0, b: 0, alpha: 1 } },
    flatten: false,
  });
  const rows: readonly (readonly [string, Step, boolean])[] = [
    ['the whole image', cropStep(0, 0, 100, 80), true],
    ['the last pixel', cropStep(99, 79, 1, 1), true],
    ['a zero-width crop', cropStep(0, 0, 0, 20), false],
    ['a zero-height crop', cropStep(0, 0, 20, 0), false],
    ['a negative left', cropStep(-1, 0, 20, 20), false],
    ['a fractional width', cropStep(0, 0, 0.9, 20), false],
    ['a NaN left', cropStep(Number.NaN, 0, 20, 20), false],
    ['a crop one column too wide', cropStep(1, 0, 100, 80), false],
    ['a crop one row too high', cropStep(0, 1, 100, 80), false],
    ['a resize to 1x1', { op: 'resize', width: 1, height: 1 }, true],
    ['a resize larger than the image', { op: 'resize', width: 5000, height: 4000 }, true],
    ['a resize to 0 wide', { op: 'resize', width: 0, height: 10 }, false],
    ['a resize to NaN x Infinity', { op: 'resize', width: Number.NaN, height: Number.POSITIVE_INFINITY }, false],
    ['a resize to a fraction', { op: 'resize', width: 10.5, height: 10 }, false],
    ['a smart crop 0 high', { op: 'smartcrop', width: 10, height: 0 }, false],
    ['an embed with a negative offset', embed(-10, -5, 50, 50), true],
    ['an embed 0 wide', embed(0, 0, 0, 50), false],
    ['an embed at a fractional offset', embed(0.5, 0, 150, 100), false],
    ['a flip', { op: 'flip', horizontal: true, vertical: false }, true],
    ['a rotation', { op: 'rotate', angle: 90 }, true],
  ];
  for (const [what, step, ok] of rows) {
    test(`${ok ? 'passes' : 'refuses'} ${what}`, () => {
      if (ok) assert.doesNotThrow(() => checkStep(step, size));
      else assert.throws(() => checkStep(step, size), isInvalidParams);
    });
  }
});

describe('buildPlan hands sharp no empty geometry', () => {
  const png = (width: number, height: number): SourceInfo => ({
    format: 'png',
    width,
    height,
    pages: 1,
    orientation: 1,
    hasAlpha: false,
    animated: false,
    hasProfile: false,
  });
  const plan = (path: string, src: SourceInfo, measured?: Measured) =>
    buildPlan(parseImagorPath(`unsafe/${path}`), src, { limits: resolveLimits() }, measured);

  // [path, source, measured, steps or 'error']
  const rows: readonly (readonly [string, SourceInfo, Measured | undefined, readonly Step[] | 'error'])[] = [
    ['0x0:0.9x20/a.png', png(100, 100), undefined, 'error'],
    ['0x0:0.9x20/50x50/a.png', png(100, 100), undefined, 'error'],
    ['trim/0x0:0.9x20/a.png', png(100, 100), { trim: { left: 0, top: 0, width: 60, height: 100 } }, 'error'],
    ['trim/0x0:0.9x20/a.png', png(100, 100), { trim: null }, 'error'],
    ['trim/0x0:0.9x20/a.png', png(100, 100), { trim: { left: 40, top: 0, width: 60, height: 100 } }, []],
    ['50x10:20x40/a.png', png(100, 100), undefined, []],
    ['150x10:300x40/50x0/a.png', png(100, 100), undefined, [{ op: 'resize', width: 50, height: 50 }]],
    // imagor's crop filter: 0.0001 of 100 px is 0.01 px, truncated to nothing, so the filter does nothing.
    ['filters:crop(0,0,0.0001,10)/a.png', png(100, 100), undefined, []],
    ['filters:crop(100,0,10,10)/a.png', png(100, 100), undefined, []],
    // imagor's proportion: int(100 * 0.001) = 0, a no-op.
    ['filters:proportion(0.001)/a.png', png(100, 100), undefined, []],
    ['filters:proportion(0.01)/a.png', png(100, 100), undefined, [{ op: 'resize', width: 1, height: 1 }]],
    ['fit-in/0x0/a.png', png(100, 100), undefined, []],
    ['fit-in/0x0/filters:fill(red)/a.png', png(100, 100), undefined, []],
    // A trim() box of zero width reaches extract_area in imagor, which fails.
    ['filters:trim()/a.png', png(100, 100), { trim: null, filterTrims: [{ left: 5, top: 5, width: 0, height: 10 }] }, 'error'],
    ['filters:trim()/a.png', png(100, 100), { trim: null, filterTrims: [null] }, []],
  ];
  for (const [path, src, measured, expected] of rows) {
    const note = measured === undefined ? '' : ` (measured ${JSON.stringify(measured)})`;
    test(`${path} on ${src.width}x${src.height}${note} ${expected === 'error' ? 'is INVALID_PARAMS' : 'plans whole pixels'}`, () => {
      if (expected === 'error') {
        assert.throws(() => plan(path, src, measured), isInvalidParams);
        return;
      }
      const p = plan(path, src, measured);
      assert.equal(p.pending, undefined);
      assert.deepEqual(p.steps, expected);
      assertSane(p.steps, src);
    });
  }

  test('a focal region whose area overflows is INVALID_PARAMS, not a NaN crop', () => {
    assert.throws(() => plan('50x100/filters:focal(0x0:1e200x1e200)/a.png', png(100, 100)), isInvalidParams);
  });
});
