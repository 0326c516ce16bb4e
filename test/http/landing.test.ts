// GET / (issue 7 "Pages"): a small landing page with the name, the version only with --expose-server-version,
// a link to the docs, and a policy that lets nothing but its own inline style run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchRaw, startPixgate } from '../helpers/pixgate.js';
import { version } from '../../src/version.js';

for (const expose of [false, true]) {
  test(`the landing page names pixgate and ${expose ? 'shows' : 'hides'} the version`, async () => {
    const px = await startPixgate({ argv: expose ? ['--expose-server-version'] : [] });
    try {
      const res = await fetchRaw(`${px.url}/`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
      assert.match(res.text, /<h1>pixgate/);
      assert.match(res.text, /<a href="[^"]+\/docs">docs<\/a>/);
      assert.equal(res.text.includes(version), expose);
      assert.equal(String(res.headers.server).includes(version), expose);
    } finally {
      await px.close();
    }
  });
}
