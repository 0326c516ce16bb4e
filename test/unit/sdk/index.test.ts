import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
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
