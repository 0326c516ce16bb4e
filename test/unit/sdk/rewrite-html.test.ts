import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isPixgateError } from '../../../src/respond/errors.js';
import { camoUrlSync, decodeCamoUrlSync } from '../../../src/sdk/camo.js';
import { f, parseImagorUrl, verifyImagorUrl } from '../../../src/sdk/imagor.js';
import { rewriteHtml, type RewriteHtmlCamoOptions } from '../../../src/sdk/rewrite-html.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

const PROXY = 'https://camo.example.org';
const camo: RewriteHtmlCamoOptions = { mode: 'camo', key: 'k', baseUrl: PROXY };
const signed = (url: string) => camoUrlSync(url, { key: 'k', prefix: PROXY }, nodeMac);
const rewrite = (html: string, extra: Partial<RewriteHtmlCamoOptions> = {}) => rewriteHtml(html, { ...camo, ...extra });

/** Every camo URL in `html` replaced by the URL it carries (verified with the key). */
function unproxy(html: string): string {
  return html.replace(/https:\/\/camo\.example\.org\/[0-9a-f]{40}\/[0-9a-f]+/g, (m) => decodeCamoUrlSync(m, { key: 'k' }, nodeMac));
}

describe('rewriteHtml finds image URLs', () => {
  const A = 'http://example.com/a.png';
  const B = 'http://example.com/b.png';
  const cases: Array<[string, string, string]> = [
    ['img src', `<img src="${A}">`, `<img src="${signed(A)}">`],
    ['img srcset with density descriptors', `<img srcset="${A} 1x, ${B} 2x">`, `<img srcset="${signed(A)} 1x, ${signed(B)} 2x">`],
    ['img srcset with width descriptors and no space after commas', `<img srcset="${A} 480w,${B} 800w">`, `<img srcset="${signed(A)} 480w,${signed(B)} 800w">`],
    ['img srcset of one bare URL with a trailing comma', `<img srcset="${A},">`, `<img srcset="${signed(A)},">`],
    ['picture source srcset', `<picture><source srcset="${A}" type="image/webp"><img src="${B}"></picture>`, `<picture><source srcset="${signed(A)}" type="image/webp"><img src="${signed(B)}"></picture>`],
    ['video poster', `<video poster="${A}" src="movie.mp4"></video>`, `<video poster="${signed(A)}" src="movie.mp4"></video>`],
    ['input type=image', `<input type="IMAGE" src="${A}">`, `<input type="IMAGE" src="${signed(A)}">`],
    ['svg image href and xlink:href', `<svg><image href="${A}" xlink:href="${B}"/></svg>`, `<svg><image href="${signed(A)}" xlink:href="${signed(B)}"/></svg>`],
    ['svg use href, keeping the fragment', `<svg><use href="http://example.com/s.svg#icon"/></svg>`, `<svg><use href="${signed('http://example.com/s.svg')}#icon"/></svg>`],
    ['svg feImage', `<svg><filter><feImage href="${A}"/></filter></svg>`, `<svg><filter><feImage href="${signed(A)}"/></filter></svg>`],
    ['unquoted url() in style', `<div style="background:url(${A}) no-repeat"></div>`, `<div style="background:url(${signed(A)}) no-repeat"></div>`],
    ['quoted url() in style', `<p style='background-image: url("${A}"), url(  ${B}  )'>`, `<p style='background-image: url("${signed(A)}"), url(  ${signed(B)}  )'>`],
    ['single-quoted url() in a double-quoted style', `<p style="background:URL('${A}')">`, `<p style="background:URL('${signed(A)}')">`],
    ['image-set strings in style', `<p style="background-image:image-set(&quot;${A}&quot; 1x, url(${B}) 2x)">`, `<p style="background-image:image-set(&quot;${signed(A)}&quot; 1x, url(${signed(B)}) 2x)">`],
    ['url() written with CSS escapes, read as a browser reads it', `<p style="background:\\75 rl(http://example.com/a\\(1\\).png)">`, `<p style="background:\\75 rl(${signed('http://example.com/a(1).png')})">`],
    ['a quoted url() with a hex escape', `<p style="background:url('http://example.com/\\61.png')">`, `<p style="background:url('${signed(A)}')">`],
    ['url() cut off by the end of the style', `<p style="background:url(${A}">`, `<p style="background:url(${signed(A)}">`],
    ['style on an svg element', `<svg><rect style="fill:url(${A})"/></svg>`, `<svg><rect style="fill:url(${signed(A)})"/></svg>`],
    ['upper-case tags and attributes', `<IMG SRC="${A}">`, `<IMG SRC="${signed(A)}">`],
    ['unquoted values and spaces around =', `<img src = ${A} alt=x>`, `<img src = ${signed(A)} alt=x>`],
    ['single-quoted values', `<img src='${A}'>`, `<img src='${signed(A)}'>`],
    ['img inside noscript', `<noscript><img src="${A}"></noscript>`, `<noscript><img src="${signed(A)}"></noscript>`],
    ['img inside template', `<template><img src="${A}"></template>`, `<template><img src="${signed(A)}"></template>`],
    ['an img an <image> tag becomes', `<image src="${A}">`, `<image src="${signed(A)}">`],
    ['only the first of two src attributes, the one browsers use', `<img src="${A}" src="${B}">`, `<img src="${signed(A)}" src="${B}">`],
    ['the HTML of an iframe srcdoc', `<iframe srcdoc="<p><img src=&quot;${A}&quot;></p>"></iframe>`, `<iframe srcdoc="<p><img src=&quot;${signed(A)}&quot;></p>"></iframe>`],
    ['an https URL by default', `<img src="https://example.com/a.png">`, `<img src="${signed('https://example.com/a.png')}">`],
    // The legacy background attribute, which HTML's rendering section still maps to background-image.
    ['body background', `<body background="${A}"><p>x</p></body>`, `<body background="${signed(A)}"><p>x</p></body>`],
    [
      'table, row, section and cell backgrounds, quoted, unquoted and padded with spaces',
      `<table background=${A}><thead background="${B}"><tr background="${A}"><th background=" ${B} ">h<tbody><tr><td background='${A}'>x<tfoot><tr><td background="${B}">f</table>`,
      `<table background=${signed(A)}><thead background="${signed(B)}"><tr background="${signed(A)}"><th background=" ${signed(B)} ">h<tbody><tr><td background='${signed(A)}'>x<tfoot><tr><td background="${signed(B)}">f</table>`,
    ],
    ['a body background given after the content (merged onto the body by the parser)', `<p>x</p><body background="${A}">`, `<p>x</p><body background="${signed(A)}">`],
    ['a body style given after the content', `<p>x</p><body style="background:url(${A})">`, `<p>x</p><body style="background:url(${signed(A)})">`],
    ['an html style given after the content', `<p>x</p><html style="background:url(${A})">`, `<p>x</p><html style="background:url(${signed(A)})">`],
    ['only the first body background, the one browsers keep', `<body background="${A}"><p>x</p><body background="${B}">`, `<body background="${signed(A)}"><p>x</p><body background="${B}">`],
  ];
  for (const [name, html, expected] of cases) {
    test(name, async () => assert.equal(await rewrite(html), expected));
  }
});

describe('rewriteHtml leaves alone', () => {
  const untouched: Array<[string, string]> = [
    ['relative URLs', '<img src="/a.png" srcset="b.png 2x"><p style="background:url(c.png)">'],
    ['protocol-relative URLs', '<img src="//example.com/a.png">'],
    ['data: and blob: URLs', '<img src="data:image/png;base64,AAAA"><img src="blob:https://x/1">'],
    ['javascript: URLs (not run from an image attribute; removing them is the sanitiser\'s job)', '<img src="javascript:alert(1)">'],
    ['links, scripts and non-image attributes', '<a href="http://example.com/a.png">x</a><script src="http://example.com/s.js"></script><img alt="http://example.com/a.png">'],
    ['video source src and audio', '<video><source src="http://example.com/v.mp4"></video><audio src="http://example.com/a.mp3"></audio>'],
    ['a source outside picture', '<div><source srcset="http://example.com/a.png"></div>'],
    ['URLs in text, comments and scripts', '<p>http://example.com/a.png</p><!-- <img src="http://example.com/a.png"> --><script>x="<img src=http://example.com/a.png>"</script>'],
    ['url() inside a CSS string or comment', `<p style="content:'url(http://example.com/a.png)'; /* url(http://example.com/b.png) */">`],
    ['bad url() tokens a browser does not load', '<p style="background:url(http://example.com/a&quot;b.png); x:url(http://example.com/a b.png)">'],
    ['a string broken by a line break', '<p style="background:url(&quot;http://example.com/a.png\n&quot;)">'],
    ['URLs already on the proxy', `<img src="${PROXY}/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67">`],
    ['an img with no value', '<img src><img src="">'],
    ['an iframe srcdoc without image URLs, references and all', '<iframe srcdoc="<p>&#x41;&amp;<a href=&quot;http://example.com/&quot;>x</a></p>"></iframe>'],
    ['a tag cut off by the end of the input', '<p>x</p><img src="http://example.com/a.png'],
    ['background on elements that never load it', '<div background="http://example.com/a.png"><p background="http://example.com/a.png"><img background="http://example.com/a.png">'],
    ['a cell outside a table, which the parser drops', '<div><td background="http://example.com/a.png">x</td></div>'],
    ['a body background inside a template, which the parser does not merge', '<template><body background="http://example.com/a.png"></template>'],
  ];
  for (const [name, html] of untouched) {
    test(name, async () => assert.equal(await rewrite(html), html));
  }
});

describe('rewriteHtml options', () => {
  const html = '<img src="http://a.example.com/1.png"><img src="https://b.example.com/2.png"><img src="http://example.com/3.png"><img src="http://imgx.other.org/4.png"><img src="http://EVIL.test/5.png">';
  const proxied = async (extra: Partial<RewriteHtmlCamoOptions>) => {
    const out = await rewrite(html, extra);
    return [...out.matchAll(/src="([^"]*)"/g)].map((m) => m[1]!.startsWith(PROXY));
  };

  test('skipHttps leaves https URLs as they are, as go-camo examples do', async () => {
    assert.deepEqual(await proxied({ skipHttps: true }), [true, false, true, true, true]);
  });

  test('allowHosts: exact names, *.domain for subdomains only, * inside a label, case-insensitive', async () => {
    assert.deepEqual(await proxied({ allowHosts: ['example.com'] }), [false, false, true, false, false]);
    assert.deepEqual(await proxied({ allowHosts: ['*.example.com'] }), [true, true, false, false, false]);
    assert.deepEqual(await proxied({ allowHosts: ['img*.OTHER.org', 'evil.test'] }), [false, false, false, true, true]);
    assert.deepEqual(await proxied({ allowHosts: ['*'] }), [true, true, true, true, true]);
  });

  test('denyHosts wins over allowHosts', async () => {
    assert.deepEqual(await proxied({ denyHosts: ['*.example.com', 'evil.test'] }), [false, false, true, true, false]);
    assert.deepEqual(await proxied({ allowHosts: ['*.example.com', 'example.com'], denyHosts: ['b.example.com'] }), [true, false, true, false, false]);
  });

  test('host patterns in Unicode match the punycode host', async () => {
    const out = await rewrite('<img src="http://bücher.example/a.png">', { allowHosts: ['BÜCHER.example'] });
    assert.equal(unproxy(out), '<img src="http://xn--bcher-kva.example/a.png">');
  });

  test('refuses bad options', async () => {
    const bad = (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS';
    await assert.rejects(rewriteHtml('', { ...camo, key: '' }), bad);
    await assert.rejects(rewriteHtml('', { ...camo, mode: 'other' } as unknown as RewriteHtmlCamoOptions), bad);
    await assert.rejects(rewriteHtml('', { mode: 'imagor', baseUrl: PROXY }), bad);
    await assert.rejects(rewriteHtml('', { ...camo, allowHosts: [''] }), bad);
    await assert.rejects(rewriteHtml('', { mode: 'imagor', secret: 's', baseUrl: PROXY, imagor: { width: -1 } }), bad);
  });
});

describe('rewriteHtml keeps the document as it was', () => {
  test('decodes &amp; in a URL before signing and writes it back encoded', async () => {
    const out = await rewrite('<img src="http://example.com/a.png?x=1&amp;y=2">');
    assert.equal(out, `<img src="${signed('http://example.com/a.png?x=1&y=2')}">`);
  });

  test('decodes rarer references too (whole value rewritten from the parsed value)', async () => {
    const out = await rewrite('<img title="&copy;" src="http://example.com/&eacute;.png" alt="&copy;">');
    assert.equal(out, `<img title="&copy;" src="${signed('http://example.com/%C3%A9.png')}" alt="&copy;">`);
  });

  test('encodes characters an unquoted value cannot hold', async () => {
    const out = await rewriteHtml('<img src=http://example.com/a.png>', { mode: 'imagor', secret: 's', baseUrl: 'https://img.example.org' });
    assert.match(out, /^<img src=https:\/\/img\.example\.org\/[A-Za-z0-9_-]+&#61;\/http:\/\/example\.com\/a\.png>$/);
  });

  test('escapes imagor parentheses inside a bare CSS url()', async () => {
    const out = await rewriteHtml('<p style="background:url(http://example.com/a.png)">', {
      mode: 'imagor', secret: 's', baseUrl: 'https://img.example.org', imagor: { filters: [f.quality(80)] },
    });
    assert.match(out, /url\(https:\/\/img\.example\.org\/[^ )]+\/filters:quality\\\(80\\\)\/http:\/\/example\.com\/a\.png\)/);
  });

  test('keeps CR LF, comments, doctype and odd markup byte for byte', async () => {
    const html = '<!DOCTYPE html>\r\n<!-- x --><p class=a>T&amp;x<img\r\n  alt="" src="http://example.com/a.png"\r\n></p><b><i>unclosed';
    assert.equal(await rewrite(html), html.replace('http://example.com/a.png', signed('http://example.com/a.png')));
  });

  test('rewriting twice changes nothing more', async () => {
    const html = '<img src="http://example.com/a.png" srcset="http://example.com/b.png 2x">';
    const once = await rewrite(html);
    assert.equal(await rewrite(once), once);
  });

  const piece = fc.oneof(
    fc.constantFrom('<p>', '</p>', '<div class="x">', '</div>', '<br/>', '<!-- c -->', 'text &amp; more', '<b><i>', '</b>', '<table><tr><td>', '<svg>', '</svg>', '<noscript>', '</noscript>', '<template>', '</template>', '<textarea>', '</textarea>'),
    fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
    fc.webUrl().map((u) => `<img src="${new URL(u).href}" alt='a'>`),
    fc.webUrl().map((u) => `<img srcset="${new URL(u).href} 2x, /rel.png 1x">`),
    fc.webUrl().map((u) => `<p style="color:red;background:url('${new URL(u).href}')">`),
    fc.webUrl().map((u) => `<svg><image xlink:href="${new URL(u).href}"/></svg>`),
    fc.webUrl().map((u) => `<table background="${new URL(u).href}"><tr><td background=${new URL(u).href}>x</td></tr></table>`),
    fc.webUrl().map((u) => `<body background='${new URL(u).href}'>`),
  );

  test('only the URL substrings change: putting the original URLs back gives the input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const html = pieces.join('');
        assert.equal(unproxy(await rewrite(html)), html);
      }),
      { numRuns: 200 },
    );
  });

  test('never throws on malformed HTML, and leaves a document with no http URL as it was', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '=', '&', ';', '#', 'a', 'img', ' src', 'style', 'url(', ')', '/', '\n', '\u0000', 'x:1') }), async (html) => {
        assert.equal(await rewrite(html), html);
      }),
      { numRuns: 300 },
    );
  });
});

describe('rewriteHtml in imagor mode', () => {
  const imagor = { mode: 'imagor' as const, secret: 'mysecret', baseUrl: 'https://img.example.org' };

  test('applies the operations and presets to every image, in signed URLs', async () => {
    const out = await rewriteHtml('<img src="http://example.com/a.png" srcset="http://example.com/b.png 2x">', {
      ...imagor,
      imagor: { fitIn: true, width: 800, filters: [f.format('webp')] },
      presets: ['thumb'],
    });
    const urls = [...out.matchAll(/(https:\/\/img\.example\.org\/[^" ]+)/g)].map((m) => m[1]!);
    assert.equal(urls.length, 2);
    for (const [url, image] of [[urls[0]!, 'http://example.com/a.png'], [urls[1]!, 'http://example.com/b.png']] as const) {
      assert.deepEqual(parseImagorUrl(url).options, { image, presets: ['thumb'], fitIn: true, width: 800, filters: [{ name: 'format', args: 'webp' }] });
      assert.equal(await verifyImagorUrl(url, { secret: 'mysecret' }), true);
    }
  });

  test('a function chooses operations per image from the srcset descriptor, or leaves one alone with null', async () => {
    const out = await rewriteHtml('<img src="http://example.com/skip.png" srcset="http://example.com/a.png 480w, http://example.com/b.png 2x">', {
      ...imagor,
      imagor: ({ url, descriptor }) => (url.endsWith('skip.png') ? null : descriptor.endsWith('w') ? { width: Number.parseInt(descriptor, 10) } : { width: 1600 }),
    });
    assert.match(out, /^<img src="http:\/\/example\.com\/skip\.png" srcset="https:\/\/img\.example\.org\/[^ ]+\/480x0\/http:\/\/example\.com\/a\.png 480w, https:\/\/img\.example\.org\/[^ ]+\/1600x0\/http:\/\/example\.com\/b\.png 2x">$/);
  });

  test('writes unsafe/ URLs when asked', async () => {
    const out = await rewriteHtml('<img src="http://example.com/a.png">', { mode: 'imagor', unsafe: true, baseUrl: 'http://localhost:8000' });
    assert.equal(out, '<img src="http://localhost:8000/unsafe/http://example.com/a.png">');
  });
});

describe('rewriteHtml and the legacy background attribute', () => {
  const html = '<table background="http://a.example.com/1.png"><tr><td background="https://b.example.com/2.png">x</td><th background="http://evil.test/3.png">y</th></tr></table>';
  const proxied = async (extra: Partial<RewriteHtmlCamoOptions>) => {
    const out = await rewrite(html, extra);
    return [...out.matchAll(/background="([^"]*)"/g)].map((m) => m[1]!.startsWith(PROXY));
  };

  test('is rewritten like img src, https included by default', async () => {
    assert.deepEqual(await proxied({}), [true, true, true]);
  });

  test('skipHttps leaves an https background alone', async () => {
    assert.deepEqual(await proxied({ skipHttps: true }), [true, false, true]);
  });

  test('allowHosts and denyHosts choose which backgrounds are rewritten', async () => {
    assert.deepEqual(await proxied({ allowHosts: ['*.example.com'] }), [true, true, false]);
    assert.deepEqual(await proxied({ denyHosts: ['evil.test'] }), [true, true, false]);
  });

  test('imagor mode applies the operations, and the callback sees the element and the attribute', async () => {
    const seen: string[] = [];
    const out = await rewriteHtml('<body background="http://example.com/bg.png"><table><tr><td background="http://example.com/cell.png">x', {
      mode: 'imagor',
      secret: 'mysecret',
      baseUrl: 'https://img.example.org',
      imagor: ({ element, attribute }) => {
        seen.push(`${element} ${attribute}`);
        return element === 'td' ? { width: 50, filters: [f.grayscale()] } : { width: 1200 };
      },
    });
    // The document is read twice (scripting on and off), so each place is asked about twice.
    assert.deepEqual([...new Set(seen)].sort(), ['body background', 'td background']);
    const urls = [...out.matchAll(/background="([^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(parseImagorUrl(urls[0]!).options, { image: 'http://example.com/bg.png', width: 1200 });
    assert.deepEqual(parseImagorUrl(urls[1]!).options, { image: 'http://example.com/cell.png', width: 50, filters: [{ name: 'grayscale', args: '' }] });
    for (const url of urls) assert.equal(await verifyImagorUrl(url, { secret: 'mysecret' }), true);
  });
});
