// The pure parts of the cluster: the worker count, the restart back-off, the `workers` setting, the sum of
// several workers' metrics that /metrics serves, and the primary's table of result leases. The processes
// themselves are in test/http/fleet.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LEASE_ACQUIRE, LEASE_RELEASE, LEASE_REPLY } from '../../../src/jobs/fleet-lease.js';
import {
  aggregateMetrics,
  answerLeaseMessage,
  createLeaseTable,
  MAX_START_FAILURES,
  resolveWorkerCount,
  restartDelayMs,
} from '../../../src/server/cluster.js';
import { loadSettings, SettingsError } from '../../../src/settings/load.js';

test('workers=auto is one per core, and a number is taken as it is', () => {
  assert.equal(resolveWorkerCount('auto', 8), 8);
  assert.equal(resolveWorkerCount('auto', 1), 1);
  assert.equal(resolveWorkerCount('auto', 0), 1);
  assert.equal(resolveWorkerCount(3, 8), 3);
  assert.equal(resolveWorkerCount(1, 64), 1);
});

test('PIXGATE_WORKERS and --workers accept auto and 1..1024, default 1', () => {
  const cases: Array<[Record<string, string>, string[], number | 'auto']> = [
    [{}, [], 1],
    [{ PIXGATE_WORKERS: 'auto' }, [], 'auto'],
    [{ PIXGATE_WORKERS: 'AUTO' }, [], 'auto'],
    [{ PIXGATE_WORKERS: '4' }, [], 4],
    [{}, ['--workers', '2'], 2],
    [{}, ['--workers=1024'], 1024],
  ];
  for (const [env, argv, expected] of cases) {
    assert.equal(loadSettings(env, argv).settings.workers, expected, JSON.stringify({ env, argv }));
  }
});

test('refuses a worker count of 0, a negative one, over 1024, or not a number, naming the setting', () => {
  for (const raw of ['0', '-2', '1025', 'two', '1.5']) {
    assert.throws(
      () => loadSettings({ PIXGATE_WORKERS: raw }, []),
      (err: unknown) => err instanceof SettingsError && err.errors.some((e) => e.includes('PIXGATE_WORKERS') && e.includes('auto')),
      `PIXGATE_WORKERS=${raw}`,
    );
  }
});

test('a worker that ran for a while is replaced at once; workers dying young wait 250 ms doubling to 30 s', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 50, 1e6].map(restartDelayMs),
    [0, 250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000],
  );
});

test('the start is given up only after several workers in a row died before listening', () => {
  assert.ok(MAX_START_FAILURES >= 3);
  // The wait before the last attempt stays short enough for a supervisor to see the failure within seconds.
  const total = Array.from({ length: MAX_START_FAILURES - 1 }, (_, i) => restartDelayMs(i + 1)).reduce((a, b) => a + b, 0);
  assert.ok(total <= 10_000, `${total} ms`);
});

/** The metrics of one worker, as prom-client's getMetricsAsJSON gives them. */
async function workerMetrics(requests: number, queued: number, seconds: readonly number[]) {
  const registry = new Registry();
  const counter = new Counter({ name: 'pixgate_requests_total', help: 'h', labelNames: ['route', 'code'], registers: [registry] });
  counter.inc({ route: 'imagor', code: '200' }, requests);
  new Gauge({ name: 'pixgate_queue_depth', help: 'h', registers: [registry] }).set(queued);
  const histogram = new Histogram({ name: 'pixgate_process_duration_seconds', help: 'h', buckets: [0.1, 1], registers: [registry] });
  for (const s of seconds) histogram.observe(s);
  new Gauge({ name: 'camo_build_info', help: 'h', labelNames: ['version'], registers: [registry] }).set({ version: '0.1.0' }, 1);
  return registry.getMetricsAsJSON();
}

function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics of a cluster sums counters, gauges and histograms over the workers, and keeps build info at 1', async () => {
  const text = await aggregateMetrics([await workerMetrics(3, 2, [0.05, 0.5]), await workerMetrics(4, 1, [2])]);
  assert.equal(valueOf(text, 'pixgate_requests_total{route="imagor",code="200"}'), 7);
  assert.equal(valueOf(text, 'pixgate_queue_depth'), 3);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_bucket{le="0.1"}'), 1);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_bucket{le="1"}'), 2);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_bucket{le="+Inf"}'), 3);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_count'), 3);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_sum'), 2.55);
  assert.equal(valueOf(text, 'camo_build_info{version="0.1.0"}'), 1);
});

test('the metrics of a single worker come out as that worker has them', async () => {
  const text = await aggregateMetrics([await workerMetrics(5, 0, [])]);
  assert.equal(valueOf(text, 'pixgate_requests_total{route="imagor",code="200"}'), 5);
  assert.equal(valueOf(text, 'pixgate_queue_depth'), 0);
  assert.equal(valueOf(text, 'pixgate_process_duration_seconds_count'), 0);
});

// ---------------------------------------------------------------------------------------------------------
// Result leases

/** A lease table whose notices are recorded as `worker#id`. */
function leaseTable() {
  const told: string[] = [];
  const table = createLeaseTable<string>((worker, id) => told.push(`${worker}#${id}`));
  return { table, told };
}

test('the first worker to ask for a key holds it; later askers, from any worker, queue behind it', () => {
  const { table, told } = leaseTable();
  assert.equal(table.acquire('a', 0, 'k'), true);
  assert.equal(table.acquire('b', 0, 'k'), false);
  assert.equal(table.acquire('c', 7, 'k'), false);
  assert.equal(table.acquire('a', 1, 'k'), false, 'the holder\'s own worker asking again queues too');
  assert.equal(table.acquire('b', 1, 'other'), true, 'keys are independent');
  assert.equal(table.size, 2);
  assert.deepEqual(told, []);
});

test('the holder giving the key back tells every queued asker at once, and the key is free again', () => {
  const { table, told } = leaseTable();
  table.acquire('a', 0, 'k');
  table.acquire('b', 0, 'k');
  table.acquire('c', 3, 'k');
  table.release('a', 0);
  assert.deepEqual(told, ['b#0', 'c#3']);
  assert.equal(table.size, 0);
  // Those told are no longer queued: giving back their ids changes nothing, and the next asker holds the key.
  table.release('b', 0);
  table.release('c', 3);
  assert.equal(table.acquire('c', 4, 'k'), true);
  assert.equal(table.acquire('b', 1, 'k'), false);
  assert.deepEqual(told, ['b#0', 'c#3']);
});

test('an asker that stops waiting leaves the queue and is not told later', () => {
  const { table, told } = leaseTable();
  table.acquire('a', 0, 'k');
  table.acquire('b', 0, 'k');
  table.acquire('c', 0, 'k');
  table.release('b', 0);
  assert.equal(table.size, 1, 'a queued asker leaving does not free the key');
  table.release('a', 0);
  assert.deepEqual(told, ['c#0']);
});

test('ids are per worker: another worker giving back the same id frees nothing, and unknown ids are ignored', () => {
  const { table, told } = leaseTable();
  table.acquire('a', 0, 'k');
  table.acquire('b', 1, 'k');
  table.release('b', 0);
  table.release('c', 0);
  table.release('a', 99);
  assert.equal(table.size, 1);
  assert.deepEqual(told, []);
  table.release('a', 0);
  table.release('a', 0);
  assert.deepEqual(told, ['b#1'], 'a second release tells nobody again');
});

test('a worker that exits gives back what it held and leaves every queue, without being told itself', () => {
  const { table, told } = leaseTable();
  table.acquire('a', 0, 'k1');
  table.acquire('a', 1, 'k2');
  table.acquire('b', 0, 'k1');
  table.acquire('a', 2, 'k1'); // queued behind its own lease
  table.acquire('b', 1, 'k3');
  table.acquire('a', 3, 'k3'); // queued behind b
  table.acquire('c', 0, 'k2');
  table.drop('a');
  assert.deepEqual(told.sort(), ['b#0', 'c#0']);
  assert.equal(table.size, 1, 'only b\'s k3 is held');
  table.release('b', 1);
  assert.deepEqual(told.sort(), ['b#0', 'c#0'], 'the exited worker was no longer queued for k3');
  assert.equal(table.size, 0);
  table.drop('nobody');
});

test('the primary answers lease messages: a grant, a queue place, and a release that frees the queue', () => {
  const { table, told } = leaseTable();
  const replies: object[] = [];
  const answer = (worker: string, msg: unknown) => answerLeaseMessage(table, worker, msg, (m) => replies.push(m));
  assert.equal(answer('a', { type: LEASE_ACQUIRE, id: 4, key: 'k' }), true);
  assert.equal(answer('b', { type: LEASE_ACQUIRE, id: 9, key: 'k' }), true);
  assert.deepEqual(replies, [
    { type: LEASE_REPLY, id: 4, granted: true },
    { type: LEASE_REPLY, id: 9, granted: false },
  ]);
  assert.equal(answer('a', { type: LEASE_RELEASE, id: 4 }), true);
  assert.deepEqual(told, ['b#9']);
  // Not lease messages, or malformed ones: nothing is granted or answered.
  assert.equal(answer('a', { type: 'pixgate:metrics-request', id: 1 }), false);
  assert.equal(answer('a', 'pixgate:lease-acquire'), false);
  assert.equal(answer('a', { type: LEASE_ACQUIRE, id: '5', key: 'k' }), true);
  assert.equal(answer('a', { type: LEASE_ACQUIRE, id: 5 }), true);
  assert.equal(replies.length, 2);
  assert.equal(table.size, 0);
});
