// Which plain HTTP address pixgate binds: --listen (flag or env), else imagor's BIND, else imagor's PORT, else
// 0.0.0.0:8080; an empty --listen is no plain HTTP listener, as go-camo's `--listen=""`. No socket is opened here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StartupError } from '../../../src/server/app.js';
import { resolveHttpAddress, startListeners } from '../../../src/server/listen.js';
import { loadSettings } from '../../../src/settings/load.js';

function addressFor(env: Record<string, string>, argv: readonly string[] = []) {
  const { settings, explicit } = loadSettings(env, argv);
  return resolveHttpAddress(settings, explicit);
}

describe('resolveHttpAddress', () => {
  const cases: Array<[string, Record<string, string>, string[], { host: string; port: number } | undefined]> = [
    ['nothing set: go-camo\'s default', {}, [], { host: '0.0.0.0', port: 8080 }],
    ['imagor\'s PORT alone: all addresses, that port', { PORT: '8000' }, [], { host: '0.0.0.0', port: 8000 }],
    ['BIND beats PORT', { BIND: '127.0.0.1:9001', PORT: '8000' }, [], { host: '127.0.0.1', port: 9001 }],
    ['--listen beats BIND and PORT', { BIND: '127.0.0.1:9001', PORT: '8000' }, ['--listen', '127.0.0.2:9002'], { host: '127.0.0.2', port: 9002 }],
    ['GOCAMO_LISTEN beats BIND and PORT', { GOCAMO_LISTEN: ':9003', BIND: '127.0.0.1:9001', PORT: '8000' }, [], { host: '0.0.0.0', port: 9003 }],
    ['--listen given as the default value still beats PORT', { PORT: '8000' }, ['--listen', '0.0.0.0:8080'], { host: '0.0.0.0', port: 8080 }],
    ['empty --listen: no plain HTTP listener, even with PORT', { PORT: '8000' }, ['--listen=', '--socket-listen', '/tmp/px.sock'], undefined],
    ['empty PIXGATE_LISTEN: likewise', { PIXGATE_LISTEN: '', BIND: '127.0.0.1:9001' }, ['--socket-listen', '/tmp/px.sock'], undefined],
  ];
  for (const [name, env, argv, expected] of cases) {
    test(name, () => {
      assert.deepEqual(addressFor(env, argv), expected);
    });
  }
});

describe('startListeners', () => {
  test('refuses to start with no listener at all, before binding anything', async () => {
    // Settings that bypass load's own check, as a caller building them by hand could.
    const { settings } = loadSettings({}, []);
    const none = { ...settings, listen: undefined, sslListen: undefined, socketListen: undefined };
    await assert.rejects(
      startListeners(none, undefined, () => assert.fail('no request expected')),
      (err: unknown) => err instanceof StartupError && /no listener/.test(err.message),
    );
  });
});
