import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createContext, runInContext, type Context } from 'node:vm';
import { build, transform } from 'esbuild';
import * as sdk from '../../../src/sdk/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const ENTRY = join(ROOT, 'src/sdk/index.ts');
// Server-side packages the library must never pull in: they need sockets, native code or Node streams.
const SERVER_ONLY = ['undici', 'sharp', 'pino', 'prom-client', 'ipaddr.js', '@aws-sdk/client-s3', '@aws-sdk/lib-storage'];

interface Problem {
  readonly file: string;
  readonly specifier: string;
}

/** Module specifiers that reach the runtime: static imports and re-exports (not `import type`), import(), require(). */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/(?:^|[;\s])(import|export)\s+(type\s+)?([^'";]*?\bfrom\s*)?['"]([^'"]+)['"]/g)) {
    if (m[2] === undefined) out.push(m[4]!);
  }
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function pickExport(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (target && typeof target === 'object') {
    // What a bundler for a browser or an edge runtime takes: import, then default (never the node condition).
    for (const condition of ['import', 'default']) {
      const picked = pickExport((target as Record<string, unknown>)[condition]);
      if (picked) return picked;
    }
  }
  return undefined;
}

function resolvePackage(specifier: string, from: string): string | undefined {
  const name = packageName(specifier);
  const subpath = '.' + specifier.slice(name.length);
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports?: unknown; module?: string; main?: string };
      const exportsMap = pkg.exports as Record<string, unknown> | string | undefined;
      let target: string | undefined;
      if (exportsMap !== undefined) {
        const entry = typeof exportsMap === 'string' || !Object.keys(exportsMap).some((k) => k.startsWith('.')) ? (subpath === '.' ? exportsMap : undefined) : exportsMap[subpath];
        target = pickExport(entry);
      } else {
        target = subpath === '.' ? (pkg.module ?? pkg.main ?? 'index.js') : subpath;
      }
      return target === undefined ? undefined : resolveFile(join(pkgDir, target));
    }
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveFile(path: string): string | undefined {
  const candidates = [path, path.replace(/\.js$/, '.ts'), path + '.js', path + '.ts', join(path, 'index.js'), join(path, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** Walks the runtime import graph from `entry`, into packages too, and lists every forbidden import. */
function walk(entry: string): { files: Set<string>; problems: Problem[] } {
  const files = new Set<string>();
  const problems: Problem[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = resolveFile(resolve(dirname(file), specifier));
        if (target) queue.push(target);
        else problems.push({ file, specifier: `${specifier} (unresolved)` });
        continue;
      }
      const name = packageName(specifier);
      if (specifier.startsWith('node:') || builtinModules.includes(name) || SERVER_ONLY.includes(name)) {
        problems.push({ file, specifier });
        continue;
      }
      const target = resolvePackage(specifier, file);
      if (target) queue.push(target);
      else problems.push({ file, specifier: `${specifier} (unresolved)` });
    }
  }
  return { files, problems };
}

const rel = (file: string) => file.slice(ROOT.length + 1);

describe('the sdk entry point', () => {
  test('imports no node: module and no server-only package, in our code or in its dependencies', () => {
    const { files, problems } = walk(ENTRY);
    assert.deepEqual(problems.map((p) => `${rel(p.file)} -> ${p.specifier}`), []);
    const visited = [...files].map(rel);
    for (const expected of ['src/sdk/camo.ts', 'src/sdk/imagor.ts', 'src/sdk/rewrite-html.ts', 'src/sdk/web-mac.ts', 'src/verify/encoding.ts', 'node_modules/parse5/dist/index.js']) {
      assert.ok(visited.includes(expected), `walk reached ${expected}`);
    }
    assert.ok(visited.some((f) => f.startsWith('node_modules/entities/')), 'walk followed parse5 into entities');
  });

  test('the walk does catch a node: import (verify/node-mac.ts imports node:crypto)', () => {
    const { problems } = walk(join(ROOT, 'src/verify/node-mac.ts'));
    assert.deepEqual(problems.map((p) => p.specifier), ['node:crypto']);
  });

  test('exports the public API', () => {
    const functions = [
      'camoUrl', 'camoUrlSync', 'decodeCamoUrl', 'decodeCamoUrlSync',
      'imagorUrl', 'imagorUrlSync', 'buildImagorPath', 'signImagorPath', 'signImagorPathSync', 'parseImagorUrl', 'verifyImagorUrl',
      'rewriteHtml', 'createWebCryptoMac', 'webCryptoMac', 'isPixgateError',
    ];
    for (const name of functions) assert.equal(typeof (sdk as Record<string, unknown>)[name], 'function', name);
    assert.equal(typeof sdk.f.watermark, 'function');
    assert.equal(typeof sdk.PixgateError, 'function');
  });

  test('every exported function of the sdk carries JSDoc with an @example', () => {
    const missing: string[] = [];
    for (const file of ['camo.ts', 'imagor.ts', 'rewrite-html.ts', 'web-mac.ts']) {
      const source = readFileSync(join(ROOT, 'src/sdk', file), 'utf8');
      for (const m of source.matchAll(/export (?:async )?function (\w+)|export const (\w+)/g)) {
        const name = m[1] ?? m[2]!;
        if (!Object.hasOwn(sdk, name)) continue; // internal helper, not re-exported
        const before = source.slice(0, m.index);
        const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*$/.exec(before);
        if (!doc?.[1]?.includes('@example')) missing.push(`${file}: ${name}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});

/** The sdk as a bundler for an edge runtime makes it: one ES module, no node: built-ins, no Node conditions. */
async function bundleSdk(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    // No mainFields: platform 'neutral' reads none, and parse5 and entities resolve through their `exports`.
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const [out] = result.outputFiles;
  assert.ok(out, 'esbuild wrote the bundle');
  return out.text;
}

/**
 * A realm with nothing but the ECMAScript built-ins and what Web Crypto runtimes share (crypto, TextEncoder,
 * TextDecoder, URL, URLSearchParams), with the bundle loaded in it as `pixgate`. vm runs scripts, not ES
 * modules (vm.SourceTextModule needs a flag), so the ES module bundle is turned into a script that exposes its
 * exports; nothing else about it changes.
 */
async function loadInWebCryptoRealm(esm: string): Promise<{ context: Context; lib: typeof sdk }> {
  const script = await transform(esm, { format: 'iife', globalName: 'pixgate', target: 'es2022', logLevel: 'silent' });
  const context = createContext({ crypto: globalThis.crypto, TextEncoder, TextDecoder, URL, URLSearchParams });
  runInContext(script.code, context, { filename: 'pixgate-sdk.bundle.js' });
  return { context, lib: (context as { pixgate: typeof sdk }).pixgate };
}

/** Values from the other realm, compared by content (their prototypes are that realm's). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('the sdk bundled for a runtime with only Web Crypto', () => {
  // go-camo README (url-tool) and imagor docs/docs/security.mdx, as in camo.test.ts and imagor.test.ts.
  const GOPHER = 'http://golang.org/doc/gopher/frontpage.png';
  const GOPHER_HEX = '/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67';
  const IMAGOR_PATH = '500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png';
  const IMAGOR_HASH = 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=';

  let web: { context: Context; lib: typeof sdk };
  before(async () => {
    web = await loadInWebCryptoRealm(await bundleSdk());
  });

  test('bundles with esbuild for platform neutral, and loads where there is no Buffer, process or require', () => {
    for (const name of ['Buffer', 'process', 'require', 'module', 'global', 'setTimeout', 'atob', 'btoa']) {
      assert.equal(runInContext(`typeof ${name}`, web.context), 'undefined', `${name} is absent from the test realm`);
    }
    assert.equal(runInContext('typeof crypto.subtle.sign', web.context), 'function');
    assert.deepEqual(Object.keys(web.lib).sort(), Object.keys(sdk).sort());
  });

  test('camoUrl and decodeCamoUrl give what they give on Node', async () => {
    const { lib } = web;
    assert.equal(await lib.camoUrl(GOPHER, { key: 'test' }), GOPHER_HEX);
    for (const [url, options] of [
      [GOPHER, { key: 'test', encoding: 'base64' as const, prefix: 'https://camo.example.com' }],
      ['https://example.com/ü?a=1&b=2#x', { key: 'another key', prefix: 'https://camo.example.com/c/' }],
    ] as const) {
      const made = await lib.camoUrl(url, options);
      assert.equal(made, await sdk.camoUrl(url, options));
      assert.equal(await lib.decodeCamoUrl(made, { key: ['old', options.key] }), url);
    }
    await assert.rejects(lib.decodeCamoUrl(GOPHER_HEX, { key: 'wrong' }), (e: unknown) => lib.isPixgateError(e) && e.code === 'BAD_SIGNATURE');
  });

  test('signImagorPath, imagorUrl, parseImagorUrl and verifyImagorUrl give what they give on Node', async () => {
    const { lib } = web;
    assert.equal(await lib.signImagorPath(IMAGOR_PATH, { secret: 'mysecret' }), IMAGOR_HASH);
    for (const type of ['sha1', 'sha256', 'sha512'] as const) {
      assert.equal(await lib.signImagorPath(IMAGOR_PATH, { secret: 'mysecret', type, truncate: 40 }), await sdk.signImagorPath(IMAGOR_PATH, { secret: 'mysecret', type, truncate: 40 }));
    }
    const options = (f: typeof sdk.f): sdk.ImagorOptions => ({
      image: 'https://example.com/a b.jpg?x=1',
      presets: ['thumb'],
      fitIn: true,
      width: 300,
      height: 200,
      smart: true,
      filters: [
        f.format('webp'),
        f.quality(80),
        f.text('Hello, world (1)', { x: 'center', y: -10, color: 'white' }),
        f.colorize(40, 80, 20, 'ff0000'),
        f.curve([[0, 0], [255, 255]], [[0, 50], [255, 255]], [[0, 0], [255, 255]], [[0, 0], [255, 255]]),
        f.convolution([[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
      ],
    });
    const signing = { secret: 'mysecret', type: 'sha256' as const, baseUrl: 'https://img.example.com' };
    const url = await lib.imagorUrl(options(lib.f), signing);
    assert.equal(url, await sdk.imagorUrl(options(sdk.f), signing));
    assert.equal(lib.buildImagorPath(options(lib.f)), sdk.buildImagorPath(options(sdk.f)));
    assert.deepEqual(plain(lib.parseImagorUrl(url, { baseUrl: signing.baseUrl })), plain(sdk.parseImagorUrl(url, { baseUrl: signing.baseUrl })));
    assert.equal(await lib.verifyImagorUrl(url, { secret: 'mysecret', type: 'sha256' }), true);
    assert.equal(await lib.verifyImagorUrl(url, { secret: 'other', type: 'sha256' }), false);
    assert.equal(await lib.verifyImagorUrl(`https://img.example.com/${IMAGOR_HASH}/${IMAGOR_PATH}`, { secret: 'mysecret' }), true);
  });

  test('rewriteHtml (parse5 included) gives what it gives on Node', async () => {
    const { lib } = web;
    const html = `<p>Hi <img src="http://example.com/a.png" srcset="http://example.com/a.png 1x, http://example.com/b.png 2x"></p>
<table background="http://example.com/t.png"><tr><td style="background:url('http://example.com/c.png')">x</td></tr></table>
<noscript><img src="http://example.com/n.png"></noscript><svg><image href="http://example.com/s.png"/></svg>`;
    const camo = { mode: 'camo' as const, key: 'k', baseUrl: 'https://camo.example.com' };
    const imagor = { mode: 'imagor' as const, secret: 's', baseUrl: 'https://img.example.com', imagor: { fitIn: true, width: 640 } };
    for (const options of [camo, imagor]) {
      const out = await lib.rewriteHtml(html, options);
      assert.equal(out, await sdk.rewriteHtml(html, options));
      assert.doesNotMatch(out, /="http:|\('http:/);
    }
  });
});
