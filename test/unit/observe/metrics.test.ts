// camo_responses_total's method label as go-camo writes it: promhttp's sanitizeMethod (prometheus/client_golang
// prometheus/promhttp/instrument_server.go, the version go-camo vendors) lower-cases ten known methods, spelt in
// upper or lower case, and turns anything else into "unknown".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, methodLabel } from '../../../src/observe/metrics.js';

const build = { version: '0.0.0', revision: '', branch: '', buildDate: '' };

test('labels the methods promhttp knows in lower case, from either spelling', () => {
  const known = ['GET', 'PUT', 'HEAD', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'NOTIFY', 'TRACE', 'PATCH'];
  for (const m of known) {
    assert.equal(methodLabel(m), m.toLowerCase(), m);
    assert.equal(methodLabel(m.toLowerCase()), m.toLowerCase(), m.toLowerCase());
  }
});

test('labels any other method "unknown", mixed case and empty included', () => {
  for (const m of ['Get', 'gEt', 'PROPFIND', 'PURGE', 'FOO', '', 'GET ']) assert.equal(methodLabel(m), 'unknown', JSON.stringify(m));
});

test('camo_responses_total counts by status code and sanitized method', async () => {
  const metrics = createMetrics(build);
  metrics.countResponse('200', 'GET');
  metrics.countResponse('200', 'get');
  metrics.countResponse('200', 'HEAD');
  metrics.countResponse('405', 'PROPFIND');
  metrics.countResponse('405', 'BREW');
  const text = await metrics.registry.metrics();
  const lines = text.split('\n').filter((l) => l.startsWith('camo_responses_total{')).sort();
  assert.deepEqual(lines, [
    'camo_responses_total{code="200",method="get"} 2',
    'camo_responses_total{code="200",method="head"} 1',
    'camo_responses_total{code="405",method="unknown"} 2',
  ]);
});

test('pixgate_requests_total counts by route and code', async () => {
  const metrics = createMetrics(build);
  metrics.countRequest('camo', '200');
  metrics.countRequest('camo', '200');
  metrics.countRequest('camo', '404');
  metrics.countRequest('health', '200');
  const lines = (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('pixgate_requests_total{')).sort();
  assert.deepEqual(lines, [
    'pixgate_requests_total{route="camo",code="200"} 2',
    'pixgate_requests_total{route="camo",code="404"} 1',
    'pixgate_requests_total{route="health",code="200"} 1',
  ]);
});
