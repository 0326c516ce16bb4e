// IMAGOR_BASE_PARAMS and the filter switches on the wire (imagor.md §5 and §6): base filters are applied on top of
// every URL, VIPS_DISABLE_FILTERS and VIPS_DISABLE_BLUR skip their filters as imagor does, and base params or
// presets that every request would be refused for stop the start. Also the text imagor's parser drops from a
// `filters:` segment: 400 naming it in strict mode, ignored (200) with PIXGATE_LENIENT_FILTERS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, makeQuadrant, type Decoded } from '../helpers/images.js';
import { errorBody, IMAGOR_SECRET, imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw, runCli, startPixgate } from '../helpers/pixgate.js';
import { SettingsError } from '../../src/settings/load.js';

const W = 80;
const H = 60;
let origin: Origin;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  // Top-left red, top-right lime, bottom-left blue, bottom-right yellow: one hard vertical edge at x = 40.
  origin.route('/q.png', serve(await makeQuadrant(W, H)));
});

after(() => origin.close());

async function fetchImage(rig: ImagorRig, ops: string): Promise<Decoded> {
  const res = await fetchRaw(rig.url(ops, '/q.png'));
  assert.equal(res.status, 200, `${ops}: ${res.text.slice(0, 200)}`);
  assert.equal(res.headers['content-type'], 'image/png');
  return decode(res.body);
}

const isGrey = (p: { r: number; g: number; b: number }): boolean => p.r === p.g && p.g === p.b;

describe('IMAGOR_BASE_PARAMS=filters:grayscale() with VIPS_DISABLE_FILTERS=invert and VIPS_DISABLE_BLUR=1', () => {
  let rig: ImagorRig;
  let plain: Decoded;
  before(async () => {
    rig = await startImagorRig({
      origin,
      env: { IMAGOR_BASE_PARAMS: 'filters:grayscale()', VIPS_DISABLE_FILTERS: 'invert', VIPS_DISABLE_BLUR: '1' },
    });
    plain = await fetchImage(rig, '');
  });
  after(() => rig.close());

  test('every URL comes out grey, though none asks for it', () => {
    assert.deepEqual([plain.width, plain.height], [W, H]);
    for (const [x, y] of [[10, 10], [70, 10], [10, 50], [70, 50]] as const) {
      assert.ok(isGrey(plain.pixel(x, y)), `pixel ${x},${y} is ${JSON.stringify(plain.pixel(x, y))}`);
    }
    // Luma orders the quadrants blue < red < lime < yellow whatever the weights (BT.601 or BT.709).
    const v = (x: number, y: number) => plain.pixel(x, y).r;
    assert.ok(v(10, 50) < v(10, 10) && v(10, 10) < v(70, 10) && v(70, 10) < v(70, 50), 'grey levels follow luma');
  });

  test('invert() is skipped, as imagor skips a disabled filter: 200 with the pixels of the plain URL', async () => {
    const img = await fetchImage(rig, 'filters:invert()');
    // Inverted red is cyan, whose grey is far above red's.
    assert.ok(img.pixel(10, 10).r < 128, `red stays dark grey, got ${img.pixel(10, 10).r}`);
    for (const [x, y] of [[10, 10], [70, 10], [10, 50], [70, 50]] as const) assert.deepEqual(img.pixel(x, y), plain.pixel(x, y));
  });

  test('blur() and sharpen() are skipped: the edge between the quadrants stays hard', async () => {
    for (const ops of ['filters:blur(10)', 'filters:blur(6,3)', 'filters:sharpen(2)']) {
      const img = await fetchImage(rig, ops);
      const left = img.pixel(39, 10).r;
      const right = img.pixel(40, 10).r;
      assert.ok(right - left > 60, `${ops}: a blurred edge would be soft, got ${left} | ${right}`);
      for (const x of [36, 38, 39, 40, 41, 43]) assert.deepEqual(img.pixel(x, 10), plain.pixel(x, 10), `${ops} at x=${x}`);
    }
  });

  test('a filter the URL adds still applies under the base filters', async () => {
    const img = await fetchImage(rig, 'filters:format(png):rotate(180)');
    assert.deepEqual(img.pixel(10, 10), plain.pixel(70, 50), 'rotated: the top-left is the old bottom-right');
  });
});

describe('base params and presets that every request would be refused for stop the start', () => {
  const refused: ReadonlyArray<readonly [env: Record<string, string>, setting: RegExp, problem: RegExp]> = [
    [{ IMAGOR_BASE_PARAMS: 'filters:foo()' }, /^IMAGOR_BASE_PARAMS=filters:foo\(\): /, /unknown filter: foo/],
    [{ IMAGOR_BASE_PARAMS: 'filters:grayscale():sepiaa' }, /^IMAGOR_BASE_PARAMS=/, /filter sepiaa has no parentheses/],
    [{ IMAGOR_BASE_PARAMS: 'filters:blur(x)' }, /^IMAGOR_BASE_PARAMS=/, /blur/],
    [{ IMAGOR_BASE_PARAMS: 'filters:image(/filters:nope()/a.png,0,0)' }, /^IMAGOR_BASE_PARAMS=/, /unknown filter: nope/],
    [{ IMAGOR_BASE_PARAMS: 'filters:grayscale():invert()', VIPS_MAX_FILTER_OPS: '1' }, /^IMAGOR_BASE_PARAMS=/, /too many filters/],
    [{ PIXGATE_PRESETS: 'ok=fit-in/20x20;thumb=filters:quality(80):sharpenn(1)' }, /^PIXGATE_PRESETS: preset thumb: /, /unknown filter: sharpenn/],
  ];
  for (const [env, setting, problem] of refused) {
    test(`refuses ${JSON.stringify(env)} naming the setting`, async () => {
      await assert.rejects(startPixgate({ env: { IMAGOR_SECRET, ...env } }), (err: unknown) => {
        assert.ok(err instanceof SettingsError, String(err));
        assert.equal(err.errors.length, 1, err.errors.join('\n'));
        assert.match(err.errors[0]!, setting);
        assert.match(err.errors[0]!, problem);
        return true;
      });
    });
  }

  test('lists every bad preset and the base params in one error', async () => {
    await assert.rejects(
      startPixgate({ env: { IMAGOR_SECRET, IMAGOR_BASE_PARAMS: 'filters:foo()', PIXGATE_PRESETS: 'a=filters:x();b=filters:y()' } }),
      (err: unknown) => err instanceof SettingsError && err.errors.length === 3 && /preset a: .*x/.test(err.errors[1]!) && /preset b: .*y/.test(err.errors[2]!),
    );
  });

  test('with PIXGATE_LENIENT_FILTERS it starts, and ignores the unknown base filter as imagor does', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_BASE_PARAMS: 'filters:foo():sepiaa', PIXGATE_LENIENT_FILTERS: '1' } });
    try {
      const img = await fetchImage(rig, '');
      assert.deepEqual(img.pixel(10, 10), { r: 255, g: 0, b: 0, a: 255 });
    } finally {
      await rig.close();
    }
  });

  test('a disabled filter in the base params is no reason to refuse the start', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_BASE_PARAMS: 'filters:blur(5)', VIPS_DISABLE_BLUR: '1' } });
    try {
      const img = await fetchImage(rig, '');
      assert.deepEqual(img.pixel(39, 10), { r: 255, g: 0, b: 0, a: 255 });
    } finally {
      await rig.close();
    }
  });

  test('`pixgate serve` exits with status 2 and says which setting is wrong', async () => {
    const r = await runCli(['serve', '--listen', '127.0.0.1:0'], { IMAGOR_SECRET, IMAGOR_BASE_PARAMS: 'filters:foo()' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid configuration: IMAGOR_BASE_PARAMS=filters:foo\(\): unknown filter: foo \(--imagor-base-params\)/);
  });
});

describe('text imagor drops from a filters segment', () => {
  const paths: ReadonlyArray<readonly [ops: string, message: string]> = [
    ['filters:blurr', 'filter blurr has no parentheses'],
    ['filters:grayscale', 'filter grayscale has no parentheses'],
    ['filters:grayscale():sepiaa', 'filter sepiaa has no parentheses'],
    ['filters:blur(5)junk:grayscale()', 'unexpected text after blur(...)'],
    ['filters:(5)', 'filter (5) has no name'],
  ];

  describe('strict (the default): 400 naming it', () => {
    let rig: ImagorRig;
    before(async () => {
      rig = await startImagorRig({ origin });
    });
    after(() => rig.close());
    for (const [ops, message] of paths) {
      test(`${ops}/…`, async () => {
        const res = await fetchRaw(rig.url(ops, '/q.png'));
        assert.equal(res.status, 400, res.text);
        assert.deepEqual(errorBody(res.text), { message: `invalid: ${message}`, status: 400 });
      });
    }
    test('/params still shows what imagor parses: the dropped text has no trace', async () => {
      const path = `filters:grayscale():sepiaa/${rig.src('/q.png')}`;
      const res = await fetchRaw(`${rig.px.url}/params/${imagorHash(path)}/${path}`);
      assert.equal(res.status, 200, res.text);
      const json = JSON.parse(res.text) as Record<string, unknown>;
      assert.deepEqual(json.filters, [{ name: 'grayscale' }]);
      assert.deepEqual(Object.keys(json), ['path', 'image', 'hash', 'filters']);
    });
  });

  describe('PIXGATE_LENIENT_FILTERS: ignored, as imagor ignores it', () => {
    let rig: ImagorRig;
    before(async () => {
      rig = await startImagorRig({ origin, env: { PIXGATE_LENIENT_FILTERS: '1' } });
    });
    after(() => rig.close());
    for (const [ops] of paths) {
      test(`${ops}/… answers 200`, async () => {
        const img = await fetchImage(rig, ops);
        assert.deepEqual([img.width, img.height], [W, H]);
      });
    }
    test('the filters around the dropped text still apply', async () => {
      const img = await fetchImage(rig, 'filters:grayscale():sepiaa');
      assert.ok(isGrey(img.pixel(10, 10)));
    });
  });
});
