// text() and label() (issue 4, imagor filteroverlay.go): Pango text through sharp, in one colour, placed by the
// overlay grammar. Checked on pixels: ink inside the box where the text was put and nowhere else.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { resolveLimits } from '../../../src/policy/limits.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import type { TextSpec } from '../../../src/process/overlay-position.js';
import { processImage, type ProcessOptions } from '../../../src/process/process-image.js';
import { escapeMarkup, fontPixels, renderText } from '../../../src/process/text.js';
import { BLACK, decode, makeAnimated, makeSolid, BLUE, LIME } from '../../helpers/images.js';

const W = 200;
const H = 100;
const black = makeSolid(W, H, BLACK, 'png');

async function draw(filters: string, options: ProcessOptions = {}, input?: Buffer) {
  const result = await processImage(input ?? (await black), parseImagorPath(`unsafe/filters:${filters}/a.png`), options);
  return decode(result.image.data);
}

type Box = { x0: number; y0: number; x1: number; y1: number };

/** Pixels brighter than `threshold` on any channel, and the box around them. */
function ink(d: Awaited<ReturnType<typeof decode>>, threshold = 100, frame = 0): { count: number; box: Box } {
  let count = 0;
  const box = { x0: Infinity, y0: Infinity, x1: -1, y1: -1 };
  for (let y = 0; y < d.height; y++) {
    for (let x = 0; x < d.width; x++) {
      const p = d.pixel(x, y, frame);
      if (Math.max(p.r, p.g, p.b) > threshold) {
        count++;
        box.x0 = Math.min(box.x0, x);
        box.y0 = Math.min(box.y0, y);
        box.x1 = Math.max(box.x1, x);
        box.y1 = Math.max(box.y1, y);
      }
    }
  }
  return { count, box };
}

const spec = (over: Partial<TextSpec>): TextSpec => ({
  kind: 'text',
  text: 'Hello',
  font: 'sans 20',
  colour: { kind: 'colour', colour: { r: 255, g: 255, b: 255, alpha: 1 } },
  x: { axis: 'x', text: '' },
  y: { axis: 'y', text: '' },
  alpha: 0,
  blend: 'normal',
  width: '',
  align: 'left',
  justify: false,
  wrap: 'word',
  spacing: 0,
  dpi: 0,
  ...over,
});
const WHITE_RGBA = { r: 255, g: 255, b: 255, alpha: 1 };
const limits = resolveLimits();

describe('text helpers', () => {
  test('markup is escaped, so Pango draws it as text', () => assert.equal(escapeMarkup('<b>a & b</b>'), '&lt;b&gt;a &amp; b&lt;/b&gt;'));
  const sizes: Array<[string, number, number]> = [['sans bold 24', 0, 24], ['sans 24', 144, 48], ['mono 30px', 300, 30], ['sans', 0, 12], ['sans bold', 72, 12]];
  for (const [font, dpi, px] of sizes) test(`${font} at ${dpi || 72} dpi is ${px} px`, () => assert.equal(fontPixels(font, dpi), px));
});

describe('renderText', () => {
  test('draws the text in the colour asked for, with coverage as alpha', async () => {
    const layer = await renderText(spec({}), W, { r: 255, g: 0, b: 0, alpha: 1 }, limits);
    assert.equal(layer.frames, 1);
    assert.ok(layer.width > 20 && layer.height > 10, `${layer.width}x${layer.height}`);
    let opaque = 0;
    for (let i = 0; i < layer.width * layer.height; i++) {
      const a = layer.data[i * 4 + 3]!;
      if (a > 0) assert.deepEqual([...layer.data.subarray(i * 4, i * 4 + 3)], [255, 0, 0]);
      if (a === 255) opaque++;
    }
    assert.ok(opaque > 20, `${opaque} opaque pixels`);
  });

  test('a larger font renders a larger layer', async () => {
    const small = await renderText(spec({ font: 'sans 12' }), W, WHITE_RGBA, limits);
    const large = await renderText(spec({ font: 'sans 48' }), W, WHITE_RGBA, limits);
    assert.ok(large.height > small.height * 2 && large.width > small.width * 2);
  });

  test('markup characters are drawn, not obeyed', async () => {
    const plain = await renderText(spec({ text: 'x' }), W, WHITE_RGBA, limits);
    const markup = await renderText(spec({ text: '<b>x</b>' }), W, WHITE_RGBA, limits);
    assert.ok(markup.width > plain.width * 3, `${markup.width} vs ${plain.width}`);
  });

  test('a wrap width breaks a long line into several', async () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const one = await renderText(spec({ text }), 1000, WHITE_RGBA, limits);
    const wrapped = await renderText(spec({ text, width: '100' }), 1000, WHITE_RGBA, limits);
    assert.ok(wrapped.width <= 100, `${wrapped.width}`);
    assert.ok(wrapped.height >= one.height * 3, `${wrapped.height} vs ${one.height}`);
    const relative = await renderText(spec({ text, width: '10p' }), 1000, WHITE_RGBA, limits);
    assert.ok(relative.width <= 100);
  });

  test('label fits its line into the size asked for and pads to it', async () => {
    const layer = await renderText(spec({ font: 'sans', lineHeight: 30 }), W, WHITE_RGBA, limits);
    assert.equal(layer.height, 30);
  });

  test('text that would render over the pixel limits is refused before rendering', async () => {
    await assert.rejects(renderText(spec({ font: 'sans 4000' }), W, WHITE_RGBA, limits), (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS');
    await assert.rejects(
      renderText(spec({ text: 'x'.repeat(1000), font: 'sans 200' }), W, WHITE_RGBA, limits),
      (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
    );
    await assert.rejects(
      renderText(spec({ font: 'sans', lineHeight: 20_000 }), W, WHITE_RGBA, limits),
      (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
    );
  });
});

describe('text() on pixels', () => {
  test('puts ink inside the box at (x, y) and nowhere else', async () => {
    const layer = await renderText(spec({ font: 'sans bold 24' }), W, WHITE_RGBA, limits);
    const d = await draw('text(Hello,10,20,sans-bold-24,white)');
    const { count, box } = ink(d);
    assert.ok(count > 50, `${count} inked pixels`);
    assert.ok(box.x0 >= 10 && box.y0 >= 20, JSON.stringify(box));
    assert.ok(box.x1 < 10 + layer.width && box.y1 < 20 + layer.height, JSON.stringify(box));
  });

  test('right and bottom put it against the far edges', async () => {
    const d = await draw('text(Hi,right,bottom,sans-20,white)');
    const { box } = ink(d);
    assert.ok(box.x1 >= W - 6 && box.x0 > W / 2, JSON.stringify(box));
    assert.ok(box.y1 >= H - 12 && box.y0 > H / 2, JSON.stringify(box));
  });

  test('center centres it', async () => {
    const { box } = ink(await draw('text(Hello,center,center,sans-20,white)'));
    const cx = (box.x0 + box.x1) / 2;
    const cy = (box.y0 + box.y1) / 2;
    assert.ok(Math.abs(cx - W / 2) < 8 && Math.abs(cy - H / 2) < 8, JSON.stringify(box));
  });

  test('is drawn in its colour', async () => {
    const d = await draw('text(Hello,10,10,sans-bold-30,lime)');
    let seen = 0;
    for (let y = 10; y < 50; y++) {
      for (let x = 10; x < 120; x++) {
        const p = d.pixel(x, y);
        if (p.g > 200) {
          seen++;
          assert.ok(p.r < 40 && p.b < 40, JSON.stringify(p));
        }
      }
    }
    assert.ok(seen > 20);
  });

  test('alpha 100 leaves no ink', async () => {
    assert.equal(ink(await draw('text(Hello,10,10,sans-bold-30,white,100)')).count, 0);
  });

  test('alpha 50 gives half-bright ink', async () => {
    const d = await draw('text(Hello,10,10,sans-bold-40,white,50)');
    let max = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) max = Math.max(max, d.pixel(x, y).r);
    assert.ok(max >= 120 && max <= 135, `brightest ${max}`);
  });

  test('b64: text is decoded', async () => {
    // "Hi" as unpadded base64url
    const plain = ink(await draw('text(Hi,10,10,sans-24,white)'));
    const encoded = ink(await draw('text(b64:SGk,10,10,sans-24,white)'));
    assert.deepEqual(encoded, plain);
  });

  test('is drawn on every frame of an animation', async () => {
    const anim = await makeAnimated('gif', 120, 60, [BLUE, LIME]);
    const result = await processImage(anim, parseImagorPath('unsafe/filters:text(Hi,5,5,sans-bold-30,white)/a.gif'), {});
    const d = await decode(result.image.data);
    assert.equal(d.frames, 2);
    for (const f of [0, 1]) {
      let white = 0;
      for (let y = 0; y < 60; y++) for (let x = 0; x < 120; x++) if (Math.min(...Object.values(d.pixel(x, y, f)).slice(0, 3)) > 200) white++;
      assert.ok(white > 20, `frame ${f}: ${white}`);
    }
  });
});

describe('text alignment', () => {
  // Three lines, the middle one much shorter, in a 120 px wide box: alignment moves the short line only.
  const TEXT = 'MMMMM\nMM\nMMMMM';

  /** The inked columns of each of the three line bands of a layer (alpha above half). */
  function lineInk(layer: { data: Buffer; width: number; height: number }): Array<{ x0: number; x1: number }> {
    const bands: Array<{ x0: number; x1: number }> = [];
    for (let line = 0; line < 3; line++) {
      const band = { x0: Infinity, x1: -1 };
      for (let y = Math.floor((line * layer.height) / 3); y < Math.floor(((line + 1) * layer.height) / 3); y++) {
        for (let x = 0; x < layer.width; x++) {
          if (layer.data[(y * layer.width + x) * 4 + 3]! > 128) {
            band.x0 = Math.min(band.x0, x);
            band.x1 = Math.max(band.x1, x);
          }
        }
      }
      assert.ok(band.x1 >= 0, `line ${line} has no ink`);
      bands.push(band);
    }
    return bands;
  }

  test('left keeps the short line at the left edge of the long ones; right moves it to their right edge', async () => {
    const left = lineInk(await renderText(spec({ text: TEXT, width: '120', align: 'left' }), W, WHITE_RGBA, limits));
    const right = lineInk(await renderText(spec({ text: TEXT, width: '120', align: 'right' }), W, WHITE_RGBA, limits));
    const [longL, shortL] = [left[0]!, left[1]!];
    const [longR, shortR] = [right[0]!, right[1]!];
    // The short line is well under half the long one.
    assert.ok(shortL.x1 - shortL.x0 < (longL.x1 - longL.x0) / 2, JSON.stringify(left));
    assert.ok(Math.abs(shortL.x0 - longL.x0) <= 3, `left: ${JSON.stringify(left)}`);
    assert.ok(Math.abs(shortR.x1 - longR.x1) <= 3, `right: ${JSON.stringify(right)}`);
    // Relative to the long lines, the short line's ink moved right by about the difference in length.
    const moved = shortR.x0 - longR.x0 - (shortL.x0 - longL.x0);
    const difference = longL.x1 - longL.x0 - (shortL.x1 - shortL.x0);
    assert.ok(Math.abs(moved - difference) <= 4, `moved ${moved}, lengths differ by ${difference}`);
  });

  test('text() passes its width and align arguments through: right-aligned ink of the short line sits further right', async () => {
    // b64url of TEXT, unpadded (text() decodes b64: arguments).
    const encoded = Buffer.from(TEXT).toString('base64url');
    const rows = async (align: string) => {
      const d = await draw(`text(b64:${encoded},0,0,sans-20,white,0,normal,120,${align})`);
      const band = (y0: number, y1: number) => {
        let x0 = Infinity;
        for (let y = y0; y < y1; y++) for (let x = 0; x < W; x++) if (d.pixel(x, y).r > 128) x0 = Math.min(x0, x);
        return x0;
      };
      const { box } = ink(d);
      const third = (box.y1 - box.y0 + 1) / 3;
      return { long: band(box.y0, Math.floor(box.y0 + third)), short: band(Math.ceil(box.y0 + third), Math.floor(box.y0 + 2 * third)) };
    };
    const left = await rows('left');
    const right = await rows('right');
    assert.ok(right.short - right.long > left.short - left.long + 20, `left ${JSON.stringify(left)}, right ${JSON.stringify(right)}`);
  });
});

describe('label() on pixels', () => {
  test('draws its text within a line of the given size', async () => {
    const d = await draw('label(Hi,10,10,30,white)');
    const { count, box } = ink(d);
    assert.ok(count > 30);
    assert.ok(box.y0 >= 10 && box.y1 < 40 && box.x0 >= 10, JSON.stringify(box));
  });

  test('a larger size draws larger text', async () => {
    const small = ink(await draw('label(Hi,0,0,15,white)')).box;
    const large = ink(await draw('label(Hi,0,0,45,white)')).box;
    assert.ok(large.y1 - large.y0 > (small.y1 - small.y0) * 2, `${JSON.stringify(small)} ${JSON.stringify(large)}`);
  });

  test('a bad colour is a 400 naming label', async () => {
    await assert.rejects(draw('label(Hi,0,0,20,blurple)'), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /^label:/.test(e.publicDetail ?? ''));
  });

  test('leniently a bad colour is black, as imagor', async () => {
    const d = await draw('label(Hi,0,0,20,blurple)', { lenientFilters: true }, await makeSolid(W, H, { r: 255, g: 255, b: 255 }, 'png'));
    let dark = 0;
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) if (d.pixel(x, y).r < 60) dark++;
    assert.ok(dark > 10);
  });
});
