import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { isPixgateError } from '../../../src/respond/errors.js';
import type { ErrorCode } from '../../../src/respond/error-table.js';
import {
  resolveImagorRequest,
  signImagorPath,
  signImagorPathAsync,
  verifyImagorHash,
  type ImagorSigner,
} from '../../../src/verify/imagor-signature.js';
import type { AsyncMacFn, MacFn } from '../../../src/verify/mac.js';
import { nodeMac } from '../../../src/verify/node-mac.js';

const GOPHER = '500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png';
const signer = (secret: string, type: ImagorSigner['type'] = 'sha1', truncate = 0): ImagorSigner => ({ secret, type, truncate });

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (e) => isPixgateError(e) && e.code === code);
}

describe('signing', () => {
  test('matches the vectors in imagor docs/docs/security.mdx', () => {
    assert.equal(signImagorPath(GOPHER, signer('mysecret'), nodeMac), 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    assert.equal(signImagorPath(GOPHER, signer('mysecret', 'sha256', 40), nodeMac), 'IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy');
  });

  test("matches imagor's own test vectors (imagor_test.go, imagorpath/params_test.go)", () => {
    assert.equal(signImagorPath('foo.jpg', signer('1234'), nodeMac), '_-19cQt1szHeUV0WyWFntvTImDI=');
    assert.equal(signImagorPath('foo.jpg', signer('1234', 'sha256', 40), nodeMac), '91DBDJtTFePFnbaj5Qq8JLvq5sM5VTipE685f4Gp');
    assert.equal(signImagorPath('assfasf', signer('abcd', 'sha256', 28), nodeMac), 'zb6uWXQxwJDOe_zOgxkuj96Etrsz');
    assert.equal(signImagorPath('filters:fill(red)/gopher.png', signer('1234'), nodeMac), 'GSqGN9NrCj-DlGT38BaycScxM9g=');
  });

  test('is padded base64url of the HMAC for every type, cut only when truncate is shorter', () => {
    for (const type of ['sha1', 'sha256', 'sha512'] as const) {
      const full = createHmac(type, 'k').update('a/b.png').digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
      assert.equal(signImagorPath('a/b.png', signer('k', type), nodeMac), full, type);
      assert.equal(signImagorPath('a/b.png', signer('k', type, 20), nodeMac), full.slice(0, 20), type);
      assert.equal(signImagorPath('a/b.png', signer('k', type, 1000), nodeMac), full, type);
      assert.equal(signImagorPath('a/b.png', signer('k', type, -5), nodeMac), full, type);
    }
    assert.equal(signImagorPath(GOPHER, signer('mysecret', 'sha512'), nodeMac).length, 88);
  });

  test('accepts the secret as bytes and signs the UTF-8 of the path', () => {
    const bytes = new TextEncoder().encode('mysecret');
    assert.equal(signImagorPath(GOPHER, { secret: bytes, type: 'sha1', truncate: 0 }, nodeMac), 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=');
    const expected = createHmac('sha1', 'k').update(Buffer.from('哈.png', 'utf8')).digest('base64url');
    assert.equal(signImagorPath('哈.png', signer('k'), nodeMac).replace(/=+$/, ''), expected);
  });

  test('the async twin gives the same hash', async () => {
    const asyncMac: AsyncMacFn = async (alg, key, msg) => nodeMac(alg, key, msg);
    assert.equal(await signImagorPathAsync(GOPHER, signer('mysecret', 'sha256', 40), asyncMac), 'IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy');
  });
});

describe('verification', () => {
  const good = 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=';

  test('accepts the right hash and refuses another secret', () => {
    assert.equal(verifyImagorHash(good, GOPHER, [signer('mysecret')], nodeMac), true);
    assert.equal(verifyImagorHash(good, GOPHER, [signer('other')], nodeMac), false);
    assert.equal(verifyImagorHash(good, GOPHER, [signer('mysecret', 'sha256')], nodeMac), false);
    assert.equal(verifyImagorHash(good, GOPHER + 'x', [signer('mysecret')], nodeMac), false);
  });

  test('accepts any of several secrets, for rotation', () => {
    const signers = [signer('new-secret', 'sha256', 40), signer('mysecret')];
    assert.equal(verifyImagorHash(good, GOPHER, signers, nodeMac), true);
    assert.equal(verifyImagorHash('IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy', GOPHER, [signer('old'), signer('mysecret', 'sha256', 40)], nodeMac), true);
    assert.equal(verifyImagorHash(good, GOPHER, [], nodeMac), false);
  });

  test('computes every signer even after a match, so timing does not name the key', () => {
    let calls = 0;
    const counting: MacFn = (alg, key, msg) => {
      calls++;
      return nodeMac(alg, key, msg);
    };
    assert.equal(verifyImagorHash(good, GOPHER, [signer('mysecret'), signer('b'), signer('c')], counting), true);
    assert.equal(calls, 3);
  });

  test('refuses every one-character change of a valid hash', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.';
    for (const [hash, s] of [
      [good, signer('mysecret')],
      ['IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy', signer('mysecret', 'sha256', 40)],
    ] as const) {
      for (let i = 0; i < hash.length; i++) {
        for (const c of alphabet) {
          if (c === hash[i]) continue;
          const mutated = hash.slice(0, i) + c + hash.slice(i + 1);
          assert.equal(verifyImagorHash(mutated, GOPHER, [s], nodeMac), false, mutated);
        }
      }
    }
  });

  test('refuses shorter, longer, empty and non-ASCII hashes without throwing', () => {
    const s = [signer('mysecret')];
    for (const hash of ['', good.slice(0, -1), good.slice(0, 17), good + 'A', good + good, 'é'.repeat(28), good.replace('=', '\u0000')]) {
      assert.equal(verifyImagorHash(hash, GOPHER, s, nodeMac), false, JSON.stringify(hash));
    }
  });
});

describe('resolving a request path', () => {
  const s1234 = [signer('1234')];

  test('serves a signed path and returns the exact signed substring', () => {
    const got = resolveImagorRequest(`/cST4Ko5_FqwT3BDn-Wf4gO3RFSk=/${GOPHER}`, [signer('mysecret')], false, nodeMac);
    assert.equal(got.kind, 'signed');
    assert.equal(got.path, GOPHER);
    assert.equal(got.params.width, 500);
    assert.equal(got.params.vAlign, 'top');
    assert.equal(got.params.image, 'raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png');
    assert.equal(got.unescaped, undefined);
  });

  test("refuses a wrong, truncated or missing hash (imagor_test.go TestWithSigner)", () => {
    throwsCode(() => resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTIm/foo.jpg', s1234, false, nodeMac), 'BAD_SIGNATURE');
    throwsCode(() => resolveImagorRequest('/foo.jpg', s1234, false, nodeMac), 'BAD_SIGNATURE');
    throwsCode(() => resolveImagorRequest('/fit-in/300x200/foo.jpg', s1234, true, nodeMac), 'BAD_SIGNATURE');
    assert.equal(resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTImDI=/foo.jpg', s1234, false, nodeMac).params.image, 'foo.jpg');
  });

  test('a signature for one secret type does not pass another (imagor_test.go TestWithCustomSigner)', () => {
    const sha256 = [signer('1234', 'sha256', 40)];
    assert.equal(resolveImagorRequest('/91DBDJtTFePFnbaj5Qq8JLvq5sM5VTipE685f4Gp/foo.jpg', sha256, false, nodeMac).kind, 'signed');
    throwsCode(() => resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTImDI=/foo.jpg', sha256, false, nodeMac), 'BAD_SIGNATURE');
  });

  test('accepts unsafe/ only in unsafe mode', () => {
    throwsCode(() => resolveImagorRequest('/unsafe/foo.jpg', s1234, false, nodeMac), 'BAD_SIGNATURE');
    throwsCode(() => resolveImagorRequest('/unsafe/foo.jpg', [], false, nodeMac), 'BAD_SIGNATURE');
    const got = resolveImagorRequest('/unsafe/fit-in/foo.jpg', [], true, nodeMac);
    assert.equal(got.kind, 'unsafe');
    assert.equal(got.path, 'fit-in/foo.jpg');
    assert.equal(got.params.fitIn, true);
  });

  test('still verifies hashes in unsafe mode', () => {
    throwsCode(() => resolveImagorRequest('/abcdefghijklmnopqrstu/foo.jpg', s1234, true, nodeMac), 'BAD_SIGNATURE');
    assert.equal(resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTImDI=/foo.jpg', s1234, true, nodeMac).kind, 'signed');
  });

  test('no configured secret verifies nothing', () => {
    const emptySecretHash = signImagorPath('foo.jpg', signer(''), nodeMac);
    throwsCode(() => resolveImagorRequest(`/${emptySecretHash}/foo.jpg`, [], false, nodeMac), 'BAD_SIGNATURE');
  });

  test('a signer truncated below 17 characters can never be recognised', () => {
    const short = signer('1234', 'sha256', 16);
    const hash = signImagorPath('foo.jpg', short, nodeMac);
    throwsCode(() => resolveImagorRequest(`/${hash}/foo.jpg`, [short], false, nodeMac), 'BAD_SIGNATURE');
  });

  test('retries with the unescaped path when the escaped one fails (imagor_test.go TestWithRetryQueryUnescape)', () => {
    const got = resolveImagorRequest('/GSqGN9NrCj-DlGT38BaycScxM9g=/filters%3Afill%28red%29/gopher.png', s1234, false, nodeMac);
    assert.equal(got.kind, 'signed');
    assert.equal(got.path, 'filters:fill(red)/gopher.png');
    assert.deepEqual(got.params.filters, [{ name: 'fill', args: 'red' }]);
    assert.equal(got.params.image, 'gopher.png');
  });

  test('offers the unescaped reading of an unsafe path for the loader retry', () => {
    const got = resolveImagorRequest('/unsafe/filters%3Afill%28red%29/gopher.png', [], true, nodeMac);
    assert.equal(got.params.image, 'filters:fill(red)/gopher.png');
    assert.deepEqual(got.params.filters, []);
    assert.ok(got.unescaped);
    assert.equal(got.unescaped.path, 'filters:fill(red)/gopher.png');
    assert.deepEqual(got.unescaped.params.filters, [{ name: 'fill', args: 'red' }]);
    assert.equal(got.unescaped.params.image, 'gopher.png');
  });

  test('offers no unescaped reading when it would not verify or changes nothing', () => {
    const escaped = 'fit-in/a%20b.jpg';
    const hash = signImagorPath(escaped, signer('1234'), nodeMac);
    const got = resolveImagorRequest(`/${hash}/${escaped}`, s1234, false, nodeMac);
    assert.equal(got.params.image, 'a b.jpg');
    assert.equal(got.unescaped, undefined);
    assert.equal(resolveImagorRequest('/unsafe/a.jpg', [], true, nodeMac).unescaped, undefined);
  });

  test('reports the retry error when both readings fail', () => {
    throwsCode(() => resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTImDI=/filters%3Ablur%281%29%2F', s1234, false, nodeMac), 'BAD_SIGNATURE');
    // the unescaped reading verifies but names no image: its INVALID_PARAMS replaces the first BAD_SIGNATURE
    const hash = signImagorPath('filters:blur(1)/', signer('1234'), nodeMac);
    throwsCode(() => resolveImagorRequest(`/${hash}/filters%3Ablur%281%29%2F`, s1234, false, nodeMac), 'INVALID_PARAMS');
  });

  test('keeps the first reading when the path has an invalid escape', () => {
    const path = 'a%zz.jpg';
    const hash = signImagorPath(path, signer('1234'), nodeMac);
    const got = resolveImagorRequest(`/${hash}/${path}`, s1234, false, nodeMac);
    assert.equal(got.params.image, 'a%zz.jpg');
    throwsCode(() => resolveImagorRequest('/_-19cQt1szHeUV0WyWFntvTImDI=/a%zz.jpg', s1234, false, nodeMac), 'BAD_SIGNATURE');
  });

  test('an empty path or image is invalid, after the signature check', () => {
    throwsCode(() => resolveImagorRequest('/unsafe/', [], false, nodeMac), 'INVALID_PARAMS');
    throwsCode(() => resolveImagorRequest('/unsafe/', [], true, nodeMac), 'INVALID_PARAMS');
    throwsCode(() => resolveImagorRequest('/unsafe/fit-in/300x200/', [], true, nodeMac), 'INVALID_PARAMS');
    throwsCode(() => resolveImagorRequest('/abcdefghijklmnopqrstu/fit-in/300x200/', s1234, false, nodeMac), 'BAD_SIGNATURE');
    const hash = signImagorPath('fit-in/300x200/', signer('1234'), nodeMac);
    throwsCode(() => resolveImagorRequest(`/${hash}/fit-in/300x200/`, s1234, false, nodeMac), 'INVALID_PARAMS');
  });

  test('passes the params/ flag through for the caller to act on', () => {
    const got = resolveImagorRequest('/params/_-19cQt1szHeUV0WyWFntvTImDI=/foo.jpg', s1234, false, nodeMac);
    assert.equal(got.params.paramsEndpoint, true);
    assert.equal(got.path, 'foo.jpg');
  });

  test('verifies on the path after the first hash only, never a search-and-replace of it', () => {
    const inner = 'abcdefghijklmnopqrstu/a.png';
    const hash = signImagorPath(inner, signer('1234'), nodeMac);
    // same text as the hash appears again inside the path
    const path = `${hash}/${inner}`;
    const outerHash = signImagorPath(path, signer('1234'), nodeMac);
    const got = resolveImagorRequest(`/${outerHash}/${path}`, s1234, false, nodeMac);
    assert.equal(got.path, path);
    throwsCode(() => resolveImagorRequest(`/${hash}/${hash}/${inner}`, s1234, false, nodeMac), 'BAD_SIGNATURE');
  });
});
