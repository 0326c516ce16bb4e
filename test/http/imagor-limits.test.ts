// Limits and load for the imagor job (issue 3 "Limits and load", imagor.md §3 resolution guard, §4 and §6 steps
// 8 and 10, reference §12 item 2): VIPS_MAX_WIDTH/HEIGHT/RESOLUTION -> 422 before decoding, header-only bombs
// refused fast, VIPS_MAX_ANIMATION_FRAMES dropping frames as imagor does, the processing queue (429 when full,
// immediately with no queue), load and request deadlines -> 408, and identical concurrent requests processed
// once. Slots are held with a gated origin that answers when the test says so, never with sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { BLUE, decode, jpegHeaderBomb, LIME, makeAnimated, makeSolid, pngHeaderBomb, RED } from '../helpers/images.js';
import { errorBody, imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { gate, serve, stall, startOrigin, trickle, waitUntil, type Origin } from '../helpers/origin.js';
import { fetchRaw, type FetchedResponse } from '../helpers/pixgate.js';

let origin: Origin;
let png: Buffer;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  png = await makeSolid(20, 20, RED, 'png');
  origin.route('/q.png', serve(png));
  origin.route('/w120.png', serve(await makeSolid(120, 50, RED, 'png')));
  origin.route('/w100.png', serve(await makeSolid(100, 50, RED, 'png')));
  origin.route('/h120.png', serve(await makeSolid(50, 120, RED, 'png')));
  origin.route('/80x80.png', serve(await makeSolid(80, 80, RED, 'png')));
  origin.route('/70x70.png', serve(await makeSolid(70, 70, RED, 'png')));
  origin.route('/anim40.gif', serve(await makeAnimated('gif', 40, 40, [RED, LIME, BLUE]), { type: 'image/gif' }));
  origin.route('/anim30.gif', serve(await makeAnimated('gif', 30, 30, [RED, LIME, BLUE]), { type: 'image/gif' }));
  origin.route('/bomb.png', serve(pngHeaderBomb(16000, 16000)));
  origin.route('/bomb.jpg', serve(await jpegHeaderBomb(65535, 65535), { type: 'image/jpeg' }));
});

after(() => origin.close());

function get(rig: ImagorRig, path: string, ops = ''): Promise<FetchedResponse> {
  return fetchRaw(rig.url(ops, path));
}

const TOO_LARGE = { message: 'maximum resolution exceeded', status: 422 };



describe('VIPS_MAX_WIDTH, VIPS_MAX_HEIGHT, VIPS_MAX_RESOLUTION', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, env: { VIPS_MAX_WIDTH: '100', VIPS_MAX_HEIGHT: '100', VIPS_MAX_RESOLUTION: '5000' } });
  });
  after(() => rig.close());

  test('a source wider than VIPS_MAX_WIDTH is 422 maximum resolution exceeded', async () => {
    const res = await get(rig, '/w120.png', '10x10');
    assert.equal(res.status, 422);
    assert.deepEqual(errorBody(res.text), TOO_LARGE);
    // 100x50 = 5000 pixels: at every limit, not over
    assert.equal((await get(rig, '/w100.png', '10x10')).status, 200);
  });

  test('a source taller than VIPS_MAX_HEIGHT is 422', async () => {
    assert.equal((await get(rig, '/h120.png', '10x10')).status, 422);
  });

  test('a source with more pixels than VIPS_MAX_RESOLUTION is 422', async () => {
    assert.equal((await get(rig, '/80x80.png', '10x10')).status, 422);
    assert.equal((await get(rig, '/70x70.png', '10x10')).status, 200);
  });

  test('an output upscaled beyond the limits is 422 too (imagor checks again before export)', async () => {
    assert.equal((await get(rig, '/q.png', '150x20')).status, 422);
  });

  test('the height limit applies to one frame of an animation', async () => {
    const res = await get(rig, '/anim30.gif', '');
    assert.equal(res.status, 200, res.text);
    assert.equal((await decode(res.body)).frames, 3);
  });

  test('the resolution limit counts every frame held (imagor multiplies by the full height)', async () => {
    // 40x40 x 3 frames = 4800 <= 5000 is fine; at 30x30 too; a fourth colour would not be
    assert.equal((await get(rig, '/anim40.gif', '')).status, 200);
    const big = await startImagorRig({ origin, env: { VIPS_MAX_RESOLUTION: '4000' } });
    try {
      assert.equal((await get(big, '/anim40.gif', '')).status, 422);
      assert.equal((await get(big, '/anim30.gif', '')).status, 200);
    } finally {
      await big.close();
    }
  });
});

describe('header-only bombs with the default limits (9999 x 9999, 81 MP)', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  for (const [name, path] of [
    ['a 16000x16000 PNG header', '/bomb.png'],
    ['a 65535x65535 JPEG header', '/bomb.jpg'],
  ] as const) {
    test(`${name} is refused with 422 without decoding (well under 2 s over HTTP)`, async () => {
      const started = performance.now();
      const res = await get(rig, path, '100x100');
      const ms = performance.now() - started;
      assert.equal(res.status, 422, res.text);
      assert.deepEqual(errorBody(res.text), TOO_LARGE);
      assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
    });
  }
});

describe('VIPS_MAX_ANIMATION_FRAMES', () => {
  test('frames beyond the limit are dropped, not refused (imagor loads n frames)', async () => {
    const rig = await startImagorRig({ origin, env: { VIPS_MAX_ANIMATION_FRAMES: '2' } });
    try {
      const res = await get(rig, '/anim30.gif', '');
      assert.equal(res.status, 200, res.text);
      const img = await decode(res.body);
      assert.equal(img.frames, 2);
      assert.deepEqual([img.width, img.height], [30, 30]);
    } finally {
      await rig.close();
    }
  });

  test('1 gives a still image of the first frame', async () => {
    const rig = await startImagorRig({ origin, env: { VIPS_MAX_ANIMATION_FRAMES: '1' } });
    try {
      const img = await decode((await get(rig, '/anim30.gif', '')).body);
      assert.equal(img.frames, 1);
      assert.deepEqual([img.width, img.height], [30, 30]);
    } finally {
      await rig.close();
    }
  });
});

/** Takes a processing slot from the test itself, as a long-running image would: nothing else can then process. */
async function holdSlot(rig: ImagorRig): Promise<() => void> {
  const never = new AbortController().signal;
  return rig.px.app.imagor.queue.acquire(never, never);
}

describe('IMAGOR_PROCESS_CONCURRENCY and IMAGOR_PROCESS_QUEUE_SIZE', () => {
  test('with one slot and one queue place, a third request gets 429 at once; the others complete', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '1' } });
    try {
      const queue = rig.px.app.imagor.queue;
      const release = await holdSlot(rig);
      const second = get(rig, '/q.png', '10x10');
      await waitUntil(() => queue.waiting === 1, 'the second request to queue');

      const started = performance.now();
      const third = await get(rig, '/q.png', '11x11');
      assert.equal(third.status, 429);
      assert.deepEqual(errorBody(third.text), { message: 'too many requests', status: 429 });
      assert.ok(performance.now() - started < 1000, 'refused without waiting');

      release();
      assert.equal((await second).status, 200);
      assert.equal(queue.running, 0);
      assert.equal(queue.waiting, 0);
      assert.equal((await get(rig, '/q.png', '11x11')).status, 200, 'slots are given back');
    } finally {
      await rig.close();
    }
  });

  test('IMAGOR_PROCESS_QUEUE_SIZE=0 means no queue: the second request gets 429 at once', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '0' } });
    try {
      const release = await holdSlot(rig);
      assert.equal((await get(rig, '/q.png', '12x12')).status, 429);
      release();
      assert.equal((await get(rig, '/q.png', '12x12')).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('a slowly trickling origin holds a load, never a processing slot: other images are still processed', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '0' } });
    try {
      origin.route('/trickle.png', trickle(png, { first: 16, step: 64, intervalMs: 40 }));
      const slow = get(rig, '/trickle.png', '10x10');
      await waitUntil(() => origin.hits('/trickle.png') === 1, 'the trickle to start');
      assert.equal(rig.px.app.imagor.queue.running, 0, 'loading takes no processing slot');
      assert.equal((await get(rig, '/q.png', '14x14')).status, 200);
      assert.equal((await slow).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('a full queue refuses with 429 before downloading anything', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '0' } });
    try {
      origin.route('/never-loaded.png', serve(png));
      const release = await holdSlot(rig);
      assert.equal((await get(rig, '/never-loaded.png', '10x10')).status, 429);
      assert.equal(origin.hits('/never-loaded.png'), 0, 'the refused request fetched nothing');
      release();
      assert.equal((await get(rig, '/never-loaded.png', '10x10')).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('a watermark downloading slowly gives its processing slot back meanwhile', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '0' } });
    const g = gate(png);
    try {
      origin.route('/held-mark.png', g.handler);
      const marked = get(rig, '/80x80.png', `filters:watermark(${rig.src('/held-mark.png')},0,0,0)`);
      await waitUntil(() => origin.hits('/held-mark.png') === 1, 'the watermark download to start');
      assert.equal(rig.px.app.imagor.queue.running, 0, 'no processing slot is held while the overlay downloads');
      assert.equal((await get(rig, '/q.png', '16x16')).status, 200, 'other work is processed meanwhile');
      g.open();
      const res = await marked;
      assert.equal(res.status, 200, res.text);
      const img = await decode(res.body);
      assert.deepEqual([img.width, img.height], [80, 80]);
    } finally {
      g.open();
      await rig.close();
    }
  });

  test('a watermark that fails to download fails the job at once, without waiting for a slot again', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '1' } });
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    try {
      origin.route('/missing-mark.png', async (_req, res) => {
        await answered;
        res.statusCode = 404;
        res.end();
      });
      const marked = get(rig, '/80x80.png', `filters:watermark(${rig.src('/missing-mark.png')},0,0,0)`);
      await waitUntil(() => origin.hits('/missing-mark.png') === 1, 'the watermark download to start');
      const release = await holdSlot(rig);
      answer();
      const res = await marked;
      assert.equal(res.status, 404, res.text);
      release();
    } finally {
      answer();
      await rig.close();
    }
  });

  test('PIXGATE_MAX_LOADS bounds the loads in flight: one more gets 429 at once', async () => {
    const rig = await startImagorRig({ origin, env: { PIXGATE_MAX_LOADS: '1' } });
    const g = gate(png);
    try {
      origin.route('/held-load.png', g.handler);
      const first = get(rig, '/held-load.png', '10x10');
      await waitUntil(() => origin.hits('/held-load.png') === 1, 'the first load to start');
      const started = performance.now();
      assert.equal((await get(rig, '/q.png', '15x15')).status, 429);
      assert.ok(performance.now() - started < 1000, 'refused without waiting');
      g.open();
      assert.equal((await first).status, 200);
      assert.equal((await get(rig, '/q.png', '15x15')).status, 200, 'the load slot is given back');
    } finally {
      g.open();
      await rig.close();
    }
  });
});

describe('deadlines -> 408', () => {
  test('IMAGOR_LOAD_TIMEOUT: an origin that never answers is 408 timeout at the load deadline', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_LOAD_TIMEOUT: '300ms' } });
    try {
      origin.route('/stall.png', stall());
      const started = performance.now();
      const res = await get(rig, '/stall.png', '10x10');
      const ms = performance.now() - started;
      assert.equal(res.status, 408, res.text);
      assert.deepEqual(errorBody(res.text), { message: 'timeout', status: 408 });
      assert.ok(ms >= 250 && ms < 3000, `answered after ${Math.round(ms)} ms`);
    } finally {
      await rig.close();
    }
  });

  test('IMAGOR_LOAD_TIMEOUT: a body that trickles past the deadline is 408', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_LOAD_TIMEOUT: '300ms' } });
    try {
      origin.route('/slow-body.png', trickle(png, { first: 8, step: 4, intervalMs: 100 }));
      const res = await get(rig, '/slow-body.png', '10x10');
      assert.equal(res.status, 408, res.text);
    } finally {
      await rig.close();
    }
  });

  test('IMAGOR_REQUEST_TIMEOUT bounds the whole request, a wait in the queue included', async () => {
    const rig = await startImagorRig({
      origin,
      env: { IMAGOR_REQUEST_TIMEOUT: '400ms', IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '4' },
    });
    // Both requests hold: the first frees its slot at its deadline, a few milliseconds before the second's, so
    // the second must not be able to finish in those milliseconds either.
    const g1 = gate(png);
    const g2 = gate(png);
    try {
      origin.route('/held-rt1.png', g1.handler);
      origin.route('/held-rt2.png', g2.handler);
      const first = get(rig, '/held-rt1.png', '10x10');
      await waitUntil(() => origin.hits('/held-rt1.png') === 1, 'the first request to load');
      const started = performance.now();
      const queued = await get(rig, '/held-rt2.png', '10x10');
      const ms = performance.now() - started;
      assert.equal(queued.status, 408, queued.text);
      assert.ok(ms < 3000, `answered after ${Math.round(ms)} ms`);
      assert.equal((await first).status, 408, 'the held request ran out of its deadline too');
    } finally {
      g1.open();
      g2.open();
      await rig.close();
    }
  });

  test('IMAGOR_PROCESS_TIMEOUT bounds the wait for a processing slot', async () => {
    const rig = await startImagorRig({
      origin,
      env: { IMAGOR_PROCESS_TIMEOUT: '300ms', IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '4' },
    });
    const release = await holdSlot(rig);
    try {
      const started = performance.now();
      const queued = await get(rig, '/q.png', '18x18');
      assert.equal(queued.status, 408, queued.text);
      assert.ok(performance.now() - started < 3000);
    } finally {
      release();
      await rig.close();
    }
  });
});

describe('deadlines while libvips works', () => {
  // The widest blur (sigma 100) of a large colour image keeps libvips busy for seconds in one operation, with
  // nothing to download.
  const HEAVY = 'stretch/4000x4000/filters:blur(200):format(webp)';

  for (const name of ['IMAGOR_PROCESS_TIMEOUT', 'IMAGOR_REQUEST_TIMEOUT']) {
    test(`${name}: an operation that outlasts it is answered 408 at the deadline, not when it ends`, async () => {
      const rig = await startImagorRig({ origin, env: { [name]: '300ms' } });
      try {
        const started = performance.now();
        const res = await fetchRaw(`${rig.px.url}/${imagorHash(`${HEAVY}/color:red`)}/${HEAVY}/color:red`);
        const ms = performance.now() - started;
        assert.equal(res.status, 408, res.text);
        assert.deepEqual(errorBody(res.text), { message: 'timeout', status: 408 });
        assert.ok(ms < 1500, `answered after ${Math.round(ms)} ms`);
      } finally {
        await rig.close();
      }
    });
  }

  test('libvips itself stops soon after the process deadline and gives its slot back', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_TIMEOUT: '300ms', IMAGOR_PROCESS_CONCURRENCY: '1' } });
    try {
      const queue = rig.px.app.imagor.queue;
      const started = performance.now();
      const res = await fetchRaw(`${rig.px.url}/${imagorHash(`${HEAVY}/color:red`)}/${HEAVY}/color:red`);
      assert.equal(res.status, 408, res.text);
      // sharp's timeout counts whole seconds: the slot comes back about a second after the start, not when the
      // several-second operation would have ended.
      await waitUntil(() => queue.running === 0, 'the slot to come back', 10_000);
      const ms = performance.now() - started;
      assert.ok(ms < 2500, `slot held for ${Math.round(ms)} ms`);
    } finally {
      await rig.close();
    }
  });
});

describe('identical concurrent requests', () => {
  test('are loaded and processed once; every client gets the same image', async () => {
    const rig = await startImagorRig({ origin, argv: ['--metrics'] });
    try {
      const g = gate(png);
      origin.route('/shared.png', g.handler);
      const flight = rig.px.app.imagor.flight;
      const run = flight.run.bind(flight);
      let joined = 0;
      flight.run = (key, work) => {
        joined++;
        return run(key, work);
      };
      const all = Array.from({ length: 5 }, () => get(rig, '/shared.png', '10x10'));
      await waitUntil(() => joined === 5, 'all five requests to reach the shared work');
      g.open();
      const responses = await Promise.all(all);
      for (const r of responses) assert.equal(r.status, 200);
      assert.equal(new Set(responses.map((r) => r.headers.etag)).size, 1);
      assert.equal(origin.hits('/shared.png'), 1, 'the origin was asked once');

      const metrics = (await fetchRaw(`${rig.px.url}/metrics`)).text;
      assert.match(metrics, /^pixgate_images_processed_total 1$/m);
      assert.match(metrics, /^pixgate_requests_shared_total 4$/m);
    } finally {
      await rig.close();
    }
  });

  test('different URLs of the same image are processed separately', async () => {
    const rig = await startImagorRig({ origin, argv: ['--metrics'] });
    try {
      const [a, b] = await Promise.all([get(rig, '/q.png', '10x10'), get(rig, '/q.png', '11x11')]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const metrics = (await fetchRaw(`${rig.px.url}/metrics`)).text;
      assert.match(metrics, /^pixgate_images_processed_total 2$/m);
    } finally {
      await rig.close();
    }
  });

  test(
    'a client that leaves while queued does not cancel the work for a client that joined it',
    async () => {
      const rig = await startImagorRig({ origin, env: { IMAGOR_PROCESS_CONCURRENCY: '1', IMAGOR_PROCESS_QUEUE_SIZE: '4' } });
      const release = await holdSlot(rig);
      try {
        const queue = rig.px.app.imagor.queue;
        const p = `10x10/${origin.url('/q.png')}`;
        const leaving = fetchRaw(`${rig.px.url}/${imagorHash(p)}/${p}`, { timeoutMs: 150 }).catch((e: unknown) => e);
        await waitUntil(() => queue.waiting === 1, 'the first client to queue');
        const flight = rig.px.app.imagor.flight;
        const run = flight.run.bind(flight);
        let joined = 0;
        flight.run = (key, work) => {
          joined++;
          return run(key, work);
        };
        const staying = fetchRaw(`${rig.px.url}/${imagorHash(p)}/${p}`);
        await waitUntil(() => joined === 1, 'the second client to join');
        assert.ok((await leaving) instanceof Error, 'the first client gave up');
        release();
        const res = await staying;
        assert.equal(res.status, 200, res.text);
      } finally {
        release();
        await rig.close();
      }
    },
  );

  test('a client that leaves does not cancel the work for the others', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const g = gate(png);
      origin.route('/shared-leave.png', g.handler);
      const flight = rig.px.app.imagor.flight;
      const run = flight.run.bind(flight);
      let joined = 0;
      flight.run = (key, work) => {
        joined++;
        return run(key, work);
      };
      const p = `10x10/${origin.url('/shared-leave.png')}`;
      const leaving = fetchRaw(`${rig.px.url}/${imagorHash(p)}/${p}`, { timeoutMs: 150 }).catch((e: unknown) => e);
      await waitUntil(() => joined === 1, 'the first request to start');
      const staying = fetchRaw(`${rig.px.url}/${imagorHash(p)}/${p}`);
      await waitUntil(() => joined === 2, 'the second request to join');
      assert.ok((await leaving) instanceof Error, 'the first client gave up');
      g.open();
      const res = await staying;
      assert.equal(res.status, 200, res.text);
    } finally {
      await rig.close();
    }
  });
});
