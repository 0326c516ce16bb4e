// docs/api.md is generated from the sdk's JSDoc (scripts/gen-api-docs.ts); it must match the code, and every
// export of the sdk must have its section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sdk from '../src/sdk/index.js';
import { renderApiMarkdown } from '../scripts/gen-api-docs.js';

test('docs/api.md is the rendering of the sdk JSDoc (run npm run docs)', () => {
  assert.equal(readFileSync('docs/api.md', 'utf8'), renderApiMarkdown());
});

test('every runtime export of the sdk has a section in docs/api.md', () => {
  const doc = readFileSync('docs/api.md', 'utf8');
  for (const name of Object.keys(sdk)) {
    assert.ok(doc.includes(name === 'f' ? '## Filter builders: f' : `### ${name}\n`), `${name} is not documented`);
  }
});

test('every filter builder of the sdk has a row in docs/api.md', () => {
  const doc = readFileSync('docs/api.md', 'utf8');
  for (const name of Object.keys(sdk.f)) assert.ok(doc.includes(`| \`f.${name}(`), `f.${name} is not documented`);
});
