import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { capFrames, checkLimits, fitsLimits, IMAGOR_DEFAULT_LIMITS, resolveLimits } from '../../../src/policy/limits.js';
import { isPixgateError } from '../../../src/respond/errors.js';

describe('resolveLimits', () => {
  // imagor processor.go NewProcessor: 9999 x 9999 and 81,000,000 px when VIPS_MAX_* are 0; frames -1 = all.
  test('uses imagor defaults when nothing is set', () => {
    assert.deepEqual({ ...resolveLimits() }, { maxWidth: 9999, maxHeight: 9999, maxResolution: 81_000_000, maxFrames: -1 });
  });

  test('treats 0 and negative sizes as unset', () => {
    const l = resolveLimits({ maxWidth: 0, maxHeight: -5, maxResolution: 0 });
    assert.equal(l.maxWidth, IMAGOR_DEFAULT_LIMITS.maxWidth);
    assert.equal(l.maxHeight, IMAGOR_DEFAULT_LIMITS.maxHeight);
    assert.equal(l.maxResolution, IMAGOR_DEFAULT_LIMITS.maxResolution);
  });

  test('keeps configured sizes', () => {
    const l = resolveLimits({ maxWidth: 2000, maxHeight: 1000, maxResolution: 1_500_000, maxFrames: 10 });
    assert.deepEqual({ ...l }, { maxWidth: 2000, maxHeight: 1000, maxResolution: 1_500_000, maxFrames: 10 });
  });

  // imagor loadAndProcess: `if maxN == 0 || maxN < -1 { maxN = 1 }`.
  const frames: Array<[number | undefined, number]> = [[undefined, -1], [-1, -1], [0, 1], [-167, 1], [3, 3]];
  for (const [given, want] of frames) {
    test(`VIPS_MAX_ANIMATION_FRAMES=${given} means ${want}`, () => {
      assert.equal(resolveLimits({ maxFrames: given }).maxFrames, want);
    });
  }
});

describe('fitsLimits / checkLimits', () => {
  const limits = resolveLimits();
  const cases: Array<[string, { width: number; height: number; frames?: number }, boolean]> = [
    ['exactly the maximum width and height of a thin image', { width: 9999, height: 100 }, true],
    ['one pixel wider than VIPS_MAX_WIDTH', { width: 10_000, height: 10 }, false],
    ['one pixel taller than VIPS_MAX_HEIGHT', { width: 10, height: 10_000 }, false],
    ['9000 x 9000 = 81 MP exactly', { width: 9000, height: 9000 }, true],
    ['9000 x 9001 over 81 MP', { width: 9000, height: 9001 }, false],
    ['a 16000 x 16000 PNG', { width: 16_000, height: 16_000 }, false],
    ['an animation whose frames together exceed 81 MP', { width: 500, height: 500, frames: 400 }, false],
    ['the same animation with 300 frames', { width: 500, height: 500, frames: 300 }, true],
  ];
  for (const [name, size, fits] of cases) {
    test(`${fits ? 'accepts' : 'refuses'} ${name}`, () => {
      assert.equal(fitsLimits(size, limits), fits);
      if (fits) checkLimits(size, limits, 'test');
      else {
        assert.throws(
          () => checkLimits(size, limits, 'test'),
          (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
        );
      }
    });
  }
});

describe('capFrames', () => {
  test('keeps every frame when unlimited', () => assert.equal(capFrames(8, resolveLimits()), 8));
  test('caps at VIPS_MAX_ANIMATION_FRAMES', () => assert.equal(capFrames(8, resolveLimits({ maxFrames: 3 })), 3));
  test('never returns fewer than one frame', () => assert.equal(capFrames(0, resolveLimits()), 1));
});
