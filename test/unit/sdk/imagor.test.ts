import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { splitFilterArgs } from '../../../src/parse/imagor-filters.js';
import { queryUnescape } from '../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import type { ErrorCode } from '../../../src/respond/error-table.js';
import {
  buildImagorPath,
  f,
  imagorUrl,
  imagorUrlSync,
  parseImagorUrl,
  signImagorPath,
  signImagorPathSync,
  verifyImagorUrl,
  type ImagorFilter,
  type ImagorOptions,
} from '../../../src/sdk/imagor.js';
import { nodeMac } from '../../../src/verify/node-mac.js';
import { prepareFilters } from '../../../src/process/filters/registry.js';
import { MAX_KERNEL_SIDE } from '../../../src/process/filters/sharpness.js';
import type { PixelState } from '../../../src/process/filters/types.js';
import type { ImagorCurve } from '../../../src/sdk/imagor.js';

const isCode = (code: ErrorCode) => (e: unknown) => isPixgateError(e) && e.code === code;
const filterText = (x: ImagorFilter) => `${x.name}(${x.args})`;
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const hmac = (alg: string, secret: string, text: string) => createHmac(alg, secret).update(text).digest('base64url');

// imagor docs/docs/security.mdx (shared/reference/imagor-security-docs.txt).
const GOPHER = '500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png';

describe('signImagorPath', () => {
  test('matches the examples of imagor security docs, on Web Crypto and on a sync MAC', async () => {
    assert.equal(await signImagorPath(GOPHER, { secret: 'mysecret' }), 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    assert.equal(await signImagorPath(GOPHER, { secret: 'mysecret', type: 'sha256', truncate: 40 }), 'IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy');
    assert.equal(signImagorPathSync(GOPHER, { secret: 'mysecret' }, nodeMac), 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    assert.equal(signImagorPathSync(GOPHER, { secret: 'mysecret', type: 'sha256', truncate: 40 }, nodeMac), 'IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy');
  });

  test('does not sign a leading slash, which is not part of the path imagor checks', async () => {
    assert.equal(await signImagorPath('/' + GOPHER, { secret: 'mysecret' }), 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
  });

  test('Web Crypto and node:crypto agree for every type, truncation, secret and path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }).filter((p) => !p.startsWith('/')),
        fc.constantFrom('sha1' as const, 'sha256' as const, 'sha512' as const),
        fc.oneof(fc.constant(0), fc.integer({ min: 17, max: 100 })),
        async (secret, path, type, truncate) => {
          const options = { secret, type, truncate };
          assert.equal(await signImagorPath(path, options), signImagorPathSync(path, options, nodeMac));
        },
      ),
      { numRuns: 100 },
    );
  });

  test('refuses a truncation no server can recognise, an empty secret and an unknown type', async () => {
    await assert.rejects(signImagorPath(GOPHER, { secret: 's', truncate: 16 }), isCode('INVALID_PARAMS'));
    await assert.rejects(signImagorPath(GOPHER, { secret: '' }), isCode('INVALID_PARAMS'));
    await assert.rejects(signImagorPath(GOPHER, { secret: 's', type: 'md5' as 'sha1' }), isCode('INVALID_PARAMS'));
    await assert.rejects(signImagorPath('', { secret: 's' }), isCode('INVALID_PARAMS'));
  });
});

describe('buildImagorPath writes every segment in imagor order', () => {
  // Expected paths are from imagor's imagorpath/params_test.go TestParseGenerate (cshum/imagor e7cd514f) and
  // the grammar of docs/docs/image-endpoint.md.
  const cases: Array<[string, ImagorOptions, string]> = [
    [
      'all of meta, trim, crop, fit-in, flips, alignment, smart and a filter',
      { meta: true, trim: true, crop: { left: 10, top: 11, right: 12, bottom: 13 }, fitIn: true, width: 300, height: 200, hFlip: true, vFlip: true, hAlign: 'left', vAlign: 'top', smart: true, filters: [f.custom('some_filter')], image: 'img' },
      'meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/img',
    ],
    [
      'trim by bottom-right with a tolerance',
      { meta: true, trim: { by: 'bottom-right', tolerance: 100 }, crop: { left: 10, top: 11, right: 12, bottom: 13 }, fitIn: true, width: 300, height: 200, hFlip: true, vFlip: true, hAlign: 'left', vAlign: 'top', smart: true, filters: [f.custom('some_filter')], image: 's.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg' },
      'meta/trim:bottom-right:100/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg',
    ],
    [
      'fractional crop',
      { meta: true, trim: true, crop: { left: 0.2, top: 0.15, right: 0.45, bottom: 0.67 }, fitIn: true, width: 300, height: 200, hFlip: true, vFlip: true, hAlign: 'left', vAlign: 'top', smart: true, filters: [f.custom('some_filter')], image: 'img' },
      'meta/trim/0.2x0.15:0.45x0.67/fit-in/-300x-200/left/top/smart/filters:some_filter()/img',
    ],
    ['adaptive fit-in', { adaptive: true, fitIn: true, width: 300, height: 200, image: 'img' }, 'adaptive-fit-in/300x200/img'],
    ['full fit-in', { full: true, fitIn: true, width: 300, height: 200, image: 'img' }, 'full-fit-in/300x200/img'],
    ['adaptive full fit-in', { adaptive: true, full: true, fitIn: true, width: 300, height: 200, image: 'img' }, 'adaptive-full-fit-in/300x200/img'],
    ['adaptive fit-in and a filter', { adaptive: true, fitIn: true, width: 300, height: 200, filters: [f.blur(5)], image: 'img' }, 'adaptive-fit-in/300x200/filters:blur(5)/img'],
    ['full fit-in and smart', { full: true, fitIn: true, width: 300, height: 200, smart: true, image: 'img' }, 'full-fit-in/300x200/smart/img'],
    ['size only', { width: 949, height: 1000, image: 'img.jpg' }, '949x1000/img.jpg'],
    ['flipped size', { width: 1920, height: 1080, hFlip: true, vFlip: true, image: 'img.jpg' }, '-1920x-1080/img.jpg'],
    ['stretch', { fitIn: true, stretch: true, width: 100, height: 100, image: 'a.png' }, 'fit-in/stretch/100x100/a.png'],
    ['symmetric padding', { fitIn: true, width: 100, height: 100, padding: { left: 10, top: 20 }, image: 'a.png' }, 'fit-in/100x100/10x20/a.png'],
    ['padding on all sides', { fitIn: true, width: 100, height: 100, padding: 5, image: 'a.png' }, 'fit-in/100x100/5x5/a.png'],
    ['four paddings', { fitIn: true, width: 100, height: 100, padding: { left: 1, top: 2, right: 3, bottom: 4 }, image: 'a.png' }, 'fit-in/100x100/1x2:3x4/a.png'],
    ['centre alignment is the default and is not written', { width: 10, height: 10, hAlign: 'center', vAlign: 'middle', image: 'a.png' }, '10x10/a.png'],
    ['right and bottom alignment', { width: 10, height: 10, hAlign: 'right', vAlign: 'bottom', image: 'a.png' }, '10x10/right/bottom/a.png'],
    ['an image with a query string is escaped', { image: 'https://foobar/en/latest/_images/man_before_sharpen.png?foo=bar' }, 'https:%2F%2Ffoobar%2Fen%2Flatest%2F_images%2Fman_before_sharpen.png%3Ffoo=bar'],
    ['an image that reads as a segment is escaped', { image: 'fit-in/img' }, 'fit-in%2Fimg'],
    ['a b64: image', { image: 'my image (special)?.jpg', base64Image: true }, 'b64:bXkgaW1hZ2UgKHNwZWNpYWwpPy5qcGc'],
  ];
  for (const [name, options, path] of cases) {
    test(name, () => assert.equal(buildImagorPath(options), path));
  }

  test('an image with characters a browser re-encodes is sent as b64:', () => {
    assert.equal(buildImagorPath({ image: 'https://example.com/ü b.png' }), 'b64:' + b64('https://example.com/ü b.png'));
  });

  test('an image that would read as a preset segment is sent as b64:', () => {
    assert.equal(buildImagorPath({ image: 'preset:x/y.png' }), 'b64:' + b64('preset:x/y.png'));
  });
});

describe('presets', () => {
  test('are written first, right after the hash, and signed with the rest', async () => {
    const url = await imagorUrl({ image: 'a.com/b.png', presets: ['thumb', 'small'], meta: true, width: 10 }, { secret: 's', baseUrl: 'https://img.example.com' });
    const path = 'preset:thumb,small/meta/10x0/a.com/b.png';
    assert.equal(url, `https://img.example.com/${hmac('sha1', 's', path)}=/${path}`);
  });

  test('read back from a URL', () => {
    const parsed = parseImagorUrl('/unsafe/preset:thumb/fit-in/10x10/a.png');
    assert.deepEqual(parsed.options, { image: 'a.png', presets: ['thumb'], fitIn: true, width: 10, height: 10 });
  });

  test('refuse names that would break the segment', () => {
    for (const name of ['', 'a,b', 'a/b', 'a:b', 'a b', 'ä']) {
      assert.throws(() => buildImagorPath({ image: 'a.png', presets: [name] }), isCode('INVALID_PARAMS'), name);
    }
  });
});

describe('imagorUrl', () => {
  test('is HASH/path under the base URL, with the documented vector', async () => {
    const options: ImagorOptions = { width: 500, height: 500, vAlign: 'top', image: 'raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png' };
    assert.equal(await imagorUrl(options, { secret: 'mysecret' }), '/cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/' + GOPHER);
    assert.equal(
      await imagorUrl(options, { secret: 'mysecret', type: 'sha256', truncate: 40, baseUrl: 'https://img.example.com/' }),
      'https://img.example.com/IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy/' + GOPHER,
    );
    assert.equal(imagorUrlSync(options, { secret: 'mysecret' }, nodeMac), '/cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/' + GOPHER);
  });

  test('writes unsafe/ when asked, without a secret', async () => {
    assert.equal(await imagorUrl({ image: 'a.png', width: 10 }, { unsafe: true, baseUrl: 'http://localhost:8000' }), 'http://localhost:8000/unsafe/10x0/a.png');
  });

  test('needs a secret for a signed URL', async () => {
    await assert.rejects(imagorUrl({ image: 'a.png' }, {}), isCode('INVALID_PARAMS'));
  });
});

describe('filters', () => {
  // Expected texts from imagor docs/docs/filters.md and docs/docs/image-endpoint.md examples.
  const documented: Array<[ImagorFilter, string]> = [
    [f.blur(5), 'blur(5)'],
    [f.brightness(-50), 'brightness(-50)'],
    [f.contrast(50), 'contrast(50)'],
    [f.fill('auto'), 'fill(auto)'],
    [f.fill('blur'), 'fill(blur)'],
    [f.fill('red'), 'fill(red)'],
    [f.grayscale(), 'grayscale()'],
    [f.hue(90), 'hue(90)'],
    [f.image('/fit-in/100x100/IMAGE', { x: 'center', y: 'center' }), 'image(/fit-in/100x100/IMAGE,center,center)'],
    [f.image('/fit-in/100x100/IMAGE', { x: 'center', y: 'center', alpha: 50 }), 'image(/fit-in/100x100/IMAGE,center,center,50)'],
    [f.pixelate(10), 'pixelate(10)'],
    [f.quality(80), 'quality(80)'],
    [f.rgb(60, -30, -30), 'rgb(60,-30,-30)'],
    [f.rotate(90), 'rotate(90)'],
    [f.roundCorner(50), 'round_corner(50)'],
    [f.saturation(-80), 'saturation(-80)'],
    [f.sharpen(3), 'sharpen(3)'],
    [f.text('IMAGOR', { x: 20, y: 20, font: 'sans bold 36', color: 'white', alpha: 0 }), 'text(IMAGOR,20,20,sans-bold-36,white,0)'],
    // The docs leave the blend mode empty; imagor reads '' as normal (getBlendMode), which is what we write.
    [
      f.text('Hello World from imagor', { base64: true, x: -20, y: 20, font: 'sans 24', color: 'yellow', alpha: 0, width: 180, align: 'high' }),
      'text(b64:SGVsbG8gV29ybGQgZnJvbSBpbWFnb3I,-20,20,sans-24,yellow,0,normal,180,high)',
    ],
    [f.watermark({ image: 'IMAGE', x: -20, y: -20, alpha: 0, wRatio: 30, hRatio: 30 }), 'watermark(IMAGE,-20,-20,0,30,30)'],
    [f.watermark({ image: 'IMAGE', x: 'repeat', y: 'bottom', alpha: 30, wRatio: 30, hRatio: 30 }), 'watermark(IMAGE,repeat,bottom,30,30,30)'],
    [f.watermark({ image: 's.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg', x: 0, y: 0, alpha: 0 }), 'watermark(s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg,0,0,0)'],
    [f.format('webp'), 'format(webp)'],
    [f.focal({ left: 10, top: 20, right: 30, bottom: 40 }), 'focal(10x20:30x40)'],
    [f.focal(0.5, 0.25), 'focal(0.5,0.25)'],
    [f.blurhash(4, 3), 'blurhash(4,3)'],
  ];
  for (const [made, text] of documented) {
    test(`writes ${text}`, () => assert.equal(filterText(made), text));
  }

  // Every other filter of imagor's list (reference imagor.md section 2), in the argument shapes imagor reads.
  const others: Array<[ImagorFilter, string]> = [
    [f.backgroundColor('#FFF'), 'background_color(FFF)'],
    [f.blur(3, 1.5), 'blur(3,1.5)'],
    [f.crop(0.1, 0.1, 0.8, 0.8), 'crop(0.1,0.1,0.8,0.8)'],
    [f.dpi(300), 'dpi(300)'],
    [f.drawDetections(), 'draw_detections()'],
    [f.expire(new Date(1700000000000)), 'expire(1700000000000)'],
    [f.attachment(), 'attachment()'],
    [f.attachment('cat.png'), 'attachment(cat.png)'],
    [f.maxAge(0), 'max_age(0)'],
    [f.fallbackFormat('webp'), 'fallback_format(webp)'],
    [f.invert(), 'invert()'],
    [f.label('Hi', { x: 10, y: 'bottom', size: 30, color: 'ff0000' }), 'label(Hi,10,bottom,30,ff0000)'],
    [f.lossless(), 'lossless()'],
    [f.maxBytes(50000), 'max_bytes(50000)'],
    [f.maxFrames(10), 'max_frames(10)'],
    [f.modulate(10, -20, 90), 'modulate(10,-20,90)'],
    [f.noUpscale(), 'no_upscale()'],
    [f.upscale(), 'upscale()'],
    [f.orient(270), 'orient(270)'],
    [f.padding('white', 10), 'padding(white,10)'],
    [f.padding('white', 10, 20), 'padding(white,10,20)'],
    [f.padding('white', 1, 2, 3, 4), 'padding(white,1,2,3,4)'],
    [f.page(2), 'page(2)'],
    [f.palette(), 'palette()'],
    [f.bitdepth(8), 'bitdepth(8)'],
    [f.compression(9), 'compression(9)'],
    [f.autojpg(), 'autojpg()'],
    [f.pixelate(), 'pixelate()'],
    [f.preview(), 'preview()'],
    [f.proportion(0.5), 'proportion(0.5)'],
    [f.raw(), 'raw()'],
    [f.redact(), 'redact()'],
    [f.redact('pixelate', 12), 'redact(pixelate,12)'],
    [f.redactOval('black'), 'redact_oval(black)'],
    [f.roundCorner(20, 10, 'white'), 'round_corner(20,10,white)'],
    [f.roundCorner(20, undefined, 'white'), 'round_corner(20,20,white)'],
    [f.sharpen(1, 2, true), 'sharpen(1,2,true)'],
    [f.stripExif(), 'strip_exif()'],
    [f.stripIcc(), 'strip_icc()'],
    [f.stripMetadata(), 'strip_metadata()'],
    [f.stretch(), 'stretch()'],
    [f.toColorspace(), 'to_colorspace()'],
    [f.toColorspace('p3'), 'to_colorspace(p3)'],
    [f.trim(), 'trim()'],
    [f.trim(50, 'bottom-right'), 'trim(50,bottom-right)'],
    [f.watermark({ image: 'logo.png', wRatio: 20 }), 'watermark(logo.png,0,0,0,20,none)'],
    [f.thumbhash(), 'thumbhash()'],
    [f.avgcolor(), 'avgcolor()'],
    [f.custom('frame', '5s'), 'frame(5s)'],
  ];
  for (const [made, text] of others) {
    test(`writes ${text}`, () => assert.equal(filterText(made), text));
  }

  test('fill gaps before the last given text option with imagor defaults', () => {
    assert.equal(filterText(f.text('a', { color: 'red' })), 'text(a,0,0,sans-20,red)');
    assert.equal(filterText(f.text('a')), 'text(a)');
  });

  test('a nested image() path can be given as options', () => {
    const nested = f.image({ image: 'a.com/b.png', fitIn: true, width: 100, height: 100, filters: [f.fill('red')] }, { x: 10, y: 10 });
    assert.equal(filterText(nested), 'image(fit-in/100x100/filters:fill(red)/a.com/b.png,10,10)');
  });

  const refused: Array<[string, () => unknown]> = [
    ['quality above 100', () => f.quality(101)],
    ['fractional quality', () => f.quality(80.5)],
    ['brightness beyond 100', () => f.brightness(150)],
    ['an unknown format', () => f.format('exe' as 'png')],
    ['a colour with a space', () => f.fill('red green')],
    ['a colour with bad hex', () => f.fill('#ff00')],
    ['a position word imagor does not know', () => f.watermark({ image: 'a.png', x: 'middle' })],
    ['a fractional position beyond 1', () => f.watermark({ image: 'a.png', x: 1.5 })],
    ['watermark alpha above 100', () => f.watermark({ image: 'a.png', alpha: 101 })],
    ['an empty watermark image', () => f.watermark({ image: '' })],
    ['an unknown blend mode', () => f.image('a.png', { blend: 'burn' as 'add' })],
    ['a font with hyphens', () => f.text('a', { font: 'sans-bold' })],
    ['a rotation of 45 degrees', () => f.rotate(45 as 90)],
    ['padding with right but no bottom', () => f.padding('red', 1, 2, 3)],
    ['blurhash components above 9', () => f.blurhash(10, 1)],
    ['an attachment name with a slash', () => f.attachment('a/b.png')],
    ['a custom filter name with capitals', () => f.custom('Frame')],
    ['a custom argument with a top-level comma', () => f.custom('x', 'a,b')],
    ['a custom argument with a space', () => f.custom('x', 'a b')],
    ['a custom argument with unbalanced parentheses', () => f.custom('x', 'a)')],
    ['a hand-made filter with a question mark', () => buildImagorPath({ image: 'a.png', filters: [{ name: 'x', args: 'a?b' }] })],
    ['a proportion of 0', () => f.proportion(0)],
    ['a redact strength without a mode', () => f.redact(undefined, 3)],
  ];
  for (const [name, fn] of refused) {
    test(`refuses ${name}`, () => assert.throws(fn, isCode('INVALID_PARAMS')));
  }

  test('texts and overlay images come back exactly through imagor decoding (QueryUnescape, then b64:)', () => {
    // imagor's decodeTextArg and watermark() in processor/vipsprocessor: url.QueryUnescape, then a b64: prefix.
    const decode = (arg: string): string => {
      const s = queryUnescape(arg) ?? arg;
      return s.startsWith('b64:') ? Buffer.from(s.slice(4), 'base64url').toString() : s;
    };
    fc.assert(
      fc.property(fc.string({ minLength: 1, unit: 'grapheme' }), fc.boolean(), (text, base64) => {
        for (const made of [f.text(text, { base64, x: 1 }), f.label(text, { base64 }), f.watermark({ image: text, base64 })]) {
          const parsed = parseImagorUrl('/unsafe/' + buildImagorPath({ image: 'a.png', filters: [made] })).options.filters![0]!;
          assert.equal(decode(splitFilterArgs(parsed.args)[0]!), text);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('a nested image() path comes back exactly after the one QueryUnescape imagor applies', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (path) => {
        const parsed = parseImagorUrl('/unsafe/' + buildImagorPath({ image: 'a.png', filters: [f.image(path, { x: 1 })] })).options.filters![0]!;
        const args = splitFilterArgs(parsed.args);
        assert.equal(args.length, 2);
        assert.equal(queryUnescape(args[0]!), path);
      }),
      { numRuns: 300 },
    );
  });
});

describe('option checks', () => {
  const refused: Array<[string, ImagorOptions]> = [
    ['no image', { image: '' }],
    ['a negative width', { image: 'a.png', width: -10 }],
    ['a fractional height', { image: 'a.png', height: 10.5 }],
    ['adaptive without fit-in', { image: 'a.png', adaptive: true }],
    ['full without fit-in', { image: 'a.png', full: true }],
    ['a crop fraction the grammar cannot write on the near edge', { image: 'a.png', crop: { left: 1.5, top: 0, right: 1, bottom: 1 } }],
    ['a crop fraction of 2 or more on the far edge', { image: 'a.png', crop: { left: 0, top: 0, right: 2.5, bottom: 1 } }],
    ['a negative crop', { image: 'a.png', crop: { left: -1, top: 0, right: 1, bottom: 1 } }],
    ['a trim tolerance above 442', { image: 'a.png', trim: { tolerance: 500 } }],
    ['an unknown alignment', { image: 'a.png', hAlign: 'middle' as 'left' }],
    ['negative padding', { image: 'a.png', padding: -1 }],
  ];
  for (const [name, options] of refused) {
    test(`refuses ${name}`, () => assert.throws(() => buildImagorPath(options), isCode('INVALID_PARAMS')));
  }
});

describe('parseImagorUrl', () => {
  test('reads a full URL, ignoring the query string, and strips a base path', () => {
    const parsed = parseImagorUrl('https://img.example.com/img/cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/' + GOPHER + '?utm=1#x', { baseUrl: 'https://img.example.com/img/' });
    assert.equal(parsed.hash, 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    assert.equal(parsed.path, GOPHER);
    assert.equal(parsed.unsafe, false);
    assert.deepEqual(parsed.options, { image: 'raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png', width: 500, height: 500, vAlign: 'top' });
  });

  test('reads imagor trims, paddings and b64: images into their option forms', () => {
    assert.deepEqual(parseImagorUrl('/unsafe/trim:bottom-right/fit-in/100x100/1x2:3x4/b64:' + b64('a b.png')).options, {
      image: 'a b.png',
      base64Image: true,
      trim: { by: 'bottom-right' },
      fitIn: true,
      width: 100,
      height: 100,
      padding: { left: 1, top: 2, right: 3, bottom: 4 },
    });
  });

  const filterArb = fc.oneof(
    fc.integer({ min: 0, max: 100 }).map((q) => f.quality(q)),
    fc.constantFrom(...(['jpeg', 'png', 'webp', 'avif'] as const)).map((x) => f.format(x)),
    fc.constantFrom('red', 'blur', 'auto', '#abcdef', 'none').map((c) => f.fill(c)),
    fc.double({ min: -100, max: 100, noNaN: true }).map((x) => f.brightness(x)),
    fc.record({ image: fc.string({ minLength: 1 }), x: fc.integer({ min: -500, max: 500 }), y: fc.constantFrom('top', 'bottom', 'center', '10p', 'repeat'), alpha: fc.integer({ min: 0, max: 100 }) }).map((w) => f.watermark(w)),
    fc.string({ minLength: 1 }).map((t) => f.text(t, { x: 'center', color: 'white' })),
    fc.constant(f.grayscale()),
    fc.constant(f.stripExif()),
  );
  const fraction = (max: number) => fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: max, maxExcluded: true, noNaN: true }));
  const optionsArb: fc.Arbitrary<ImagorOptions> = fc
    .record(
      {
        image: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string({ minLength: 1 }), fc.string({ minLength: 1, unit: 'grapheme' })),
        presets: fc.array(fc.stringMatching(/^[a-z0-9_-]{1,8}$/), { minLength: 1, maxLength: 3 }),
        meta: fc.constant(true),
        trim: fc.oneof(fc.constant(true as const), fc.record({ by: fc.constant('bottom-right' as const) }), fc.record({ tolerance: fc.integer({ min: 1, max: 442 }) })),
        crop: fc.record({ left: fraction(1), top: fraction(1), right: fraction(2), bottom: fraction(2) }).filter((c) => c.left + c.top + c.right + c.bottom > 0),
        fitIn: fc.constant(true),
        adaptive: fc.constant(true),
        full: fc.constant(true),
        stretch: fc.constant(true),
        width: fc.integer({ min: 1, max: 20000 }),
        height: fc.integer({ min: 1, max: 20000 }),
        hFlip: fc.constant(true),
        vFlip: fc.constant(true),
        padding: fc.oneof(
          fc.integer({ min: 1, max: 100 }),
          fc.record({ left: fc.nat(50), top: fc.nat(50), right: fc.nat(50), bottom: fc.nat(50) }).filter((p) => new Set([p.left, p.top, p.right, p.bottom]).size > 1),
        ),
        hAlign: fc.constantFrom('left' as const, 'right' as const),
        vAlign: fc.constantFrom('top' as const, 'bottom' as const),
        smart: fc.constant(true),
        filters: fc.array(filterArb, { minLength: 1, maxLength: 4 }),
      },
      { requiredKeys: ['image'] },
    )
    .map((o) => (o.fitIn ? o : { ...o, adaptive: undefined, full: undefined }))
    .map((o) => JSON.parse(JSON.stringify(o)) as ImagorOptions);

  test('gives back the options a URL was built from, for every combination of segments and filters', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, async (options) => {
        const url = await imagorUrl(options, { secret: 'k', baseUrl: 'https://img.example.com' });
        const parsed = parseImagorUrl(url);
        const { base64Image, ...back } = parsed.options;
        assert.deepEqual(back, options);
        assert.equal(typeof base64Image === 'boolean' || base64Image === undefined, true);
        assert.equal(await verifyImagorUrl(url, { secret: 'k' }), true);
      }),
      { numRuns: 400 },
    );
  });
});

describe('verifyImagorUrl', () => {
  test('accepts the documented vector and refuses other secrets, types and changed paths', async () => {
    const url = 'https://img.example.com/cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/' + GOPHER;
    assert.equal(await verifyImagorUrl(url, { secret: 'mysecret' }), true);
    assert.equal(await verifyImagorUrl(url, { secret: ['old', 'mysecret'] }), true);
    assert.equal(await verifyImagorUrl(url, { secret: 'other' }), false);
    assert.equal(await verifyImagorUrl(url, { secret: 'mysecret', type: 'sha256' }), false);
    assert.equal(await verifyImagorUrl(url.replace('500x500', '501x500'), { secret: 'mysecret' }), false);
    assert.equal(await verifyImagorUrl('/IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy/' + GOPHER, { secret: 'mysecret', type: 'sha256', truncate: 40 }), true);
  });

  test('gives false for unsafe/ URLs and URLs without a hash', async () => {
    assert.equal(await verifyImagorUrl('/unsafe/' + GOPHER, { secret: 'mysecret' }), false);
    assert.equal(await verifyImagorUrl('/' + GOPHER, { secret: 'mysecret' }), false);
  });

  test('accepts a URL whose filters a crawler escaped, as imagor retries the unescaped path', async () => {
    // imagor's imagor_test.go signs filters:fill(red)/gopher.png with secret 1234 (vector also in verify tests).
    assert.equal(await verifyImagorUrl('/GSqGN9NrCj-DlGT38BaycScxM9g=/filters%3Afill%28red%29/gopher.png', { secret: '1234' }), true);
  });
});

describe("thumbor's tone and kernel filters", () => {
  const same: ImagorCurve = [[0, 0], [255, 255]];
  // Texts from thumbor: docs/noise.rst, docs/equalize.rst, docs/convolution.rst, the docstring of
  // thumbor/filters/curve.py; colorize from a .NET thumbor client's tests (`colorize(1,2,3,AAAAAA)`) and a
  // globo.com logo URL (`colorize(100,100,100,AAAAAA)`). sepia() is pixgate's own (thumbor and imagor have
  // none) and takes no argument.
  const written: Array<[ImagorFilter, string]> = [
    [f.sepia(), 'sepia()'],
    [f.equalize(), 'equalize()'],
    [f.noise(40), 'noise(40)'],
    [f.noise(40, 7), 'noise(40,7)'],
    [f.colorize(1, 2, 3, 'AAAAAA'), 'colorize(1,2,3,AAAAAA)'],
    [f.colorize(100, 100, 100, '#AAAAAA'), 'colorize(100,100,100,AAAAAA)'],
    [f.colorize(12.5, 0, 0, 'red'), 'colorize(12.5,0,0,red)'],
    [f.convolution([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), 'convolution(1;2;1;2;4;2;1;2;1,3,true)'],
    [f.convolution([1, 2, 1, 2, 4, 2, 1, 2, 1], 3, true), 'convolution(1;2;1;2;4;2;1;2;1,3,true)'],
    [f.convolution([-1, -1, -1, -1, 8, -1, -1, -1, -1], 3, false), 'convolution(-1;-1;-1;-1;8;-1;-1;-1;-1,3,false)'],
    [f.convolution([[0.5, 1, 0.5]], false), 'convolution(0.5;1;0.5,3,false)'],
    [
      f.curve(
        [[0, 0], [40, 59], [255, 255]],
        [[32, 59], [64, 80], [92, 111], [128, 153], [140, 169], [164, 201], [192, 214], [224, 215], [240, 214], [255, 212]],
        [[34, 41], [64, 51], [92, 76], [128, 112], [140, 124], [164, 147], [192, 180], [224, 216], [240, 236], [255, 255]],
        [[40, 46], [64, 55], [92, 83], [128, 127], [140, 144], [164, 174], [192, 197], [224, 199], [240, 197], [255, 198]],
      ),
      'curve([(0,0),(40,59),(255,255)],[(32,59),(64,80),(92,111),(128,153),(140,169),(164,201),(192,214),(224,215),(240,214),(255,212)],' +
        '[(34,41),(64,51),(92,76),(128,112),(140,124),(164,147),(192,180),(224,216),(240,236),(255,255)],' +
        '[(40,46),(64,55),(92,83),(128,127),(140,144),(164,174),(192,197),(224,199),(240,197),(255,198)])',
    ],
  ];
  for (const [made, text] of written) {
    test(`writes ${text.length > 60 ? text.slice(0, 57) + '...' : text}`, () => assert.equal(filterText(made), text));
  }

  /** What the server makes of the filter in a URL built by the sdk: its strict reading, applied. */
  function serverEffect(made: ImagorFilter): unknown {
    const filters = parseImagorUrl(imagorUrlSync({ image: 'a.png', filters: [made] }, { secret: 's' }, nodeMac)).options.filters!;
    const [prepared, ...rest] = prepareFilters(filters, { lenient: false });
    assert.equal(rest.length, 0);
    const state: PixelState = { size: { width: 10, height: 10 }, frames: 1, hasAlpha: false, box: { width: 10, height: 10 }, padding: { left: 0, top: 0, right: 0, bottom: 0 }, rotated90: false };
    const steps = prepared!.apply!(state).steps;
    assert.equal(steps.length, 1);
    return (steps[0] as { effect: unknown }).effect;
  }

  const identity = Array.from({ length: 256 }, (_, x) => x);
  const rounded = (e: unknown): unknown => JSON.parse(JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v)));
  // Expected effects follow thumbor's definitions, worked out by hand: colorize moves each channel p% of the way
  // to the fill's channel (out = (1 - p) * in + p * fill); a normalised kernel is divided by its sum; a curve
  // through two points is the straight line between them.
  const effects: Array<[string, ImagorFilter, (effect: Record<string, unknown>) => void]> = [
    ['colorize', f.colorize(40, 80, 20, 'ff0000'), (e) => assert.deepEqual(rounded(e), { kind: 'linear', a: [0.6, 0.2, 0.8], b: [102, 0, 0] })],
    ['equalize', f.equalize(), (e) => assert.deepEqual(e, { kind: 'equalize' })],
    ['sepia', f.sepia(), (e) => assert.equal(e.kind, 'recomb')],
    ['noise with a seed', f.noise(40, 7), (e) => assert.deepEqual(e, { kind: 'noise', amount: 40, seed: 7 })],
    ['a normalised kernel', f.convolution([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), (e) => assert.deepEqual(e, { kind: 'convolve', width: 3, height: 3, kernel: [1, 2, 1, 2, 4, 2, 1, 2, 1].map((k) => k / 16) })],
    ['a kernel left as it is', f.convolution([-1, -1, -1, -1, 8, -1, -1, -1, -1], 3, false), (e) => assert.deepEqual(e, { kind: 'convolve', width: 3, height: 3, kernel: [-1, -1, -1, -1, 8, -1, -1, -1, -1] })],
    ['a one-row kernel', f.convolution([[1, 1, 1]]), (e) => assert.deepEqual(e, { kind: 'convolve', width: 3, height: 1, kernel: [1 / 3, 1 / 3, 1 / 3] })],
    [
      'a curve on red only',
      f.curve(same, [[0, 50], [255, 255]], same, same),
      (e) => assert.deepEqual(e, { kind: 'lut', tables: [identity.map((x) => Math.round(50 + (205 * x) / 255)), identity, identity] }),
    ],
  ];
  for (const [name, made, check] of effects) {
    test(`the server reads ${name} as the sdk wrote it`, () => check(serverEffect(made) as Record<string, unknown>));
  }

  test('curve() brackets go into the URL as they are, and a browser sends them unchanged', () => {
    const url = imagorUrlSync({ image: 'a.png', filters: [f.curve(same, same, same, [[0, 10], [255, 245]])] }, { secret: 's', baseUrl: 'https://img.example.com' }, nodeMac);
    assert.match(url, /\/filters:curve\(\[\(0,0\),\(255,255\)\],\[/);
    // WHATWG URL is how browsers and fetch() read the URL before sending it.
    assert.equal(new URL(url).href, url);
  });

  test('an image with brackets is still sent as b64: when a curve() holds brackets too', () => {
    const path = buildImagorPath({ image: 'http://[::1]/a.png', filters: [f.curve(same, same, same, same)] });
    assert.equal(path, `filters:${filterText(f.curve(same, same, same, same))}/b64:${b64('http://[::1]/a.png')}`);
  });

  test('the kernel size limit is the server one', () => {
    const side = (n: number) => Array.from({ length: n }, () => Array.from({ length: n }, () => 1));
    assert.doesNotThrow(() => serverEffect(f.convolution(side(MAX_KERNEL_SIDE))));
    assert.throws(() => f.convolution(side(MAX_KERNEL_SIDE + 2)), isCode('INVALID_PARAMS'));
  });

  const refused: Array<[string, () => unknown]> = [
    ['a colorize percentage above 100', () => f.colorize(101, 0, 0, 'red')],
    ['a negative colorize percentage', () => f.colorize(0, -1, 0, 'red')],
    ['colorize onto auto, which is not a colour to mix with', () => f.colorize(10, 10, 10, 'auto')],
    ['colorize onto transparent', () => f.colorize(10, 10, 10, 'Transparent')],
    ['colorize onto blur', () => f.colorize(10, 10, 10, 'blur')],
    ['an empty curve', () => f.curve([], same, same, same)],
    ['a curve whose x does not rise', () => f.curve(same, [[0, 0], [0, 10]], same, same)],
    ['a curve point above 255', () => f.curve(same, same, [[0, 0], [255, 256]], same)],
    ['a fractional curve point', () => f.curve(same, same, same, [[0, 0.5], [255, 255]])],
    ['a curve point that is not a pair', () => f.curve([[0, 0, 0]] as unknown as ImagorCurve, same, same, same)],
    ['noise above 100', () => f.noise(101)],
    ['fractional noise', () => f.noise(40.5)],
    ['a negative noise seed', () => f.noise(10, -1)],
    ['a noise seed beyond 32 bits', () => f.noise(10, 2 ** 32)],
    ['a kernel with an even number of columns', () => f.convolution([1, 1, 1, 1], 2)],
    ['a kernel with an even number of rows', () => f.convolution([[1, 1, 1], [1, 1, 1]])],
    ['kernel rows of different lengths', () => f.convolution([[1, 1, 1], [1, 1], [1, 1, 1]])],
    ['kernel items that do not fill the rows', () => f.convolution([1, 1, 1, 1, 1], 3)],
    ['a kernel item that is not finite', () => f.convolution([1, Number.NaN, 1], 3)],
    ['an empty kernel', () => f.convolution([], 1)],
    ['a kernel normalize flag that is not a boolean', () => f.convolution([1, 1, 1], 3, 'yes' as unknown as boolean)],
  ];
  for (const [name, fn] of refused) {
    test(`refuses ${name}`, () => assert.throws(fn, isCode('INVALID_PARAMS')));
  }

  const point = fc.integer({ min: 0, max: 255 });
  const curveArb: fc.Arbitrary<ImagorCurve> = fc
    .uniqueArray(point, { minLength: 1, maxLength: 12 })
    .chain((xs) => fc.tuple(...[...xs].sort((a, b) => a - b).map((x) => point.map((y) => [x, y] as const))));
  const odd = fc.integer({ min: 0, max: 4 }).map((n) => 2 * n + 1);
  const kernelArb = fc
    .tuple(odd, odd)
    .chain(([w, h]) => fc.array(fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: w, maxLength: w }), { minLength: h, maxLength: h }));
  const toneArb: fc.Arbitrary<ImagorFilter> = fc.oneof(
    fc.constant(f.sepia()),
    fc.constant(f.equalize()),
    fc.tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom('ff0000', '#00FF00', 'abc', 'navy', 'ffffff80'))
      .map(([r, g, b, c]) => f.colorize(r, g, b, c)),
    fc.tuple(curveArb, curveArb, curveArb, curveArb).map(([a, r, g, b]) => f.curve(a, r, g, b)),
    fc.tuple(fc.integer({ min: 0, max: 100 }), fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined })).map(([a, seed]) => f.noise(a, seed)),
    fc.tuple(kernelArb, fc.option(fc.boolean(), { nil: undefined })).map(([k, n]) => f.convolution(k, n)),
  );

  test('build -> parseImagorUrl gives back the same options, and the server accepts every filter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(toneArb, { minLength: 1, maxLength: 4 }), fc.boolean(), async (filters, fitIn) => {
        const options: ImagorOptions = fitIn ? { image: 'https://example.com/a.jpg', fitIn: true, width: 100, height: 80, filters } : { image: 'a.png', filters };
        const url = await imagorUrl(options, { secret: 'k', baseUrl: 'https://img.example.com' });
        assert.deepEqual(parseImagorUrl(url).options, options);
        assert.equal(await verifyImagorUrl(url, { secret: 'k' }), true);
        assert.equal(prepareFilters(parseImagorUrl(url).options.filters!, { lenient: false }).length, filters.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the synchronous variants', () => {
  const noMac = undefined as unknown as Parameters<typeof signImagorPathSync>[2];
  const names: Array<[string, () => unknown]> = [
    ['signImagorPathSync', () => signImagorPathSync(GOPHER, { secret: 'mysecret' }, noMac)],
    ['imagorUrlSync', () => imagorUrlSync({ image: 'a.png' }, { secret: 'mysecret' }, noMac)],
  ];
  for (const [name, call] of names) {
    test(`${name} without a MAC throws INVALID_PARAMS naming mac, not a TypeError`, () => {
      assert.throws(call, (e: unknown) => isCode('INVALID_PARAMS')(e) && /\bmac\b/.test((e as Error).message) && /async|Web Crypto/.test((e as Error).message));
    });
  }

  test('refuse an asynchronous MAC, which would sign with a Promise', () => {
    const asyncMac = (async () => new Uint8Array(20)) as unknown as Parameters<typeof signImagorPathSync>[2];
    assert.throws(() => signImagorPathSync(GOPHER, { secret: 'mysecret' }, asyncMac), (e: unknown) => isCode('INVALID_PARAMS')(e) && /Promise/.test((e as Error).message));
  });

  test('imagorUrlSync needs no MAC for an unsafe URL', () => {
    assert.equal(imagorUrlSync({ image: 'a.png', width: 10 }, { unsafe: true }, noMac), '/unsafe/10x0/a.png');
  });

  test('the async variants refuse a mac that is not a function', async () => {
    const mac = 'sha1' as unknown as undefined;
    await assert.rejects(signImagorPath(GOPHER, { secret: 's', mac }), isCode('INVALID_PARAMS'));
    await assert.rejects(imagorUrl({ image: 'a.png' }, { secret: 's', mac }), isCode('INVALID_PARAMS'));
    await assert.rejects(verifyImagorUrl('/' + GOPHER, { secret: 's', mac }), isCode('INVALID_PARAMS'));
  });
});
