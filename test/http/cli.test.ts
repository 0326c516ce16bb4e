// The command line as a user runs it (`node --import tsx src/main.ts ...`, what bin/pixgate runs once built):
// --help, --version, configuration errors that name the setting, `camo encode|decode` byte-identical to go-camo's
// url-tool on the seed vector of camo.md §1.3, a start with no configuration, graceful shutdown, and start
// failures. Each test spawns a process (about a second of CPU), so the cases are few: the messages themselves
// are covered in-process by test/unit/settings/load.test.ts and test/unit/cli/url-tool.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHelp } from '../../src/settings/help.js';
import { startOrigin, testImages, trickle } from '../helpers/origin.js';
import { camoUrl, fetchRaw, repoRoot, runCli, spawnPixgate, TEST_KEY, type RunningPixgate } from '../helpers/pixgate.js';

// camo.md §1.3: verified there with python3 against go-camo's documented output.
const SEED_KEY = 'test';
const SEED_URL = 'http://golang.org/doc/gopher/frontpage.png';
const SEED_HEX = '/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67';

const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };

const LISTENING = /listening address="(http:\/\/127\.0\.0\.1:\d+)"/;

async function addressOf(px: RunningPixgate): Promise<string> {
  const m = await px.waitFor(LISTENING);
  return m[1]!;
}

// Three processes at a time keep two cores busy without starving the servers under test.
describe('pixgate command line', { concurrency: 3 }, () => {
  test('--help prints the usage generated from the settings table, with every camo flag', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, renderHelp());
    assert.match(r.stdout, /^Usage: pixgate /);
    for (const flag of ['--key', '--max-size', '--max-size-redirect', '--max-redirects', '--timeout', '--filter-ruleset', '--allow-network', '--ssl-listen', '--socket-listen', '--no-fk', '--no-bk', '--metrics', '--header', '--server-name', '--enable-xfwd4', 'GOCAMO_HMAC']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  test('-V prints the package version', async () => {
    const r = await runCli(['-V']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `pixgate ${version}\n`);
  });

  test('camo encode prints the seed vector in hex, byte for byte as url-tool', async () => {
    const r = await runCli(['camo', 'encode', '-k', SEED_KEY, SEED_URL]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, SEED_HEX + '\n');
    assert.equal(r.stderr, '');
  });

  test('camo decode with the wrong key says hmac is invalid and exits 1', async () => {
    const r = await runCli(['camo', 'decode', '-k', 'not-the-key', `https://camo.example.com${SEED_HEX}`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /hmac is invalid/);
  });

  test('an invalid value in the environment stops the start: exit 2, naming the variable and the flag', async () => {
    const r = await runCli(['serve', '--listen', '127.0.0.1:0'], { PIXGATE_TIMEOUT: '4x' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^pixgate: invalid configuration:\n {2}- PIXGATE_TIMEOUT=4x: expected a duration[^\n]*\(--timeout\)\n/);
    assert.match(r.stderr, /Run pixgate --help/);
  });

  test('an unknown PIXGATE_ variable and an unknown flag stop the start, each with a suggestion', async () => {
    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '--max-redirect', '3'], { PIXGATE_TIMOUT: '4s' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /PIXGATE_TIMOUT: unknown setting \(did you mean PIXGATE_TIMEOUT\?\)/);
    assert.match(r.stderr, /--max-redirect: unknown flag \(did you mean --max-redirects\?\)/);
  });

  test('a bad filter ruleset line stops the start, naming the file and the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixgate-cli-'));
    try {
      const file = join(dir, 'rules.txt');
      writeFileSync(file, '# rules\nallow|s|example.com||\ndeny|x|example.org||\n');
      const r = await runCli(['serve', '--listen', '127.0.0.1:0', '-k', TEST_KEY, '--filter-ruleset', file]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--filter-ruleset=/);
      assert.match(r.stderr, /line 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a port in use stops the start', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as { port: number };
      const r = await runCli(['serve', '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
    } finally {
      blocker.close();
    }
  });

  test('starts safely with no key: camo off, the log says how to set one; APP_INFO_VERSION labels camo_build_info', async () => {
    const px = spawnPixgate(['--listen', '127.0.0.1:0', '--metrics'], { APP_INFO_VERSION: '1.2.3-test' });
    try {
      const address = await addressOf(px);
      assert.match(px.output().stderr, /no camo key is set.*PIXGATE_CAMO_KEYS/);
      assert.equal((await fetchRaw(address + '/healthcheck')).status, 200);
      assert.equal((await fetchRaw(camoUrl(address, 'http://example.com/x.png', TEST_KEY))).status, 404);
      assert.match((await fetchRaw(address + '/metrics')).text, /^camo_build_info\{[^}]*version="1\.2\.3-test"/m);
    } finally {
      const r = await px.stop('SIGTERM');
      assert.equal(r.code, 0);
    }
  });

  test('configured by GOCAMO_ variables alone, finishes a request in flight on SIGTERM, then exits 0', async () => {
    const images = await testImages();
    const origin = await startOrigin();
    origin.route('/slow.png', trickle(images.bigPng, { first: 1000, step: 4096, intervalMs: 50 }));
    const px = spawnPixgate([], { GOCAMO_LISTEN: '127.0.0.1:0', GOCAMO_HMAC: TEST_KEY, PIXGATE_ALLOW_NETWORKS: '127.0.0.1/32' });
    try {
      const address = await addressOf(px);
      const pending = fetchRaw(camoUrl(address, origin.url('/slow.png'), TEST_KEY));
      while (origin.hits('/slow.png') === 0) await new Promise((r) => setTimeout(r, 10));
      px.child.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 200);
      assert.equal(res.complete, true);
      assert.deepEqual(res.body, images.bigPng);
      const r = await px.stop(null);
      assert.equal(r.code, 0);
      assert.match(r.stderr, /shutting down/);
    } finally {
      await px.stop('SIGKILL');
      await origin.close();
    }
  });

  test('pixgate dev never signs with the keys of the environment: its playground would sign for them', async () => {
    const px = spawnPixgate(['dev', '--listen', '127.0.0.1:0'], { GOCAMO_HMAC: TEST_KEY, IMAGOR_SECRET: 'production-secret' });
    try {
      const [camo] = await px.waitFor(/http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{40}\/[0-9a-f]+/);
      const [imagor] = await px.waitFor(/http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_=-]{28}\/fit-in\/\S+/);
      const encoded = camo.split('/').pop()!;
      const source = Buffer.from(encoded, 'hex').toString('utf8');
      assert.notEqual(camo.split('/').at(-2), createHmac('sha1', TEST_KEY).update(source).digest('hex'));
      const path = imagor.replace(/^http:\/\/[^/]+\/[^/]+\//, '');
      const prodHash = createHmac('sha1', 'production-secret').update(path).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
      assert.notEqual(imagor.split('/')[3], prodHash);
      assert.match(px.output().stderr, /ignores the configured camo keys and imagor secrets/);
    } finally {
      await px.stop();
    }
  });

  test('pixgate dev refuses to listen beyond loopback', async () => {
    const r = await runCli(['dev', '--listen', '0.0.0.0:0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /loopback only.*--listen 0\.0\.0\.0 refused/);
  });

  test('pixgate dev prints a signed camo URL of the bundled sample image that works', async () => {
    const px = spawnPixgate(['dev', '--listen', '127.0.0.1:0']);
    try {
      const [url] = await px.waitFor(/http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{40}\/[0-9a-f]+/);
      const res = await fetchRaw(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'image/jpeg');
      assert.deepEqual(res.body, readFileSync(join(repoRoot, 'assets/sample.jpg')));
    } finally {
      await px.stop();
    }
  });
});
