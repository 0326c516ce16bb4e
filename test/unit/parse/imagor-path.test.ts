import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createImagorParams, toImagorJson, type ImagorParams } from '../../../src/parse/imagor-params.js';
import {
  colorImageSpec,
  isColorImage,
  parseImagorParamsPath,
  parseImagorPath,
  parseImagorUrlPath,
  queryUnescape,
  stripLineBreaks,
} from '../../../src/parse/imagor-path.js';

type Case = readonly [url: string, expected: Partial<ImagorParams>];

function check(cases: readonly Case[]): void {
  for (const [url, expected] of cases) {
    test(`reads ${JSON.stringify(url)}`, () => {
      const { path: _ignored, ...got } = parseImagorPath(url);
      const { path: _ignored2, ...want } = createImagorParams(expected);
      assert.deepEqual(got, want);
    });
  }
}

// Cases and results copied from imagor's imagorpath/params_test.go TestParseGenerate (cshum/imagor e7cd514f).
describe("imagor's own parse vectors", () => {
  const full = {
    meta: true,
    trim: true,
    cropLeft: 10,
    cropTop: 11,
    cropRight: 12,
    cropBottom: 13,
    fitIn: true,
    width: 300,
    height: 200,
    hFlip: true,
    vFlip: true,
    hAlign: 'left',
    vAlign: 'top',
    smart: true,
    filters: [{ name: 'some_filter', args: '' }],
  } as const;
  const vectors: ReadonlyArray<readonly [string, Partial<ImagorParams>]> = [
    ['meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/img', { ...full, image: 'img' }],
    [
      'meta/trim:bottom-right:100/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg',
      { ...full, trimBy: 'bottom-right', trimTolerance: 100, image: 's.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg' },
    ],
    [
      'meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/b64:bXkgaW1hZ2UgKHNwZWNpYWwpPy5qcGc',
      { ...full, image: 'my image (special)?.jpg', base64Image: true },
    ],
    ['meta/trim/10x11:12x13/fit-in/-300x-200/left/top/smart/filters:some_filter()/b64:some-file.jpg', { ...full, image: 'b64:some-file.jpg' }],
    [
      'filters:watermark(s.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg,0,0,0)/img',
      { image: 'img', filters: [{ name: 'watermark', args: 's.glbimg.com/es/ge/f/original/2011/03/29/orlandosilva_60.jpg,0,0,0' }] },
    ],
    [
      'filters:watermark(s.glbimg.com/filters:label(abc):watermark(aaa.com/fit-in/filters:aaa(bbb))/aaa.jpg,0,0,0):brightness(-50):grayscale()/img',
      {
        image: 'img',
        filters: [
          { name: 'watermark', args: 's.glbimg.com/filters:label(abc):watermark(aaa.com/fit-in/filters:aaa(bbb))/aaa.jpg,0,0,0' },
          { name: 'brightness', args: '-50' },
          { name: 'grayscale', args: '' },
        ],
      },
    ],
    [
      'filters:label(哈哈,1,2,3):brightness(-50):grayscale()/img',
      {
        image: 'img',
        filters: [
          { name: 'label', args: '哈哈,1,2,3' },
          { name: 'brightness', args: '-50' },
          { name: 'grayscale', args: '' },
        ],
      },
    ],
    ['unsafe/https://foobar/en/latest/_images/man_before_sharpen.png', { unsafe: true, image: 'https://foobar/en/latest/_images/man_before_sharpen.png' }],
    [
      'unsafe/https:%2F%2Ffoobar%2Fen%2Flatest%2F_images%2Fman_before_sharpen.png%3Ffoo=bar',
      { unsafe: true, image: 'https://foobar/en/latest/_images/man_before_sharpen.png?foo=bar' },
    ],
    ['unsafe/trim%2Fimg', { unsafe: true, image: 'trim/img' }],
    ['unsafe/center%2Fimg', { unsafe: true, image: 'center/img' }],
    ['unsafe/photo%281%29.jpg', { unsafe: true, image: 'photo(1).jpg' }],
    ['unsafe/photo%2Cversion2.jpg', { unsafe: true, image: 'photo,version2.jpg' }],
    ['unsafe/my%20image%20%28special%2C%20v2%29.jpg', { unsafe: true, image: 'my image (special, v2).jpg' }],
    ['unsafe/filters:blur(5)/photo%281%29.jpg', { unsafe: true, image: 'photo(1).jpg', filters: [{ name: 'blur', args: '5' }] }],
    [
      'unsafe/fit-in/0x0/5x6:7x8/https://foobar/en/latest/_images/man_before_sharpen.png',
      { unsafe: true, fitIn: true, paddingLeft: 5, paddingTop: 6, paddingRight: 7, paddingBottom: 8, image: 'https://foobar/en/latest/_images/man_before_sharpen.png' },
    ],
    [
      'VTAq7YIRbEXgtwAcsTMhAjvBuT8=/meta/10x11:12x13/fit-in/-300x-200/5x6/left/top/smart/filters:some_filter()/img',
      { ...full, trim: false, hash: 'VTAq7YIRbEXgtwAcsTMhAjvBuT8=', paddingLeft: 5, paddingTop: 6, paddingRight: 5, paddingBottom: 6, image: 'img' },
    ],
    [
      'meta/trim/0.2x0.15:0.45x0.67/fit-in/-300x-200/left/top/smart/filters:some_filter()/img',
      { ...full, cropLeft: 0.2, cropTop: 0.15, cropRight: 0.45, cropBottom: 0.67, image: 'img' },
    ],
    ['adaptive-fit-in/300x200/img', { fitIn: true, adaptiveFitIn: true, width: 300, height: 200, image: 'img' }],
    ['full-fit-in/300x200/img', { fitIn: true, fullFitIn: true, width: 300, height: 200, image: 'img' }],
    ['adaptive-full-fit-in/300x200/img', { fitIn: true, adaptiveFitIn: true, fullFitIn: true, width: 300, height: 200, image: 'img' }],
    ['949x1000/img.jpg', { width: 949, height: 1000, image: 'img.jpg' }],
    ['-1920x-1080/img.jpg', { width: 1920, height: 1080, hFlip: true, vFlip: true, image: 'img.jpg' }],
    ['unsafe/949x1000/Google Photos/IMG_20180519_191530.jpg', { unsafe: true, width: 949, height: 1000, image: 'Google Photos/IMG_20180519_191530.jpg' }],
    ['99999x99999/img.jpg', { width: 99999, height: 99999, image: 'img.jpg' }],
  ];
  for (const [url, expected] of vectors) {
    test(`reads ${url.slice(0, 70)}`, () => {
      const hashEnd = expected.hash ? expected.hash.length + 1 : expected.unsafe ? 'unsafe/'.length : 0;
      assert.deepEqual(parseImagorPath(url), createImagorParams({ ...expected, path: url.slice(hashEnd) }));
    });
  }
});

describe('outer split: slashes, params/, unsafe/ and the hash', () => {
  check([
    ['///unsafe/a.jpg', { unsafe: true, image: 'a.jpg' }],
    ['params/unsafe/fit-in/a.jpg', { paramsEndpoint: true, unsafe: true, fitIn: true, image: 'a.jpg' }],
    ['/params/_-19cQt1szHeUV0WyWFntvTImDI=/foo.jpg', { paramsEndpoint: true, hash: '_-19cQt1szHeUV0WyWFntvTImDI=', image: 'foo.jpg' }],
    // params/ is only recognised before the hash; after it, it is image text.
    ['unsafe/params/a.jpg', { unsafe: true, image: 'params/a.jpg' }],
    // no slashes allowed between params/ and unsafe/
    ['params//unsafe/a.jpg', { paramsEndpoint: true, image: 'unsafe/a.jpg' }],
    ['unsafe', { image: 'unsafe' }],
    ['unsafe/', { unsafe: true }],
    // 17 hash characters are a hash, 16 are not (imagor's {17,}).
    ['abcdefghijklmnopq/a.jpg', { hash: 'abcdefghijklmnopq', image: 'a.jpg' }],
    ['abcdefghijklmnop/a.jpg', { image: 'abcdefghijklmnop/a.jpg' }],
    ['A-_=0123456789xyz/a.jpg', { hash: 'A-_=0123456789xyz', image: 'a.jpg' }],
    // a dot is outside the hash alphabet, so a long host name stays in the path
    ['raw.githubusercontent.com/a.png', { image: 'raw.githubusercontent.com/a.png' }],
    // a hash needs its slash
    ['abcdefghijklmnopqrstuvwxyz', { image: 'abcdefghijklmnopqrstuvwxyz' }],
    // the one 17+ character keyword is not a hash
    ['adaptive-full-fit-in/300x200/img', { fitIn: true, adaptiveFitIn: true, fullFitIn: true, width: 300, height: 200, image: 'img' }],
    [
      'abcdefghijklmnopq/adaptive-full-fit-in/300x200/img',
      { hash: 'abcdefghijklmnopq', fitIn: true, adaptiveFitIn: true, fullFitIn: true, width: 300, height: 200, image: 'img' },
    ],
    // a long first path segment is mistaken for a hash, as in imagor
    ['my-very-long-folder-name/a.jpg', { hash: 'my-very-long-folder-name', image: 'a.jpg' }],
    ['', {}],
    ['/', {}],
  ]);

  test('keeps the signed path exactly as received after the hash, by position', () => {
    const h = 'abcdefghijklmnopqr';
    const got = parseImagorUrlPath(`/${h}/${h}/a.png`);
    assert.deepEqual(got, { kind: 'hash', hash: h, path: `${h}/a.png`, params: parseImagorPath(`/${h}/${h}/a.png`) });
    assert.equal(got.params.image, `${h}/a.png`);
  });

  test('the signed path keeps escapes, meta/ and filters; params/ is outside it', () => {
    const p = parseImagorPath('/params/unsafe/meta/filters:fill(white)/a%20b.png');
    assert.equal(p.path, 'meta/filters:fill(white)/a%20b.png');
    assert.equal(p.image, 'a b.png');
  });

  test('names the authority a path claims', () => {
    assert.equal(parseImagorUrlPath('unsafe/a.jpg').kind, 'unsafe');
    assert.equal(parseImagorUrlPath('a.jpg').kind, 'none');
    assert.equal(parseImagorUrlPath('fit-in/300x200/a.jpg').kind, 'none');
    const hashed = parseImagorUrlPath('cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/500x500/a.png');
    assert.equal(hashed.kind, 'hash');
    assert.equal(hashed.kind === 'hash' && hashed.hash, 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    assert.equal(hashed.path, '500x500/a.png');
  });

  test('strips line breaks anywhere before reading, including from the signed path', () => {
    const p = parseImagorPath('unsafe/fit-\r\nin/300x\n200/a\u2028b\u2029c\u0085d\ve\ff.jpg');
    assert.equal(p.path, 'fit-in/300x200/abcdef.jpg');
    assert.equal(p.fitIn, true);
    assert.equal(p.width, 300);
    assert.equal(p.image, 'abcdef.jpg');
    assert.equal(stripLineBreaks('a\r\nb\rc'), 'abc');
  });
});

describe('meta and trim', () => {
  check([
    ['meta/a.jpg', { meta: true, image: 'a.jpg' }],
    ['trim/a.jpg', { trim: true, image: 'a.jpg' }],
    ['trim:top-left/a.jpg', { trim: true, image: 'a.jpg' }],
    ['trim:bottom-right/a.jpg', { trim: true, trimBy: 'bottom-right', image: 'a.jpg' }],
    ['trim:100/a.jpg', { trim: true, trimTolerance: 100, image: 'a.jpg' }],
    ['trim:bottom-right:7/a.jpg', { trim: true, trimBy: 'bottom-right', trimTolerance: 7, image: 'a.jpg' }],
    ['trim:100:bottom-right/a.jpg', { image: 'trim:100:bottom-right/a.jpg' }],
    ['trim:middle/a.jpg', { image: 'trim:middle/a.jpg' }],
    ['trim:/a.jpg', { image: 'trim:/a.jpg' }],
    // meta after trim is out of order: it and the rest become the image
    ['trim/meta/a.jpg', { trim: true, image: 'meta/a.jpg' }],
    ['meta/meta/a.jpg', { meta: true, image: 'meta/a.jpg' }],
  ]);
});

describe('crop', () => {
  check([
    ['10x11:12x13/a.jpg', { cropLeft: 10, cropTop: 11, cropRight: 12, cropBottom: 13, image: 'a.jpg' }],
    ['.1x.2:.3x.4/a.jpg', { cropLeft: 0.1, cropTop: 0.2, cropRight: 0.3, cropBottom: 0.4, image: 'a.jpg' }],
    ['0.1x0.2:1.5x1.25/a.jpg', { cropLeft: 0.1, cropTop: 0.2, cropRight: 1.5, cropBottom: 1.25, image: 'a.jpg' }],
    ['0x0:0x0/a.jpg', { image: 'a.jpg' }],
    // left/top may not be 1.x, right/bottom may not be 2.x
    ['1.5x1.5:10x10/a.jpg', { image: '1.5x1.5:10x10/a.jpg' }],
    ['0x0:2.5x1/a.jpg', { image: '0x0:2.5x1/a.jpg' }],
    ['-1x0:10x10/a.jpg', { image: '-1x0:10x10/a.jpg' }],
    ['10x11:12x13:14x15/a.jpg', { image: '10x11:12x13:14x15/a.jpg' }],
    // a crop after fit-in is out of order; in the padding slot AxB:CxD is padding
    ['fit-in/10x11:12x13/a.jpg', { fitIn: true, paddingLeft: 10, paddingTop: 11, paddingRight: 12, paddingBottom: 13, image: 'a.jpg' }],
    ['trim/10x11:12x13/a.jpg', { trim: true, cropLeft: 10, cropTop: 11, cropRight: 12, cropBottom: 13, image: 'a.jpg' }],
  ]);
});

describe('fit-in, stretch and dimensions', () => {
  check([
    ['fit-in/a.jpg', { fitIn: true, image: 'a.jpg' }],
    ['adaptive-fit-in/a.jpg', { fitIn: true, adaptiveFitIn: true, image: 'a.jpg' }],
    ['full-fit-in/a.jpg', { fitIn: true, fullFitIn: true, image: 'a.jpg' }],
    ['unsafe/full-adaptive-fit-in/a.jpg', { unsafe: true, image: 'full-adaptive-fit-in/a.jpg' }],
    // only adaptive-full-fit-in is spared: any other 17+ character first segment is a hash
    ['full-adaptive-fit-in/a.jpg', { hash: 'full-adaptive-fit-in', image: 'a.jpg' }],
    ['fit-in/stretch/a.jpg', { fitIn: true, stretch: true, image: 'a.jpg' }],
    ['stretch/a.jpg', { stretch: true, image: 'a.jpg' }],
    ['stretch/fit-in/a.jpg', { stretch: true, image: 'fit-in/a.jpg' }],
    ['300x200/a.jpg', { width: 300, height: 200, image: 'a.jpg' }],
    ['300x/a.jpg', { width: 300, image: 'a.jpg' }],
    ['x300/a.jpg', { height: 300, image: 'a.jpg' }],
    ['x/a.jpg', { image: 'a.jpg' }],
    ['-x-/a.jpg', { hFlip: true, vFlip: true, image: 'a.jpg' }],
    ['-0x300/a.jpg', { hFlip: true, height: 300, image: 'a.jpg' }],
    ['0300x0200/a.jpg', { width: 300, height: 200, image: 'a.jpg' }],
    ['300x200x/a.jpg', { image: '300x200x/a.jpg' }],
    ['+300x200/a.jpg', { image: ' 300x200/a.jpg' }],
    ['--300x200/a.jpg', { image: '--300x200/a.jpg' }],
    ['300X200/a.jpg', { image: '300X200/a.jpg' }],
    ['fit-in/300x200/stretch/a.jpg', { fitIn: true, width: 300, height: 200, image: 'stretch/a.jpg' }],
    // no slash after the size: it is the image
    ['300x200', { image: '300x200' }],
    // double slash: the empty segment fits nothing
    ['fit-in//300x200/a.jpg', { fitIn: true, image: '/300x200/a.jpg' }],
    ['unsafe/99999999999999999999x1/a.jpg', { unsafe: true, width: Number.MAX_SAFE_INTEGER, height: 1, image: 'a.jpg' }],
    // 17+ digits and x: read as a hash before any size
    ['99999999999999999999x1/a.jpg', { hash: '99999999999999999999x1', image: 'a.jpg' }],
  ]);
});

describe('padding', () => {
  check([
    ['300x200/10x20/a.jpg', { width: 300, height: 200, paddingLeft: 10, paddingTop: 20, paddingRight: 10, paddingBottom: 20, image: 'a.jpg' }],
    ['300x200/1x2:3x4/a.jpg', { width: 300, height: 200, paddingLeft: 1, paddingTop: 2, paddingRight: 3, paddingBottom: 4, image: 'a.jpg' }],
    // GxH alone is a size, GxH:IxJ alone is a crop
    ['10x20/a.jpg', { width: 10, height: 20, image: 'a.jpg' }],
    ['1x2:3x4/a.jpg', { cropLeft: 1, cropTop: 2, cropRight: 3, cropBottom: 4, image: 'a.jpg' }],
    ['300x200/x20/a.jpg', { width: 300, height: 200, image: 'x20/a.jpg' }],
    ['300x200/-1x2/a.jpg', { width: 300, height: 200, image: '-1x2/a.jpg' }],
    ['300x200/1x2/3x4/a.jpg', { width: 300, height: 200, paddingLeft: 1, paddingTop: 2, paddingRight: 1, paddingBottom: 2, image: '3x4/a.jpg' }],
  ]);
});

describe('alignment and smart', () => {
  check([
    ['left/top/smart/a.jpg', { hAlign: 'left', vAlign: 'top', smart: true, image: 'a.jpg' }],
    ['right/bottom/a.jpg', { hAlign: 'right', vAlign: 'bottom', image: 'a.jpg' }],
    ['center/middle/a.jpg', { hAlign: 'center', vAlign: 'middle', image: 'a.jpg' }],
    ['top/a.jpg', { vAlign: 'top', image: 'a.jpg' }],
    ['top/left/a.jpg', { vAlign: 'top', image: 'left/a.jpg' }],
    ['smart/top/a.jpg', { smart: true, image: 'top/a.jpg' }],
    ['left/right/a.jpg', { hAlign: 'left', image: 'right/a.jpg' }],
    ['Left/a.jpg', { image: 'Left/a.jpg' }],
    ['smart', { image: 'smart' }],
  ]);
});

describe('filters segment', () => {
  check([
    ['filters:blur(1):grayscale()/a.jpg', { filters: [{ name: 'blur', args: '1' }, { name: 'grayscale', args: '' }], image: 'a.jpg' }],
    // a name without parentheses is dropped (and listed, for strict validation)
    ['filters:grayscale/a.jpg', { image: 'a.jpg', droppedFilterText: [{ kind: 'bare', text: 'grayscale' }] }],
    [
      'filters:grayscale:blur(2)/a.jpg',
      { filters: [{ name: '', args: '' }, { name: 'blur', args: '2' }], image: 'a.jpg', droppedFilterText: [{ kind: 'bare', text: 'grayscale' }] },
    ],
    // a trailing colon is harmless
    ['filters:blur(1):/a.jpg', { filters: [{ name: 'blur', args: '1' }], image: 'a.jpg' }],
    // text between `)` and `:` is dropped (imagor TestParseFilters `format()jpg`)
    [
      'filters:format()jpg:quality(80)/a.jpg',
      {
        filters: [{ name: 'format', args: '' }, { name: 'quality', args: '80' }],
        image: 'a.jpg',
        droppedFilterText: [{ kind: 'trailing', text: 'jpg', after: 'format' }],
      },
    ],
    // the last of two parenthesised groups names the filter
    ['filters:a(1)b(2)/a.jpg', { filters: [{ name: 'b', args: '2' }], image: 'a.jpg', droppedFilterText: [{ kind: 'trailing', text: 'b(2)', after: 'a' }] }],
    // a second filters: segment is image text
    ['filters:blur(1)/filters:grayscale()/a.jpg', { filters: [{ name: 'blur', args: '1' }], image: 'filters:grayscale()/a.jpg' }],
    // nothing after the slash: no image
    ['filters:blur(1)/', { filters: [{ name: 'blur', args: '1' }] }],
    ['filters:blur(1)', { filters: [{ name: 'blur', args: '1' }] }],
    // an unclosed parenthesis swallows the rest
    ['filters:blur(1/a.jpg', { filters: [{ name: 'blur', args: '' }] }],
    // a stray `)` leaves the scanner below depth 0 for good
    ['filters:)/a.jpg', {}],
    [
      'filters:image(/100x100/filters:image(/50x50/g.png,center,center)/d.jpg,0,0):round_corner(5)/a.jpg',
      {
        filters: [
          { name: 'image', args: '/100x100/filters:image(/50x50/g.png,center,center)/d.jpg,0,0' },
          { name: 'round_corner', args: '5' },
        ],
        image: 'a.jpg',
      },
    ],
    // filters are not unescaped; the image is
    ['filters:label(a%20b)/a%20b.jpg', { filters: [{ name: 'label', args: 'a%20b' }], image: 'a b.jpg' }],
    // the segment must come last among the segments
    ['filters:blur(1)/300x200/a.jpg', { filters: [{ name: 'blur', args: '1' }], image: '300x200/a.jpg' }],
    ['Filters:blur(1)/a.jpg', { image: 'Filters:blur(1)/a.jpg' }],
  ]);
});

describe('image text', () => {
  check([
    ['unsafe/a%2Fb%3Fc%3Dd.jpg', { unsafe: true, image: 'a/b?c=d.jpg' }],
    ['unsafe/a+b.jpg', { unsafe: true, image: 'a b.jpg' }],
    ['unsafe/a%2Bb.jpg', { unsafe: true, image: 'a+b.jpg' }],
    ['unsafe/%E5%93%88.jpg', { unsafe: true, image: '哈.jpg' }],
    // an invalid escape keeps the whole text raw, plus signs included
    ['unsafe/a%zz+b.jpg', { unsafe: true, image: 'a%zz+b.jpg' }],
    ['unsafe/a%2', { unsafe: true, image: 'a%2' }],
    ['unsafe/a%', { unsafe: true, image: 'a%' }],
    // bytes that are not UTF-8 cannot be a JS string: kept raw (imagor keeps the bytes)
    ['unsafe/a%FF.jpg', { unsafe: true, image: 'a%FF.jpg' }],
    ['unsafe/https://a.com/b.jpg?x=1', { unsafe: true, image: 'https://a.com/b.jpg?x=1' }],
  ]);
});

describe('b64: images', () => {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
  check([
    [`unsafe/b64:${b64('https://a.com/x.jpg?y=1')}`, { unsafe: true, base64Image: true, image: 'https://a.com/x.jpg?y=1' }],
    [`unsafe/fit-in/b64:${b64('ünïcode (1).png')}`, { unsafe: true, fitIn: true, base64Image: true, image: 'ünïcode (1).png' }],
    ['unsafe/b64:', { unsafe: true, base64Image: true, image: '' }],
    // padding is refused, as by Go's RawURLEncoding (imagor's docs show padded examples that do not decode)
    ['unsafe/b64:aGk=', { unsafe: true, image: 'b64:aGk=' }],
    // the standard alphabet is refused
    ['unsafe/b64:a+b/', { unsafe: true, image: 'b64:a b/' }],
    // a length of 4n+1 cannot be base64
    ['unsafe/b64:aGVsb', { unsafe: true, image: 'b64:aGVsb' }],
    // Go ignores the unused low bits of the last character: `aGl` and `aGk` both read "hi"
    ['unsafe/b64:aGl', { unsafe: true, base64Image: true, image: 'hi' }],
    ['unsafe/b64:aGk', { unsafe: true, base64Image: true, image: 'hi' }],
    // decoded bytes that are not UTF-8 stay literal
    ['unsafe/b64:_w', { unsafe: true, image: 'b64:_w' }],
    // the prefix may arrive escaped: QueryUnescape runs first
    [`unsafe/b64%3A${b64('a.png')}`, { unsafe: true, base64Image: true, image: 'a.png' }],
    ['unsafe/B64:aGk', { unsafe: true, image: 'B64:aGk' }],
  ]);
});

describe('color: images', () => {
  test('recognises color: images in any case and returns the colour text', () => {
    const table: Array<[string, string | undefined]> = [
      ['color:red', 'red'],
      ['COLOR:FF0000', 'FF0000'],
      ['Color:none', 'none'],
      ['color:', ''],
      ['colors:red', undefined],
      ['a/color:red', undefined],
      ['https://a.com/color:red', undefined],
    ];
    for (const [image, spec] of table) {
      assert.equal(isColorImage(image), spec !== undefined, image);
      assert.equal(colorImageSpec(image), spec, image);
    }
  });

  test('a color: image parses like any other image', () => {
    const p = parseImagorPath('unsafe/fit-in/300x200/filters:fill(white)/color:ff0000');
    assert.equal(p.image, 'color:ff0000');
    assert.equal(isColorImage(p.image), true);
  });
});

describe('queryUnescape', () => {
  test("matches Go's url.QueryUnescape on valid and invalid input", () => {
    const table: Array<[string, string | undefined]> = [
      ['', ''],
      ['a+b', 'a b'],
      ['%41%62', 'Ab'],
      ['%e5%93%88', '哈'],
      ['100%', undefined],
      ['%g0', undefined],
      ['%0', undefined],
      ['哈%20', '哈 '],
      ['%C3', undefined],
    ];
    for (const [input, output] of table) assert.equal(queryUnescape(input), output, input);
  });

  test('agrees with decodeURIComponent wherever that succeeds and no + is present', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const escaped = encodeURIComponent(s);
        assert.equal(queryUnescape(escaped), s);
      }),
    );
  });
});

describe('total and position-faithful on any input', () => {
  test('never throws, and hash + path is always the tail of the line-break-stripped input', () => {
    const alphabet = fc.constantFrom(
      '/', 'unsafe/', 'params/', 'abcdefghijklmnopq/', 'meta/', 'trim:', 'fit-in/', '300x200/', '1x2:3x4/', 'filters:', '(', ')',
      ':', ',', '%', '%2F', '+', 'b64:', 'a', '\n', '\u2028', 'left/', 'smart/', '哈',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 20 }).map((parts) => parts.join('')), (url) => {
        const p = parseImagorPath(url);
        const tail = (p.unsafe ? 'unsafe/' : p.hash ? p.hash + '/' : '') + p.path;
        assert.ok(stripLineBreaks(url).endsWith(tail));
        assert.deepEqual({ ...parseImagorParamsPath(p.path), path: p.path, hash: p.hash, unsafe: p.unsafe, paramsEndpoint: p.paramsEndpoint }, p);
      }),
    );
  });
});

describe('toImagorJson', () => {
  // Field names and omitempty come from imagorpath/params.go's struct tags (cshum/imagor e7cd514f).
  test('uses imagor field names and order and leaves zero values out', () => {
    const p = parseImagorPath('_-19cQt1szHeUV0WyWFntvTImDI=/trim/fit-in/-300x0/0x20/filters:fill(white):grayscale()/foo.jpg');
    const json = toImagorJson(p);
    assert.deepEqual(json, {
      path: 'trim/fit-in/-300x0/0x20/filters:fill(white):grayscale()/foo.jpg',
      image: 'foo.jpg',
      hash: '_-19cQt1szHeUV0WyWFntvTImDI=',
      trim: true,
      trim_by: 'top-left',
      fit_in: true,
      width: 300,
      padding_top: 20,
      padding_bottom: 20,
      h_flip: true,
      filters: [{ name: 'fill', args: 'white' }, { name: 'grayscale' }],
    });
    assert.deepEqual(Object.keys(json), [
      'path', 'image', 'hash', 'trim', 'trim_by', 'fit_in', 'width', 'padding_top', 'padding_bottom', 'h_flip', 'filters',
    ]);
  });

  test('names every field when all are set, and never the params/ flag', () => {
    const json = toImagorJson(
      createImagorParams({
        path: 'p', image: 'i', base64Image: true, unsafe: true, hash: 'h', paramsEndpoint: true, meta: true, trim: true,
        trimBy: 'bottom-right', trimTolerance: 1, cropLeft: 0.1, cropTop: 2, cropRight: 3, cropBottom: 4, fitIn: true,
        adaptiveFitIn: true, fullFitIn: true, stretch: true, width: 5, height: 6, paddingLeft: 7, paddingTop: 8,
        paddingRight: 9, paddingBottom: 10, hFlip: true, vFlip: true, hAlign: 'center', vAlign: 'middle', smart: true,
        filters: [{ name: '', args: 'x' }],
      }),
    );
    assert.deepEqual(Object.keys(json), [
      'path', 'image', 'base64_image', 'unsafe', 'hash', 'meta', 'trim', 'trim_by', 'trim_tolerance', 'crop_left',
      'crop_top', 'crop_right', 'crop_bottom', 'fit_in', 'adaptive_fit_in', 'full_fit_in', 'stretch', 'width', 'height',
      'padding_left', 'padding_top', 'padding_right', 'padding_bottom', 'h_flip', 'v_flip', 'h_align', 'v_align', 'smart',
      'filters',
    ]);
    assert.deepEqual(json['filters'], [{ args: 'x' }]);
    assert.equal(json['crop_left'], 0.1);
  });

  test('an empty parse renders as an empty object', () => {
    assert.deepEqual(toImagorJson(parseImagorPath('')), {});
  });
});
