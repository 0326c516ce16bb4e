import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderErrorsMarkdown } from '../src/respond/error-docs.js';
import { errorTable } from '../src/respond/error-table.js';
import { renderSettingsMarkdown } from '../src/settings/help.js';
import { settingEntries } from '../src/settings/table.js';

test('docs/settings.md is the rendering of the settings table (run npm run docs)', () => {
  assert.equal(readFileSync('docs/settings.md', 'utf8'), renderSettingsMarkdown());
});

test('docs/errors.md is the rendering of the error table (run npm run docs)', () => {
  assert.equal(readFileSync('docs/errors.md', 'utf8'), renderErrorsMarkdown());
});

test('every setting has help text and at least one env name or flag', () => {
  for (const [key, spec] of settingEntries) {
    assert.ok(spec.help.length > 10, `${key} has no help`);
    assert.ok(spec.env.length + spec.flags.length > 0, `${key} cannot be set`);
  }
});

test('every documented error code exists and every code is documented', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.sort(), Object.keys(errorTable).sort());
});

test('no two settings share an env name or a flag', () => {
  const seen = new Map<string, string>();
  for (const [key, spec] of settingEntries) {
    for (const name of [...spec.env, ...spec.flags, ...(spec.short ? [spec.short] : [])]) {
      assert.equal(seen.get(name), undefined, `${name} is used by ${seen.get(name)} and ${key}`);
      seen.set(name, key);
    }
  }
});
