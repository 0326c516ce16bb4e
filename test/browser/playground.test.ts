/**
 * The dev playground in Chromium: fill in an image URL and operations, sign, and see the processed image and the
 * original with their sizes; a screenshot of the processed image has the requested size and the source's colours.
 * The page runs under its own strict CSP with no violation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { BLUE, LIME, makeQuadrant, near, RED, YELLOW } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';
import { launchBrowser, skipReason, watchPage, type Browser } from './browser.js';

describe('the playground in a browser', { skip: skipReason() }, () => {
  let origin: Origin;
  let pixgate: Pixgate;
  let browser: Browser;
  let source: Buffer;

  before(async () => {
    origin = await startOrigin();
    source = await makeQuadrant(400, 300, 'png');
    origin.route('/quadrant.png', serve(source, { type: 'image/png' }));
    pixgate = await startPixgate({ argv: ['--dev', '-k', TEST_KEY, '--imagor-secret', 'playground-secret', '--allow-network', '127.0.0.1/32'] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await pixgate?.close();
    await origin?.close();
  });

  test('builds a signed URL, shows the processed image at the requested size and the original', async () => {
    const page = await browser.newPage();
    const watch = await watchPage(page);
    try {
      await page.goto(`${pixgate.url}/__playground/`);
      await page.fill('#url', origin.url('/quadrant.png'));
      await page.fill('#width', '200');
      await page.fill('#height', '100');
      await page.uncheck('#fit-in');
      await page.selectOption('#format', 'png');
      await page.click('#go');
      await page.waitForSelector('#result[data-state="done"], #result[data-state="failed"]');
      assert.equal(await page.getAttribute('#result', 'data-state'), 'done', await page.textContent('#result') ?? '');

      const imagorUrl = (await page.textContent('#imagor-url')) ?? '';
      assert.match(imagorUrl, new RegExp(`^${pixgate.url}/[A-Za-z0-9_=-]{28}/200x100/filters:format\\(png\\)/${origin.base.replace(/\./g, '\\.')}/quadrant\\.png$`));
      const sizes = await page.evaluate(() => {
        const p = document.getElementById('processed') as HTMLImageElement;
        const o = document.getElementById('original') as HTMLImageElement;
        return { processed: [p.naturalWidth, p.naturalHeight, Number(p.dataset.bytes)], original: [o.naturalWidth, o.naturalHeight, Number(o.dataset.bytes)] };
      });
      assert.deepEqual(sizes.processed.slice(0, 2), [200, 100]);
      assert.deepEqual(sizes.original, [400, 300, source.length]);
      assert.match((await page.textContent('#processed-info')) ?? '', /^200 × 100 px, [\d.]+ (B|KB), image\/png$/);
      assert.match((await page.textContent('#original-info')) ?? '', /^400 × 300 px, [\d.]+ KB, image\/png$/);
      assert.match((await page.textContent('#code')) ?? '', /imagorUrl\(\n {2}\{ image: '[^']+quadrant\.png', width: 200, height: 100, filters: \[f\.format\('png'\)\] \}/);

      // What the reader sees: a screenshot around the processed image (4 px of page on each side). The pixels in
      // the source's four colours form a 200x100 rectangle, each colour in its corner (a cover crop of 400x300 to
      // 200x100 keeps the middle band, so the quadrants' colours stay in the corners).
      const box = await page.locator('#processed').boundingBox();
      assert.ok(box);
      const shot = await page.screenshot({ clip: { x: box.x - 4, y: box.y - 4, width: box.width + 8, height: box.height + 8 } });
      const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const at = (x: number, y: number) => {
        const i = (y * info.width + x) * info.channels;
        return { r: data[i]!, g: data[i + 1]!, b: data[i + 2]! };
      };
      const colours = [RED, LIME, BLUE, YELLOW];
      let left = Infinity, top = Infinity, right = -1, bottom = -1;
      for (let y = 0; y < info.height; y++) {
        for (let x = 0; x < info.width; x++) {
          if (!colours.some((c) => near(at(x, y), c))) continue;
          left = Math.min(left, x);
          top = Math.min(top, y);
          right = Math.max(right, x);
          bottom = Math.max(bottom, y);
        }
      }
      assert.deepEqual([right - left + 1, bottom - top + 1], [200, 100], 'the image on screen is 200x100');
      assert.ok(near(at(left + 10, top + 10), RED), 'top left is red');
      assert.ok(near(at(right - 10, top + 10), LIME), 'top right is lime');
      assert.ok(near(at(left + 10, bottom - 10), BLUE), 'bottom left is blue');
      assert.ok(near(at(right - 10, bottom - 10), YELLOW), 'bottom right is yellow');

      assert.deepEqual(watch.messages.filter((m) => /Content Security Policy|Refused/i.test(m)), [], 'no CSP violation');
    } finally {
      await page.close();
    }
  });

  test('shows the error for a URL the server refuses', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${pixgate.url}/__playground/`);
      await page.fill('#url', origin.url('/missing.png'));
      await page.click('#go');
      await page.waitForSelector('#result[data-state="failed"]');
      assert.match((await page.textContent('#processed-info')) ?? '', /^HTTP 404/);
    } finally {
      await page.close();
    }
  });
});
