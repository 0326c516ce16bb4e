import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSign } from '../../../src/cli/sign.js';
import { resolveImagorRequest } from '../../../src/verify/imagor-signature.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

const GOPHER = '500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png';

// Expected outputs are the vectors of imagor docs/docs/security.mdx.
test('prints HASH/PATH for a secret given as a flag', () => {
  assert.deepEqual(runSign(['--secret', 'mysecret', GOPHER], {}), {
    stdout: `cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/${GOPHER}\n`,
    stderr: '',
    exitCode: 0,
  });
});

test('reads secret, type and truncation from the IMAGOR_* environment', () => {
  const env = { IMAGOR_SECRET: 'mysecret', IMAGOR_SIGNER_TYPE: 'sha256', IMAGOR_SIGNER_TRUNCATE: '40' };
  assert.equal(runSign([GOPHER], env).stdout, `IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy/${GOPHER}\n`);
});

test('flags win over the environment and accept --flag=value', () => {
  const env = { IMAGOR_SECRET: 'wrong', IMAGOR_SIGNER_TYPE: 'sha512', IMAGOR_SIGNER_TRUNCATE: '20' };
  const out = runSign(['--secret=mysecret', '--signer-type=SHA256', '--signer-truncate', '40', GOPHER], env);
  assert.equal(out.stdout, `IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy/${GOPHER}\n`);
});

test('signs the path without its leading slashes', () => {
  assert.equal(runSign(['--secret', 'mysecret', `//${GOPHER}`], {}).stdout, `cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/${GOPHER}\n`);
});

test('takes a path that starts with a dash after --', () => {
  const out = runSign(['--secret', '1234', '--', '-300x-200/foo.jpg'], {});
  assert.equal(out.exitCode, 0);
  assert.match(out.stdout, /^[A-Za-z0-9_=-]{28}\/-300x-200\/foo\.jpg\n$/);
});

test('what it prints verifies on the server', () => {
  const out = runSign(['--secret', 's3cret', '--signer-type', 'sha512', '--signer-truncate', '32', 'fit-in/300x200/filters:fill(white)/a.com/b.png'], {});
  const got = resolveImagorRequest(`/${out.stdout.trim()}`, [{ secret: 's3cret', type: 'sha512', truncate: 32 }], false, nodeMac);
  assert.equal(got.params.image, 'a.com/b.png');
});

test('refuses bad input with exit code 2 and a reason on stderr', () => {
  const table: Array<[string[], Record<string, string>, RegExp]> = [
    [[GOPHER], {}, /no secret/],
    [['--secret', '', GOPHER], { IMAGOR_SECRET: 'x' }, /no secret/],
    [['--secret', 'k'], {}, /missing PATH/],
    [['--secret', 'k', 'a', 'b'], {}, /single PATH/],
    [['--secret'], {}, /--secret needs a value/],
    [['--key', 'k', GOPHER], {}, /unknown option --key/],
    [['--secret', 'k', '--signer-type', 'md5', GOPHER], {}, /expected sha1\|sha256\|sha512/],
    [['--secret', 'k', GOPHER], { IMAGOR_SIGNER_TYPE: 'md5' }, /IMAGOR_SIGNER_TYPE/],
    [['--secret', 'k', '--signer-truncate', '-1', GOPHER], {}, /whole number/],
    [['--secret', 'k', '--signer-truncate', 'ten', GOPHER], {}, /whole number/],
    [['--secret', 'k', '--signer-truncate', '16', GOPHER], {}, /17 or more/],
  ];
  for (const [argv, env, message] of table) {
    const out = runSign(argv, env);
    assert.equal(out.exitCode, 2, argv.join(' '));
    assert.equal(out.stdout, '');
    assert.match(out.stderr, message, argv.join(' '));
  }
});

test('prints usage for --help', () => {
  const out = runSign(['--help'], {});
  assert.equal(out.exitCode, 0);
  assert.match(out.stdout, /^Usage: pixgate sign/);
});
