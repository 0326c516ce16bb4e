/**
 * The worked example of docs/quick-start.md, run as a newcomer would: the files in docs/examples/hello (the same
 * bytes as the code blocks of the guide) beside a photo, `import ... from 'pixgate'` resolved to this checkout's
 * sdk, against a real pixgate started with the guide's settings. Every image of the page it serves loads, at the
 * size the code asks for; in Chromium too, when it is installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { fetchRaw, repoRoot, startPixgate, type Pixgate } from './helpers/pixgate.js';
import { launchBrowser, skipReason } from './browser/browser.js';

const EXAMPLE = join(repoRoot, 'docs/examples/hello');
const FILES = ['app.mjs', 'page.html'] as const;
// The keys the guide tells the reader to make up.
const IMAGOR_SECRET = 'docs-example-imagor-secret';
const CAMO_KEY = 'docs-example-camo-key';

/** The code block that follows a mention of `file` (in backquotes) with no other block in between. */
function blockAfter(markdown: string, file: string): string | undefined {
  const m = new RegExp('`' + file.replace('.', '\\.') + '`(?:(?!```)[\\s\\S])*?\\n```[a-z]*\\n([\\s\\S]*?)\\n```').exec(markdown);
  return m?.[1];
}

test('docs/quick-start.md shows the example files exactly as they are', () => {
  const guide = readFileSync(join(repoRoot, 'docs/quick-start.md'), 'utf8');
  for (const file of FILES) {
    assert.equal(blockAfter(guide, file), readFileSync(join(EXAMPLE, file), 'utf8').replace(/\n$/, ''), `${file} differs from its block in the guide`);
  }
});

describe('the worked example against a real pixgate', () => {
  let dir: string;
  let pixgate: Pixgate;
  let app: ChildProcess;
  let appUrl: string;
  let page: { html: string; images: Map<string, string> };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-example-'));
    for (const file of FILES) copyFileSync(join(EXAMPLE, file), join(dir, file));
    copyFileSync(join(repoRoot, 'assets/sample.jpg'), join(dir, 'photo.jpg'));
    // `npm install /path/to/pixgate` would link the built package; here the same exports come from src/.
    const pkg = join(dir, 'node_modules/pixgate');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'pixgate', type: 'module', exports: './index.ts' }));
    writeFileSync(join(pkg, 'index.ts'), `export * from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/sdk/index.ts')).href)};\n`);

    // The guide's command: keys by environment, and the app's loopback address allowed for this local trial.
    pixgate = await startPixgate({
      env: { PIXGATE_CAMO_KEYS: CAMO_KEY, IMAGOR_SECRET, PIXGATE_ALLOW_NETWORKS: '127.0.0.1/32' },
    });
    app = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), 'app.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH, PIXGATE_URL: pixgate.url, IMAGOR_SECRET, CAMO_KEY, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    appUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the example did not start: ${out}`)), 20_000);
      const read = (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      app.stdout!.on('data', read);
      app.stderr!.on('data', read);
      app.on('exit', (code) => reject(new Error(`the example exited (${code}): ${out}`)));
    });
    const r = await fetchRaw(appUrl);
    assert.equal(r.status, 200);
    const images = new Map<string, string>();
    for (const m of r.text.matchAll(/<img\b[^>]*?\bid="(\w+)"[^>]*?\bsrc="([^"]+)"|<img\b[^>]*?\bsrc="([^"]+)"/g)) {
      images.set(m[1] ?? 'comment', (m[2] ?? m[3]!).replace(/&amp;/g, '&'));
    }
    page = { html: r.text, images };
  });

  after(async () => {
    app?.kill();
    await pixgate?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the page points every image at pixgate, with no http image of its own left', () => {
    assert.deepEqual([...page.images.keys()].sort(), ['banner', 'comment', 'original', 'thumbnail']);
    for (const [id, src] of page.images) assert.ok(src.startsWith(pixgate.url + '/'), `${id}: ${src}`);
  });

  // sample.jpg is 800x600.
  const expected: Record<string, [number, number, string]> = {
    thumbnail: [200, 150, 'webp'],
    banner: [600, 200, 'jpeg'],
    original: [800, 600, 'jpeg'],
    comment: [400, 300, 'jpeg'],
  };
  for (const [id, [width, height, format]] of Object.entries(expected)) {
    test(`the ${id} loads from pixgate as a ${width}x${height} ${format}`, async () => {
      const r = await fetchRaw(page.images.get(id)!);
      assert.equal(r.status, 200, r.text);
      const meta = await sharp(r.body).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [width, height, format]);
    });
  }

  test('in Chromium, every image of the page is displayed', { skip: skipReason() }, async () => {
    const browser = await launchBrowser();
    try {
      const tab = await browser.newPage();
      await tab.goto(appUrl, { waitUntil: 'networkidle' });
      const sizes = await tab.evaluate(() => Array.from(document.images).map((img) => [img.naturalWidth, img.naturalHeight]));
      assert.deepEqual(sizes, [[200, 150], [600, 200], [800, 600], [400, 300]]);
    } finally {
      await browser.close();
    }
  });
});
