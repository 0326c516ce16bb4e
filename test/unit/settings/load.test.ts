import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { loadSettings, SettingsError, suggest } from '../../../src/settings/load.js';
import { settingEntries } from '../../../src/settings/table.js';

/** The error list of a load that must fail. */
function errorsOf(env: Record<string, string>, argv: readonly string[] = []): readonly string[] {
  try {
    loadSettings(env, argv);
  } catch (err) {
    if (err instanceof SettingsError) return err.errors;
    throw err;
  }
  assert.fail('expected a SettingsError');
}

describe('values and precedence', () => {
  test('with nothing given, every setting has its default (go-camo defaults for the camo flags)', () => {
    const { settings, explicit, warnings } = loadSettings({}, []);
    assert.deepEqual(settings.camoKeys, []);
    assert.equal(settings.maxRedirects, 3);
    assert.equal(settings.timeout, 4000);
    assert.deepEqual(settings.listen, { host: '0.0.0.0', port: 8080 });
    assert.equal(settings.metrics, false);
    assert.equal(settings.xForwardedFor, false);
    assert.equal(explicit.size, 0);
    assert.deepEqual(warnings, []);
  });

  test('reads go-camo and pixgate env names', () => {
    assert.equal(loadSettings({ GOCAMO_TIMEOUT: '2s' }, []).settings.timeout, 2000);
    assert.equal(loadSettings({ PIXGATE_TIMEOUT: '250ms' }, []).settings.timeout, 250);
    assert.deepEqual(loadSettings({ GOCAMO_HMAC: 'a, b' }, []).settings.camoKeys, ['a', 'b']);
  });

  test('a flag overrides the environment', () => {
    const { settings, explicit } = loadSettings({ PIXGATE_TIMEOUT: '2s' }, ['--timeout', '5s']);
    assert.equal(settings.timeout, 5000);
    assert.ok(explicit.has('timeout'));
  });

  test('repeated list flags accumulate and replace the env list', () => {
    const { settings } = loadSettings({ PIXGATE_CAMO_KEYS: 'env-a,env-b' }, ['-k', 'flag-a', '--key', 'flag-b']);
    assert.deepEqual(settings.camoKeys, ['flag-a', 'flag-b']);
  });

  test('takes --name value, --name=value, -kVALUE and -k VALUE', () => {
    const { settings } = loadSettings({}, ['--max-redirects=5', '--timeout', '1s', '-kone', '-k', 'two']);
    assert.equal(settings.maxRedirects, 5);
    assert.equal(settings.timeout, 1000);
    assert.deepEqual(settings.camoKeys, ['one', 'two']);
  });

  test('a boolean flag takes no argument, and --flag=false turns it off', () => {
    const on = loadSettings({}, ['--metrics', '-k', 'x']).settings;
    assert.equal(on.metrics, true);
    assert.deepEqual(on.camoKeys, ['x']);
    assert.equal(loadSettings({ PIXGATE_METRICS: 'true' }, ['--metrics=false']).settings.metrics, false);
  });

  test('two env names of one setting may both be set to the same value', () => {
    assert.deepEqual(loadSettings({ GOCAMO_HMAC: 'k', PIXGATE_CAMO_KEYS: 'k' }, []).settings.camoKeys, ['k']);
  });

  test('ignores environment variables outside our prefixes', () => {
    assert.doesNotThrow(() => loadSettings({ PATH: '/bin', HOME: '/root', TIMEOUT: 'x', NODE_OPTIONS: '' }, []));
  });

  test('accepts an acknowledged peer variable with a warning that says why', () => {
    const { warnings } = loadSettings({ IMAGOR_BASE_PATH_REDIRECT: '/x' }, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^IMAGOR_BASE_PATH_REDIRECT is not supported and has no effect: /);
  });

  test('refuses a peer feature pixgate lacks, as env or flag, with the reason', () => {
    for (const [env, argv] of [[{ GOCAMO_QUIC: 'true' }, []], [{}, ['--quic']], [{}, ['--prof']]] as const) {
      assert.throws(() => loadSettings(env, argv), (e: SettingsError) => /is not supported: /.test(e.errors.join('\n')));
    }
  });

  test('returns frozen settings', () => {
    const { settings } = loadSettings({}, []);
    assert.ok(Object.isFrozen(settings));
  });
});

describe('errors name the setting', () => {
  test('an invalid env value names the variable, the flag and what was expected', () => {
    assert.deepEqual(errorsOf({ PIXGATE_TIMEOUT: '4x' }), ['PIXGATE_TIMEOUT=4x: expected a duration like 4s, 500ms, 1m30s or 168h (--timeout)']);
  });

  test('an invalid flag value names the flag', () => {
    assert.deepEqual(errorsOf({}, ['--max-redirects', '99']), ['--max-redirects=99: expected an integer from 0 to 20 (--max-redirects)']);
  });

  test('a secret value is never repeated in a message', (t) => {
    const entry = settingEntries.find(([, spec]) => spec.type.secret && !spec.type.isList && spec.env.length > 0);
    if (!entry) return t.skip('the table has no single-valued secret setting');
    const name = entry[1].env[0]!;
    const errors = errorsOf({ [name]: '' });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, new RegExp(`^${name}=\\*\\*\\*: `));
  });

  test('an empty key list is no key at all (camo off), not an error', () => {
    assert.deepEqual(loadSettings({ GOCAMO_HMAC: ' , ' }, []).settings.camoKeys, []);
  });

  test('an unknown variable in one of our prefixes is an error with a suggestion', () => {
    assert.deepEqual(errorsOf({ PIXGATE_TIMOUT: '4s' }), ['PIXGATE_TIMOUT: unknown setting (did you mean PIXGATE_TIMEOUT?)']);
    assert.deepEqual(errorsOf({ GOCAMO_MAXSIZE: '10' }), ['GOCAMO_MAXSIZE: unknown setting (did you mean GOCAMO_MAX_SIZE?)']);
    assert.deepEqual(errorsOf({ GOCAMO_SOMETHING_ELSE_ENTIRELY: '1' }), ['GOCAMO_SOMETHING_ELSE_ENTIRELY: unknown setting']);
  });

  test('an unknown flag is an error with a suggestion', () => {
    assert.deepEqual(errorsOf({}, ['--max-redirect', '3']), ['--max-redirect: unknown flag (did you mean --max-redirects?)', 'unexpected argument "3"']);
  });

  test('a flag without its value at the end of the line', () => {
    assert.deepEqual(errorsOf({}, ['--timeout']), ['--timeout: expects a value (duration)']);
  });

  test('a stray positional argument', () => {
    assert.deepEqual(errorsOf({}, ['serve-me']), ['unexpected argument "serve-me"']);
  });

  test('two env names of one setting with different values, without the values', () => {
    const errors = errorsOf({ GOCAMO_HMAC: 'secret-a', PIXGATE_CAMO_KEYS: 'secret-b' });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /PIXGATE_CAMO_KEYS and GOCAMO_HMAC are both set, to different values/);
    assert.doesNotMatch(errors[0]!, /secret-/);
  });

  test('every problem is reported at once', () => {
    const errors = errorsOf({ PIXGATE_TIMEOUT: 'soon', PIXGATE_TIMOUT: '1s' }, ['--max-redirects', 'x', '--nope']);
    assert.equal(errors.length, 4);
  });

  test('--ssl-listen needs --ssl-key and --ssl-cert, and they need it', () => {
    assert.match(errorsOf({}, ['--ssl-listen', ':8443'])[0]!, /--ssl-listen needs both --ssl-key and --ssl-cert/);
    assert.match(errorsOf({}, ['--ssl-key', 'k.pem', '--ssl-cert', 'c.pem'])[0]!, /--ssl-listen is not/);
    assert.doesNotThrow(() => loadSettings({}, ['--ssl-listen', ':8443', '--ssl-key', 'k.pem', '--ssl-cert', 'c.pem']));
  });

  test('--camo-prefix must be a path', () => {
    assert.match(errorsOf({}, ['--camo-prefix', 'camo'])[0]!, /--camo-prefix=camo: expected a path/);
    assert.equal(loadSettings({}, ['--camo-prefix', '/camo']).settings.camoPrefix, '/camo');
  });
});

describe('header-like values are checked at start (node:http would refuse them on the first request)', () => {
  test('a control character in the server name stops the start, naming the variable and the flag', () => {
    assert.deepEqual(errorsOf({ PIXGATE_SERVER_NAME: 'pix\x01gate' }), [
      'PIXGATE_SERVER_NAME=pix\\u0001gate: a header value cannot hold the control character U+0001 at position 4: only tab and printable characters are allowed (--server-name)',
    ]);
    assert.match(errorsOf({ GOCAMO_SERVER_NAME: 'a\x7f' })[0]!, /^GOCAMO_SERVER_NAME=.*U\+007F.*\(--server-name\)$/);
  });

  test('-H and GOCAMO_HEADER refuse a control character or a character outside Latin-1 in the value', () => {
    assert.match(errorsOf({}, ['-H', 'X-A: a\x01b'])[0]!, /^-H=X-A: a\\u0001b: a header value cannot hold the control character U\+0001/);
    assert.match(errorsOf({ GOCAMO_HEADER: 'X-A: ok\nX-B: 10 €' })[0]!, /^GOCAMO_HEADER=.*U\+20AC.*only Latin-1.*\(--header, -H\)$/);
  });

  test('--user-agent refuses what node:http and undici would refuse', () => {
    assert.match(errorsOf({}, ['--user-agent', 'bot\x00'])[0]!, /^--user-agent=bot\\u0000: .*U\+0000/);
    assert.match(errorsOf({ GOCAMO_USER_AGENT: 'bøt ☃' })[0]!, /U\+2603/);
  });

  test('accepts tab, spaces and Latin-1 letters', () => {
    const { settings } = loadSettings({ PIXGATE_SERVER_NAME: 'pixgate café', PIXGATE_USER_AGENT: 'bot\t1' }, ['-H', 'X-A: ÿ']);
    assert.equal(settings.serverName, 'pixgate café');
    assert.equal(settings.userAgent, 'bot\t1');
    assert.deepEqual(settings.headers, [['X-A', 'ÿ']]);
  });
});

describe('IMAGOR_PROCESS_CONCURRENCY', () => {
  test('takes imagor\'s -1 ("no limit", its default) and 0 as the number of cores, with a warning naming the setting', () => {
    for (const raw of ['-1', '0']) {
      const { settings, warnings } = loadSettings({ IMAGOR_PROCESS_CONCURRENCY: raw }, []);
      assert.equal(settings.processConcurrency, Math.max(1, availableParallelism()));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`^IMAGOR_PROCESS_CONCURRENCY=${raw}: imagor's "no limit"; .*the number of cores.*\\(--imagor-process-concurrency\\)$`));
    }
    assert.equal(loadSettings({}, ['--imagor-process-concurrency', '-1']).warnings.length, 1);
  });

  test('a number from 1 is taken as it is, without a warning', () => {
    const { settings, warnings } = loadSettings({ IMAGOR_PROCESS_CONCURRENCY: '3' }, []);
    assert.equal(settings.processConcurrency, 3);
    assert.deepEqual(warnings, []);
  });

  test('refuses other negative numbers and more than 1024', () => {
    assert.match(errorsOf({ IMAGOR_PROCESS_CONCURRENCY: '-2' })[0]!, /^IMAGOR_PROCESS_CONCURRENCY=-2: expected an integer from 1 to 1024, or -1/);
    assert.match(errorsOf({ IMAGOR_PROCESS_CONCURRENCY: '1025' })[0]!, /expected an integer from 1 to 1024/);
  });
});

describe('empty values that go-camo treats specially', () => {
  test('an explicitly empty -k or --key stops the start, as go-camo\'s "HMAC key required"', () => {
    for (const argv of [['-k', ''], ['--key='], ['-k', ' , '], ['-k', 'good', '--key', '']]) {
      const errors = errorsOf({}, argv);
      assert.equal(errors.length, 1, JSON.stringify(argv));
      assert.match(errors[0]!, /^(-k|--key)=\*\*\*: HMAC key required/);
    }
  });

  test('an empty --listen, flag or env, means no plain HTTP listener when another listener is set', () => {
    assert.equal(loadSettings({}, ['--listen=', '--socket-listen', '/tmp/px.sock']).settings.listen, undefined);
    assert.equal(loadSettings({}, ['--listen', '', '--socket-listen', '/tmp/px.sock']).settings.listen, undefined);
    assert.equal(loadSettings({ GOCAMO_LISTEN: '', PIXGATE_SOCKET_LISTEN: '/tmp/px.sock' }, []).settings.listen, undefined);
    const tls = ['--ssl-listen', ':8443', '--ssl-key', 'k.pem', '--ssl-cert', 'c.pem'];
    assert.equal(loadSettings({ PIXGATE_LISTEN: ' ' }, tls).settings.listen, undefined);
  });

  test('an empty --listen with no other listener stops the start, naming the settings', () => {
    for (const [env, argv] of [[{}, ['--listen=']], [{ GOCAMO_LISTEN: '' }, []], [{ PORT: '9000' }, ['--listen', '']]] as const) {
      const errors = errorsOf(env, argv);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!, /--listen is empty .* neither --ssl-listen nor --socket-listen is set.*PIXGATE_LISTEN.*PIXGATE_SSL_LISTEN.*PIXGATE_SOCKET_LISTEN/);
    }
  });
});

describe('suggest', () => {
  test('proposes the closest known name when it is close, in any case', () => {
    assert.equal(suggest('--max-redirect', ['--max-redirects', '--max-size']), ' (did you mean --max-redirects?)');
    assert.equal(suggest('pixgate_timeout', ['PIXGATE_TIMEOUT']), ' (did you mean PIXGATE_TIMEOUT?)');
  });
  test('proposes nothing for a distant name', () => {
    assert.equal(suggest('--colour', ['--max-redirects', '--timeout']), '');
  });
});

describe('the table', () => {
  test('no two settings share an env name or a flag', () => {
    const seen = new Map<string, string>();
    for (const [key, spec] of settingEntries) {
      for (const name of [...spec.env, ...spec.flags, ...(spec.short ? [spec.short] : [])]) {
        assert.equal(seen.get(name), undefined, `${name} is used by ${seen.get(name)} and ${key}`);
        seen.set(name, key);
      }
    }
  });
});
