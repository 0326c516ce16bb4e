import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWithinBytes, nextQuality } from '../../../src/process/max-bytes.js';

/** An encoder whose output is `bytesPerQuality` bytes per quality point, recording the qualities asked for. */
function fakeEncoder(bytesPerQuality: number) {
  const asked: number[] = [];
  return {
    asked,
    encodeAt: async (quality: number) => {
      asked.push(quality);
      return Buffer.alloc(quality * bytesPerQuality);
    },
  };
}

describe('nextQuality (imagor process.go)', () => {
  const cases: Array<[number, number, number, number]> = [
    // quality, bytes, budget, next
    [80, 4000, 1000, 20], // more than 3x over: x0.25
    [80, 2000, 1000, 40], // more than 1.5x over: x0.5
    [80, 1500, 1000, 60], // at most 1.5x over: x0.75
    [33, 1100, 1000, 24], // Go integer arithmetic truncates 24.75
    [11, 9000, 1000, 2],
  ];
  for (const [quality, bytes, budget, next] of cases) {
    test(`${quality} at ${bytes} bytes against ${budget} -> ${next}`, () => assert.equal(nextQuality(quality, bytes, budget), next));
  }
});

describe('encodeWithinBytes', () => {
  test('starts at the planned quality, retries from 80 when no quality was given, stops once it fits', async () => {
    const enc = fakeEncoder(100);
    const out = await encodeWithinBytes({ quality: 75, maxBytes: 3000, retryFrom: 80 }, enc.encodeAt);
    // 7500 is 2.5x over: 80 x 0.5 = 40; 4000 is 1.33x over: 40 x 0.75 = 30; 3000 fits.
    assert.deepEqual(enc.asked, [75, 40, 30]);
    assert.equal(out.length, 3000);
  });
  test('retries from the URL quality when there is one', async () => {
    const enc = fakeEncoder(100);
    await encodeWithinBytes({ quality: 90, maxBytes: 5000, retryFrom: 90 }, enc.encodeAt);
    // 9000 is 1.8x over: 90 x 0.5 = 45; 4500 fits.
    assert.deepEqual(enc.asked, [90, 45]);
  });
  test('gives up at a quality of 10 or less and keeps the last attempt', async () => {
    const enc = fakeEncoder(1000);
    const out = await encodeWithinBytes({ quality: 75, maxBytes: 10, retryFrom: 80 }, enc.encodeAt);
    assert.deepEqual(enc.asked, [75, 20, 5]);
    assert.equal(out.length, 5000);
  });
  test('encodes once without a budget or when the first attempt fits', async () => {
    const a = fakeEncoder(100);
    await encodeWithinBytes({ quality: 75, maxBytes: undefined, retryFrom: 80 }, a.encodeAt);
    assert.deepEqual(a.asked, [75]);
    const b = fakeEncoder(1);
    await encodeWithinBytes({ quality: 75, maxBytes: 1000, retryFrom: 80 }, b.encodeAt);
    assert.deepEqual(b.asked, [75]);
  });
  test('checks the deadline before each retry', async () => {
    const enc = fakeEncoder(1000);
    let checks = 0;
    await assert.rejects(
      encodeWithinBytes({ quality: 75, maxBytes: 10, retryFrom: 80 }, enc.encodeAt, () => {
        if (++checks === 2) throw new Error('deadline');
      }),
      /deadline/,
    );
    assert.deepEqual(enc.asked, [75, 20]);
  });
});
