/**
 * The rule for the browser tests themselves: skipped with a reason on a machine without Chromium, but run (and
 * failed, with how to install it) under CI, so a CI run cannot pass without them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inCi, launchBrowser, skipReason } from './browser.js';

const NOWHERE = '/nonexistent/pixgate-test/chromium';

describe('the browser test rule', () => {
  const ci: Array<[string | undefined, boolean]> = [
    [undefined, false],
    ['', false],
    ['0', false],
    ['false', false],
    ['FALSE', false],
    ['true', true],
    ['1', true],
    ['yes', true],
  ];
  for (const [value, expected] of ci) {
    test(`CI=${value === undefined ? '(unset)' : JSON.stringify(value)} ${expected ? 'is' : 'is not'} CI`, () => {
      assert.equal(inCi(value === undefined ? {} : { CI: value }), expected);
    });
  }

  test('without CI, a missing Chromium skips the tests and says how to install it', () => {
    const reason = skipReason({ chromium: NOWHERE }, {});
    assert.equal(typeof reason, 'string');
    assert.match(reason as string, /^SKIPPED: no Chromium at \/nonexistent\/pixgate-test\/chromium: .*apt-get install chromium/);
  });

  test('under CI, a missing Chromium does not skip: launching fails with how to install it', async () => {
    assert.equal(skipReason({ chromium: NOWHERE }, { CI: 'true' }), false);
    await assert.rejects(launchBrowser({ chromium: NOWHERE }), /cannot run the browser tests: no Chromium at .*apt-get install chromium/);
  });

  test('a browser that is there is never a reason to skip', () => {
    assert.equal(skipReason({ chromium: process.execPath }, {}), false);
    assert.equal(skipReason({ chromium: process.execPath }, { CI: '1' }), false);
  });
});
