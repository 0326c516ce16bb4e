/**
 * Opened directly in Chromium, an SVG with scripts proxied through camo runs none of them: the CSP pixgate
 * sends with every response forbids scripts, which a loopback canary and the page title show. The same SVG opened
 * straight from the origin runs them (so the test could see it). HTML served as image/png is refused with 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, startCanary, startOrigin, type Canary, type Origin } from '../helpers/origin.js';
import { startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';
import { launchBrowser, skipReason, watchPage, type Browser } from './browser.js';

function evilSvg(canary: string): string {
  return `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="document.title = 'onload ran'; fetch('${canary}/onload', { mode: 'no-cors' })">
<script type="text/javascript">document.title = 'script ran'; fetch('${canary}/script', { mode: 'no-cors' });</script>
<rect width="100" height="100" fill="red"/>
</svg>`;
}

function htmlAsPng(canary: string): string {
  return `<!doctype html><html><body><h1>not an image</h1><script>fetch('${canary}/html', { mode: 'no-cors' }); document.title = 'html ran';</script></body></html>`;
}

describe('scripts in proxied content', { skip: skipReason() }, () => {
  let origin: Origin;
  let canary: Canary;
  let controlCanary: Canary;
  let pixgate: Pixgate;
  let browser: Browser;

  before(async () => {
    origin = await startOrigin();
    canary = await startCanary();
    controlCanary = await startCanary();
    origin.route('/evil.svg', serve(evilSvg(canary.base), { type: 'image/svg+xml' }));
    origin.route('/control.svg', serve(evilSvg(controlCanary.base), { type: 'image/svg+xml' }));
    origin.route('/fake.png', serve(htmlAsPng(canary.base), { type: 'image/png' }));
    pixgate = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.1/32'] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await pixgate?.close();
    await canary?.close();
    await controlCanary?.close();
    await origin?.close();
  });

  test('control: the SVG opened straight from the origin runs its scripts', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(origin.url('/control.svg'));
      await page.waitForFunction(() => document.title.endsWith('ran'));
      await waitFor(() => controlCanary.connections() > 0);
    } finally {
      await page.close();
    }
  });

  test('an SVG with scripts proxied through camo and opened directly runs none of them', async () => {
    const page = await browser.newPage();
    const watch = await watchPage(page);
    try {
      const response = await page.goto(pixgate.camo(origin.url('/evil.svg')));
      assert.equal(response?.status(), 200);
      const headers = response?.headers() ?? {};
      assert.equal(headers['content-type'], 'image/svg+xml');
      assert.match(headers['content-security-policy'] ?? '', /default-src 'none'/);
      assert.equal(await page.evaluate(() => document.documentElement.localName), 'svg', 'the SVG was rendered as a document');
      await page.waitForTimeout(500);
      assert.equal(await page.title(), '');
      assert.equal(canary.connections(), 0);
      assert.ok(watch.messages.some((m) => /Content Security Policy/i.test(m)), `CSP refusals reported:\n${watch.messages.join('\n')}`);
    } finally {
      await page.close();
    }
  });

  test('HTML served as image/png is refused with 400 and never rendered', async () => {
    const page = await browser.newPage();
    try {
      const response = await page.goto(pixgate.camo(origin.url('/fake.png')));
      assert.equal(response?.status(), 400);
      assert.doesNotMatch(await page.content(), /not an image/);
      await page.waitForTimeout(300);
      assert.notEqual(await page.title(), 'html ran');
      assert.equal(canary.connections(), 0);
    } finally {
      await page.close();
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
