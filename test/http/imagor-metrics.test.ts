// The processing metrics over a real server (src/observe/metrics.ts): pixgate_queue_depth and pixgate_jobs_in_flight
// while a processing slot is held and a source download is stalled, then the load and process histograms and the
// byte counters after requests complete, checked against the source's size and the bodies the client received.
// Slots are held from the test and downloads with a gated origin, never with sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSolid, RED } from '../helpers/images.js';
import { startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { gate, serve, startOrigin, waitUntil, type Origin } from '../helpers/origin.js';
import { fetchRaw, type FetchedResponse } from '../helpers/pixgate.js';

let origin: Origin;
let png: Buffer;
let rig: ImagorRig;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  png = await makeSolid(40, 30, RED, 'png');
  origin.route('/src.png', serve(png));
  rig = await startImagorRig({ origin, argv: ['--metrics'], env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '4' } });
});

after(async () => {
  await rig.close();
  await origin.close();
});

async function scrape(): Promise<string> {
  const res = await fetchRaw(rig.px.url + '/metrics');
  assert.equal(res.status, 200);
  return res.text;
}

/** The value of one series, written as it appears in the exposition (`name` or `name{label="v"}`); 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}



function get(ops: string, path = '/src.png'): Promise<FetchedResponse> {
  return fetchRaw(rig.url(ops, path));
}

describe('pixgate_queue_depth and pixgate_jobs_in_flight', () => {
  test('count the held processing slots and the requests waiting for one; a stalled download is in neither', async () => {
    const queue = rig.px.app.imagor.queue;
    let m = await scrape();
    assert.equal(value(m, 'pixgate_jobs_in_flight'), 0);
    assert.equal(value(m, 'pixgate_queue_depth'), 0);

    // The one slot, taken as a long-running image would take it.
    const never = new AbortController().signal;
    const release = await queue.acquire(never, never);
    const g = gate(png);
    origin.route('/held.png', g.handler);
    try {
      const waiting = get('10x10');
      await waitUntil(() => queue.waiting === 1, 'a request to wait for the slot');
      const stalled = get('11x11', '/held.png');
      await waitUntil(() => origin.hits('/held.png') === 1, 'the stalled download to start');

      m = await scrape();
      assert.equal(value(m, 'pixgate_jobs_in_flight'), 1, 'the held slot');
      assert.equal(value(m, 'pixgate_queue_depth'), 1, 'the waiting request; the download waits for no slot yet');

      release();
      assert.equal((await waiting).status, 200);
      m = await scrape();
      assert.equal(value(m, 'pixgate_jobs_in_flight'), 0, 'the download still holds no processing slot');
      assert.equal(value(m, 'pixgate_queue_depth'), 0);

      g.open();
      assert.equal((await stalled).status, 200);
      m = await scrape();
      assert.equal(value(m, 'pixgate_jobs_in_flight'), 0);
      assert.equal(value(m, 'pixgate_queue_depth'), 0);
    } finally {
      release();
      g.open();
    }
  });
});

describe('load and process histograms, bytes loaded and served', () => {
  test('each processed image adds one load of the source\'s size and one processing; bytes served are the bodies sent', async () => {
    const before = await scrape();
    const first = await get('12x12');
    const second = await get('fit-in/13x13/filters:format(webp)');
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    assert.ok(first.body.length > 0 && second.body.length > 0);
    const after = await scrape();

    const delta = (series: string) => value(after, series) - value(before, series);
    assert.equal(delta('pixgate_load_duration_seconds_count{loader="http"}'), 2);
    assert.ok(delta('pixgate_load_duration_seconds_sum{loader="http"}') > 0);
    assert.equal(delta('pixgate_process_duration_seconds_count'), 2);
    assert.ok(delta('pixgate_process_duration_seconds_sum') > 0);
    assert.equal(delta('pixgate_bytes_loaded_total'), 2 * png.length);
    // The two scrapes in between are not counted as served bytes (their own bodies would make this unequal).
    assert.equal(delta('pixgate_bytes_served_total'), first.body.length + second.body.length);
  });

  test('a source the origin does not have loads no bytes; the error body sent counts as served', async () => {
    const before = await scrape();
    const res = await get('15x15', '/missing.png');
    assert.equal(res.status, 404, res.text);
    assert.ok(res.body.length > 0);
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    assert.equal(delta('pixgate_bytes_loaded_total'), 0);
    assert.equal(delta('pixgate_load_duration_seconds_count{loader="http"}'), 0);
    assert.equal(delta('pixgate_process_duration_seconds_count'), 0);
    assert.equal(delta('pixgate_bytes_served_total'), res.body.length);
  });

  test('a HEAD request serves no body bytes', async () => {
    const before = await scrape();
    const res = await fetchRaw(rig.url('16x16', '/src.png'), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 0);
    const after = await scrape();
    assert.equal(value(after, 'pixgate_bytes_served_total') - value(before, 'pixgate_bytes_served_total'), 0);
  });
});

describe('with source and result storage', () => {
  let dir: string;
  let stored: ImagorRig;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixgate-metrics-'));
    stored = await startImagorRig({
      origin,
      argv: ['--metrics'],
      env: { FILE_STORAGE_BASE_DIR: join(dir, 'sources'), FILE_RESULT_STORAGE_BASE_DIR: join(dir, 'results') },
    });
  });
  after(async () => {
    await stored.close();
    await rm(dir, { recursive: true, force: true });
  });

  const scrapeStored = async () => (await fetchRaw(stored.px.url + '/metrics')).text;

  test('a result kept in memory loads and processes nothing; a source from source storage is a "storage" load', async () => {
    const m0 = await scrapeStored();
    const made = await fetchRaw(stored.url('20x20', '/src.png'));
    assert.equal(made.status, 200, made.text);
    const again = await fetchRaw(stored.url('20x20', '/src.png'));
    assert.deepEqual(again.body, made.body);
    const m1 = await scrapeStored();
    const d1 = (series: string) => value(m1, series) - value(m0, series);
    assert.equal(d1('pixgate_load_duration_seconds_count{loader="http"}'), 1, 'only the first request loaded');
    assert.equal(d1('pixgate_process_duration_seconds_count'), 1);
    assert.equal(d1('pixgate_bytes_loaded_total'), png.length);
    assert.equal(d1('pixgate_bytes_served_total'), made.body.length + again.body.length);

    // The source was written to source storage in the background: once it is there, another size reads it back.
    await waitFor(async () => (await readdir(join(dir, 'sources'), { recursive: true })).some((f) => f.endsWith('src.png')), 'the stored source');
    const other = await fetchRaw(stored.url('21x21', '/src.png'));
    assert.equal(other.status, 200, other.text);
    const m2 = await scrapeStored();
    const d2 = (series: string) => value(m2, series) - value(m1, series);
    assert.equal(d2('pixgate_load_duration_seconds_count{loader="storage"}'), 1);
    assert.equal(d2('pixgate_load_duration_seconds_count{loader="http"}'), 0);
    assert.equal(d2('pixgate_bytes_loaded_total'), png.length);
    assert.equal(d2('pixgate_process_duration_seconds_count'), 1);
  });

  test('storage errors name the role of the store that failed: file-source or file-result', async () => {
    // A regular file where the base directories should be: every write fails, the requests still succeed.
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const broken = await startImagorRig({
      origin,
      argv: ['--metrics'],
      env: { FILE_STORAGE_BASE_DIR: join(blocker, 'sources'), FILE_RESULT_STORAGE_BASE_DIR: join(blocker, 'results') },
    });
    try {
      assert.equal((await fetchRaw(broken.url('22x22', '/src.png'))).status, 200);
      const series = (text: string) => text.split('\n').filter((l) => l.startsWith('pixgate_storage_errors_total{'));
      const sourcePut = 'pixgate_storage_errors_total{store="file-source",op="put"}';
      const resultPut = 'pixgate_storage_errors_total{store="file-result",op="put"}';
      let m = '';
      // The writes run after the response: wait for both to have failed.
      await waitFor(async () => {
        m = (await fetchRaw(broken.px.url + '/metrics')).text;
        return value(m, sourcePut) >= 1 && value(m, resultPut) >= 1;
      }, 'both failed writes to be counted');
      assert.deepEqual(series(m).filter((l) => !/store="file-(source|result)"/.test(l)), [], 'no other store label');
    } finally {
      await broken.close();
    }
  });
});

/** Polls an async condition every few milliseconds until it holds; fails after `timeoutMs`. */
async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
