import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  escapePathSegment,
  formatFloat,
  generateImagorPath,
  generateImagorUrl,
  generateImagorUrlAsync,
} from '../../../src/parse/imagor-generate.js';
import { createImagorParams, type Filter, type ImagorParams } from '../../../src/parse/imagor-params.js';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { createImagorPathSigner, signImagorPathAsync } from '../../../src/verify/imagor-signature.js';
import { nodeMac } from '../../../src/verify/node-mac.js';
import type { AsyncMacFn } from '../../../src/verify/mac.js';

const sha1 = (secret: string) => createImagorPathSigner({ secret, type: 'sha1', truncate: 0 }, nodeMac);

describe("imagor's canonical paths come back unchanged", () => {
  // URIs from imagor's imagorpath/params_test.go TestParseGenerate (cshum/imagor e7cd514f), where imagor
  // checks that Generate(Parse(uri)) == uri.
  const unsigned = [
    'meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/img',
    'meta/trim:bottom-right:100/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg',
    'meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/b64:bXkgaW1hZ2UgKHNwZWNpYWwpPy5qcGc',
    'meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/b64:some-file.jpg',
    'filters:watermark(s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg,0,0,0)/img',
    'filters:watermark(s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg,0,0,0):brightness(-50):grayscale()/img',
    'filters:watermark(s.glbimg.com/filters:label(abc):watermark(aaa.com/fit-in/filters:aaa(bbb))/aaa.jpg,0,0,0):brightness(-50):grayscale()/img',
    'filters:label(哈哈,1,2,3):brightness(-50):grayscale()/img',
    'meta/trim/0.2x0.15:0.45x0.67/fit-in/-300x-200/left/top/smart/filters:some_filter()/img',
    'adaptive-fit-in/300x200/img',
    'full-fit-in/300x200/img',
    'adaptive-fit-in/300x200/filters:blur(5)/img',
    'full-fit-in/300x200/smart/img',
    '949x1000/img.jpg',
    '-1920x-1080/img.jpg',
    '99999x99999/img.jpg',
  ];
  for (const uri of unsigned) {
    test(`path ${uri.slice(0, 60)}`, () => assert.equal(generateImagorPath(parseImagorPath(uri)), uri));
  }
  const unsafe = [
    'unsafe/https://foobar/en/latest/_images/man_before_sharpen.png',
    'unsafe/https:%2F%2Ffoobar%2Fen%2Flatest%2F_images%2Fman_before_sharpen.png%3Ffoo=bar',
    'unsafe/trim%2Fimg',
    'unsafe/meta%2Fimg',
    'unsafe/center%2Fimg',
    'unsafe/smart%2Fimg',
    'unsafe/fit-in%2Fimg',
    'unsafe/stretch%2Fimg',
    'unsafe/top%2Fimg',
    'unsafe/left%2Fimg',
    'unsafe/right%2Fimg',
    'unsafe/bottom%2Fimg',
    'unsafe/photo%281%29.jpg',
    'unsafe/photo%2Cversion2.jpg',
    'unsafe/my%20image%20%28special%2C%20v2%29.jpg',
    'unsafe/filters:blur(5)/photo%281%29.jpg',
    'unsafe/fit-in/0x0/5x6:7x8/https://foobar/en/latest/_images/man_before_sharpen.png',
    'unsafe/stretch/500x350/filters:watermark(http://thumborize.me/static/img/beach.jpg,100,100,50)/http://thumborize.me/static/img/beach.jpg',
    'unsafe/949x1000/Google Photos/IMG_20180519_191530.jpg',
  ];
  for (const uri of unsafe) {
    test(`unsafe url ${uri.slice(0, 60)}`, () => assert.equal(generateImagorUrl(parseImagorPath(uri)), uri));
  }
  test('signed urls with the default and a sha256/40 signer', () => {
    const path = 'meta/10x11:12x13/fit-in/-300x-200/5x6/left/top/smart/filters:some_filter()/img';
    const p = parseImagorPath(`VTAq7YIRbEXgtwAcsTMhAjvBuT8=/${path}`);
    assert.equal(generateImagorUrl(p, sha1('1234')), `VTAq7YIRbEXgtwAcsTMhAjvBuT8=/${path}`);
    const sha256 = createImagorPathSigner({ secret: '1234', type: 'sha256', truncate: 40 }, nodeMac);
    assert.equal(generateImagorUrl(p, sha256), `XBCO7esuLsNQuSF2v9ie36pESRGx2rzLjhUxXWnV/${path}`);
  });
});

describe('generation from params', () => {
  test("signs imagor's README example", () => {
    // imagorpath/README.md (cshum/imagor e7cd514f)
    const url = generateImagorUrl(
      {
        image: 'raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png',
        fitIn: true,
        width: 500,
        height: 400,
        paddingTop: 20,
        paddingBottom: 20,
        filters: [{ name: 'fill', args: 'white' }],
      },
      sha1('mysecret'),
    );
    assert.equal(url, 'OyGJyvfYJw8xNkYDmXU-4NPA2U0=/fit-in/500x400/0x20/filters:fill(white)/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png');
  });

  test('turns negative sizes into flips (imagor TestParamsNegativeDimensionFlip)', () => {
    assert.equal(generateImagorUrl({ width: -167, height: -169, image: 'foobar' }), 'unsafe/-167x-169/foobar');
    assert.equal(generateImagorPath({ width: -1, hFlip: true, image: 'a' }), '1x0/a');
  });

  test('writes the unsafe prefix without a signer and the async signer with one', async () => {
    assert.equal(generateImagorUrl({ image: 'a.jpg' }), 'unsafe/a.jpg');
    const asyncMac: AsyncMacFn = async (alg, key, msg) => nodeMac(alg, key, msg);
    const signer = { secret: 'mysecret', type: 'sha1' as const, truncate: 0 };
    const url = await generateImagorUrlAsync(
      { width: 500, height: 500, vAlign: 'top', image: 'raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png' },
      (path) => signImagorPathAsync(path, signer, asyncMac),
    );
    // imagor docs/docs/security.mdx vector
    assert.equal(url, 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png');
  });

  test('drops what imagor cannot write: center, middle, adaptive without fit-in', () => {
    assert.equal(generateImagorPath({ hAlign: 'center', vAlign: 'middle', adaptiveFitIn: true, fullFitIn: true, image: 'a' }), 'a');
  });

  test('writes trim, crop and padding forms', () => {
    const table: Array<[Partial<ImagorParams>, string]> = [
      [{ trim: true }, 'trim/'],
      [{ trim: true, trimBy: 'bottom-right', trimTolerance: 3 }, 'trim:bottom-right:3/'],
      [{ trim: true, trimTolerance: 3 }, 'trim:3/'],
      [{ trimTolerance: 3 }, ''],
      [{ cropLeft: 0.25, cropBottom: 1.5 }, '0.25x0:0x1.5/'],
      [{ cropLeft: 1e-7, cropTop: 1e21, cropRight: 1, cropBottom: 2 }, '0.0000001x1000000000000000000000:1x2/'],
      [{ paddingLeft: 3, paddingTop: 4, paddingRight: 3, paddingBottom: 4 }, '0x0/3x4/'],
      [{ paddingLeft: 3, paddingTop: 4, paddingRight: 5, paddingBottom: 6 }, '0x0/3x4:5x6/'],
      [{ fitIn: true, paddingRight: 5, paddingBottom: 6 }, 'fit-in/0x0:5x6/'],
      // imagor writes `0x0:5x6` here, which reads back as a crop; a size in front keeps it padding
      [{ paddingRight: 5, paddingBottom: 6 }, '0x0/0x0:5x6/'],
      [{ hFlip: true }, '-0x0/'],
      [{ fitIn: true, adaptiveFitIn: true, fullFitIn: true, stretch: true }, 'adaptive-full-fit-in/stretch/'],
    ];
    for (const [fields, prefix] of table) {
      assert.equal(generateImagorPath({ ...fields, image: 'a.jpg' }), `${prefix}a.jpg`, JSON.stringify(fields));
    }
  });

  test('refuses numbers imagor cannot write', () => {
    const bad: Array<Partial<ImagorParams>> = [
      { width: 1.5 },
      { height: Number.NaN },
      { paddingLeft: -1 },
      { trimTolerance: -2 },
      { cropLeft: -0.5 },
      { cropTop: Number.POSITIVE_INFINITY },
    ];
    for (const fields of bad) {
      assert.throws(() => generateImagorPath(fields), (e) => isPixgateError(e) && e.code === 'INVALID_PARAMS', JSON.stringify(fields));
    }
  });
});

describe('image escaping', () => {
  test("escapes as imagor does: ? ( ) , anywhere, segment names at the start (Go's url.PathEscape)", () => {
    const table: Array<[string, string]> = [
      ['a.com/b.jpg?x=1&y=2', 'a.com%2Fb.jpg%3Fx=1&y=2'],
      ['photo(1).jpg', 'photo%281%29.jpg'],
      ['my image (special, v2).jpg', 'my%20image%20%28special%2C%20v2%29.jpg'],
      ['trim/a.jpg', 'trim%2Fa.jpg'],
      ['smart/a.jpg', 'smart%2Fa.jpg'],
      ['a b.jpg', 'a b.jpg'],
      ['https://a.com/哈.png', 'https://a.com/哈.png'],
      ['a.com/smart/x.jpg', 'a.com/smart/x.jpg'],
    ];
    for (const [image, text] of table) assert.equal(generateImagorPath({ image }), text, image);
  });

  test("escapes where imagor's text would read back differently", () => {
    const table: Array<[Partial<ImagorParams>, string]> = [
      [{ image: 'a%20b.jpg' }, 'a%2520b.jpg'],
      [{ image: 'a+b.jpg' }, 'a%2Bb.jpg'],
      [{ image: 'a+b?.jpg' }, 'a%2Bb%3F.jpg'],
      [{ image: '/a.jpg' }, '%2Fa.jpg'],
      [{ meta: true, image: '/a.jpg' }, 'meta//a.jpg'],
      [{ image: '300x200/a.jpg' }, '300x200%2Fa.jpg'],
      [{ image: 'adaptive-fit-in/a.jpg' }, 'adaptive-fit-in%2Fa.jpg'],
      [{ image: 'filters:blur(1)/a.jpg' }, 'filters%3Ablur%281%29%2Fa.jpg'],
      [{ image: 'a\nb.jpg' }, 'a%0Ab.jpg'],
      // after fit-in a size-like image would be read as the size
      [{ fitIn: true, image: '10x10/a.jpg' }, 'fit-in/10x10%2Fa.jpg'],
      // but once the size slot is used it is plain text
      [{ width: 1, height: 1, image: 'top10/a.jpg' }, '1x1/top10/a.jpg'],
    ];
    for (const [fields, text] of table) {
      const path = generateImagorPath(fields);
      assert.equal(path, text, JSON.stringify(fields));
      assert.equal(parseImagorPath(`unsafe/${path}`).image, fields.image);
    }
  });

  test('writes a literal b64: image that would decode in base64 so the image survives', () => {
    const path = generateImagorPath({ image: 'b64:aGk' });
    const back = parseImagorPath(`unsafe/${path}`);
    assert.equal(back.image, 'b64:aGk');
    assert.equal(back.base64Image, true);
    assert.equal(generateImagorPath({ image: 'b64:not base64!' }), 'b64:not base64!');
  });

  test('encodes base64 images as unpadded base64url', () => {
    assert.equal(generateImagorPath({ image: 'my image (special)?.jpg', base64Image: true }), 'b64:bXkgaW1hZ2UgKHNwZWNpYWwpPy5qcGc');
    assert.equal(generateImagorPath({ image: '', base64Image: true }), 'b64:');
  });

  test("PathEscape keeps Go's reserved-but-allowed characters", () => {
    assert.equal(escapePathSegment("$&+:=@-_.~!*'/;,? %"), "$&+:=@-_.~%21%2A%27%2F%3B%2C%3F%20%25");
  });
});

describe('formatFloat', () => {
  test("writes Go's FormatFloat(x, 'f', -1, 64) digits", () => {
    const table: Array<[number, string]> = [
      [0, '0'],
      [0.1, '0.1'],
      [1.5, '1.5'],
      [123.456, '123.456'],
      [1e-7, '0.0000001'],
      [1.25e-10, '0.000000000125'],
      [1e21, '1000000000000000000000'],
      [1.5e22, '15000000000000000000000'],
      [-2e-7, '-0.0000002'],
    ];
    for (const [x, text] of table) assert.equal(formatFloat(x), text, String(x));
  });

  test('reads back to the same number', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      assert.equal(Number.parseFloat(formatFloat(x)), x);
    }));
  });
});

// Valid params: everything imagor's grammar can express.
const filterName = fc.string({ unit: fc.constantFrom('a', 'z', '_', '-', '1', '.', ',', '%', '+', '?', '哈', ' '), minLength: 1, maxLength: 8 });
const argText = fc.string({ unit: fc.constantFrom('a', '0', ',', ':', '/', '.', '-', '%', '+', '?', '=', '哈', ' ', '_'), maxLength: 6 });
const filterArgs: fc.Memo<string> = fc.memo((n) =>
  n <= 1
    ? argText
    : fc.array(fc.oneof(argText, filterArgs(n - 1).map((s) => `(${s})`)), { maxLength: 3 }).map((parts) => parts.join('')),
);
// fc.record builds null-prototype objects; deepStrictEqual would tell them apart from parsed ones.
const filter: fc.Arbitrary<Filter> = fc.tuple(filterName, filterArgs(3)).map(([name, args]) => ({ name, args }));
const imageTokens = fc.constantFrom(
  'a', '.jpg', '/', '//', 'http://x.com/', '?q=1', '(', ')', ',', '%', '%20', '+', ' ', ':', 'filters:', 'b(1)', 'trim/', 'meta/',
  'fit-in/', 'adaptive-fit-in/', 'stretch/', '300x200/', '1x2:3x4/', 'left/', 'top/', 'middle/', 'smart/', 'unsafe/',
  'params/', 'abcdefghijklmnopq/', '\n', '\u2028', '哈', 'color:red', '=',
);
const image = fc
  .oneof(fc.string({ unit: 'binary' }), fc.array(imageTokens, { maxLength: 8 }).map((t) => t.join('')))
  .filter((s) => !s.startsWith('b64:'));
const leftTop = fc.oneof(fc.nat(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })).map((x) => (x === 0 ? 0 : x));
const rightBottom = fc.oneof(fc.nat(), fc.double({ min: 0, max: 2, maxExcluded: true, noNaN: true })).map((x) => (x === 0 ? 0 : x));
const validParams: fc.Arbitrary<ImagorParams> = fc
  .record({
    image,
    base64Image: fc.boolean(),
    meta: fc.boolean(),
    trim: fc.boolean(),
    trimBy: fc.constantFrom('top-left' as const, 'bottom-right' as const),
    trimTolerance: fc.nat(),
    cropLeft: leftTop,
    cropTop: leftTop,
    cropRight: rightBottom,
    cropBottom: rightBottom,
    fitIn: fc.boolean(),
    adaptiveFitIn: fc.boolean(),
    fullFitIn: fc.boolean(),
    stretch: fc.boolean(),
    width: fc.nat(),
    height: fc.nat(),
    paddingLeft: fc.nat(),
    paddingTop: fc.nat(),
    paddingRight: fc.nat(),
    paddingBottom: fc.nat(),
    hFlip: fc.boolean(),
    vFlip: fc.boolean(),
    hAlign: fc.constantFrom('' as const, 'left' as const, 'right' as const),
    vAlign: fc.constantFrom('' as const, 'top' as const, 'bottom' as const),
    smart: fc.boolean(),
    filters: fc.array(filter, { maxLength: 3 }),
  })
  .map((r) =>
    createImagorParams({
      ...r,
      trimBy: r.trim ? r.trimBy : 'top-left',
      trimTolerance: r.trim ? r.trimTolerance : 0,
      adaptiveFitIn: r.fitIn && r.adaptiveFitIn,
      fullFitIn: r.fitIn && r.fullFitIn,
    }),
  );

describe('round trips', () => {
  test('parse(generate(p)) equals p for every valid p, signed', () => {
    const sign = createImagorPathSigner({ secret: 'k', type: 'sha256', truncate: 0 }, nodeMac);
    fc.assert(
      fc.property(validParams, (p) => {
        const url = generateImagorUrl(p, sign);
        const path = generateImagorPath(p);
        assert.deepEqual(parseImagorPath(`/${url}`), { ...p, path, hash: sign(path) });
      }),
      { numRuns: 2000 },
    );
  });

  test('parse(generate(p)) equals p for every valid p, unsafe', () => {
    fc.assert(
      fc.property(validParams, (p) => {
        assert.deepEqual(parseImagorPath(generateImagorUrl(p)), { ...p, path: generateImagorPath(p), unsafe: true });
      }),
      { numRuns: 1000 },
    );
  });

  // A nameless filter (from `filters::x()`) is not always written back readably, by imagor either; skip those.
  test('generation is a fixed point after one parse of any text', () => {
    const tokens = fc.constantFrom(
      '/', 'unsafe/', 'meta/', 'trim:5/', '1x2:3x4/', 'fit-in/', 'stretch/', '-300x/', '5x6/', 'left/', 'middle/', 'smart/',
      'filters:', 'blur(1)', '(', ')', ':', ',', 'a', '%20', '%28', '+', 'b64:', 'aGk', '\n', '哈',
    );
    fc.assert(
      fc.property(fc.array(tokens, { maxLength: 16 }).map((t) => t.join('')), (s) => {
        const parsed = parseImagorPath(`unsafe/${s}`);
        fc.pre(parsed.filters.every((f) => f.name !== ''));
        const once = generateImagorPath(parsed);
        assert.equal(generateImagorPath(parseImagorPath(`unsafe/${once}`)), once);
      }),
      { numRuns: 3000 },
    );
  });
});

test('treats undefined fields as unset', () => {
  assert.equal(generateImagorPath({ width: undefined, fitIn: undefined, image: 'a.jpg' }), 'a.jpg');
});
