// Soak test: pixgate (as a child process, both jobs on, a file result storage) under mixed valid and hostile
// traffic from 64 keep-alive connections for a fixed time, with faults injected: an origin that resets
// connections mid-body, clients that abort mid-stream, a result storage directory that goes away and comes back,
// then an overload phase that must produce 429s, then a light recovery phase where the 429s must be gone.
// Reports requests served, outcomes by class, 5xx for valid requests, RSS and open file descriptors before and
// after, and checks them against stated bounds (exit 1 when one fails).
//
//   npm run soak                  about 2.5 minutes (what docs/security.md reports)
//   npm run soak -- --short       about 30 seconds (run by test/security/soak-short.test.ts in CI)
//   add --json to print the summary as one JSON line on stdout
//
// Only loopback is used: the origin and a canary listen on 127.x; the canary must see no connection.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { pngZeros } from '../test/helpers/bombs.js';
import { cliCommand, repoRoot } from '../test/helpers/pixgate.js';
import { redirect, serve, startOrigin, testImages, trickle, type OriginHandler } from '../test/helpers/origin.js';
import { camoPath, imagorImage, imagorPath, openFds, readMemory, secureArgv, startCountingCanary } from '../test/security/harness.js';

const args = process.argv.slice(2);
const SHORT = args.includes('--short');
const JSON_OUT = args.includes('--json');

/** Phase lengths in seconds. */
const PHASES = SHORT ? { warmup: 3, mixed: 15, overload: 6, recovery: 5, idle: 3 } : { warmup: 5, mixed: 90, overload: 20, recovery: 15, idle: 35 };
const CONNECTIONS = 64;
const OVERLOAD_CONNECTIONS = 192;
const QUEUE = 48;
const CONCURRENCY = 2;

/** Stated bounds (docs/security.md). */
const BOUNDS = {
  /** RSS after the run (and an idle pause) minus RSS after warm-up. */
  rssGrowthMb: 200,
  /** Open descriptors after minus before; the short run keeps idle upstream keep-alive sockets (at most 64). */
  fdGrowth: SHORT ? 80 : 16,
};

type Outcome = '2xx' | '304' | '4xx' | '429' | '5xx' | 'cut' | 'aborted' | 'net-error';

interface Kind {
  readonly name: string;
  /** A valid request whose origin answers normally: it must never get a 5xx or a cut body. */
  readonly valid: boolean;
  readonly weight: number;
  run(): Promise<Outcome>;
}

const log = (line: string) => process.stderr.write(`soak: ${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const started = Date.now();
  const images = await testImages();
  const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 120, sigma: 40 } } }).jpeg({ quality: 80 }).toBuffer();
  const origin = await startOrigin({ host: '127.0.0.3' });
  const canary = await startCountingCanary('127.0.0.1');
  if (!canary) throw new Error('cannot start the canary');
  const resetMidBody: OriginHandler = (req) => {
    const s = req.socket;
    s.on('error', () => {});
    s.write(`HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: ${photo.length}\r\n\r\n`);
    s.write(photo.subarray(0, 4096), () => s.resetAndDestroy());
  };
  origin
    .route('/small.png', serve(images.png))
    .route('/big.png', serve(images.bigPng))
    .route('/photo.jpg', serve(photo, { type: 'image/jpeg' }))
    .route('/reset.jpg', resetMidBody)
    .route('/slow-big.png', trickle(images.bigPng, { first: 2048, step: 1024, intervalMs: 100 }))
    .route('/slower.png', trickle(images.bigPng, { first: 0, step: 1, intervalMs: 400 }))
    .route('/bomb.png', serve(pngZeros(60000, 60000, { bitDepth: 1 })))
    .route('/page.html', serve('<html><script>alert(1)</script></html>', { type: 'image/png' }))
    .route('/loop', redirect(302, '/loop'));

  const dir = mkdtempSync(join(tmpdir(), 'pixgate-soak-'));
  const results = join(dir, 'results');
  const child = spawn(
    cliCommand[0]!,
    [
      ...cliCommand.slice(1),
      'serve',
      ...secureArgv([
        '--allow-network', '127.0.0.3/32',
        '--metrics',
        '--file-result-storage-base-dir', results,
        '--imagor-process-concurrency', String(CONCURRENCY),
        '--imagor-process-queue-size', String(QUEUE),
        '--timeout', '3s',
        '--imagor-load-timeout', '3s',
        '--imagor-save-timeout', '2s',
      ]),
      '--listen', '127.0.0.1:0',
      '--log-json',
    ],
    { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const server = await waitListening(child);
  const unexpected = { count: 0, first: '' };
  // Keep draining the log (a full pipe would stall pixgate), counting unexpected errors (500s).
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString('utf8').split('\n')) {
      if (line.includes('"msg":"unexpected error"')) {
        unexpected.count++;
        unexpected.first ||= line.slice(0, 400);
      }
    }
  });
  const pid = child.pid!;
  log(`pixgate pid ${pid} on ${server}; ${SHORT ? 'short' : 'full'} run`);

  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let seq = 0;
  const get = (path: string, opts: { method?: string; abortAfterMs?: number; abortOnData?: boolean; agent?: Agent } = {}) =>
    send(server, path, { agent: opts.agent ?? agent, ...opts });

  const kinds: Kind[] = [
    { name: 'camo small', valid: true, weight: 14, run: () => get(camoPath(origin.url('/small.png'))) },
    { name: 'camo big', valid: true, weight: 8, run: () => get(camoPath(origin.url('/big.png'), 'base64')) },
    { name: 'camo HEAD', valid: true, weight: 4, run: () => get(camoPath(origin.url('/photo.jpg')), { method: 'HEAD' }) },
    { name: 'imagor fresh', valid: true, weight: 14, run: () => get(imagorPath(`fit-in/${40 + (seq++ % 400)}x${30 + (seq % 7)}/filters:quality(70)/${origin.url('/photo.jpg')}`)) },
    { name: 'imagor hot', valid: true, weight: 10, run: () => get(imagorPath(`fit-in/120x90/${origin.url('/photo.jpg')}`)) },
    { name: 'imagor colour', valid: true, weight: 4, run: () => get(imagorPath(`${1 + (seq++ % 50)}x20/color:ff8800`)) },
    { name: 'origin resets mid-body [camo]', valid: false, weight: 3, run: () => get(camoPath(origin.url(`/reset.jpg?${seq++}`))) },
    { name: 'origin resets mid-body [imagor]', valid: false, weight: 3, run: () => get(imagorPath(`fit-in/50x50/${imagorImage(origin.url(`/reset.jpg?${seq++}`))}`)) },
    { name: 'client aborts mid-stream [camo]', valid: false, weight: 4, run: () => get(camoPath(origin.url(`/slow-big.png?${seq++}`)), { abortOnData: true }) },
    { name: 'client aborts while processing [imagor]', valid: false, weight: 3, run: () => get(imagorPath(`fit-in/${500 + (seq++ % 300)}x400/${origin.url('/photo.jpg')}`), { abortAfterMs: 15 }) },
    { name: 'bad signature', valid: false, weight: 4, run: () => get(`/${'0'.repeat(40)}/${Buffer.from(origin.url('/small.png')).toString('hex')}`) },
    { name: 'ssrf to the canary', valid: false, weight: 3, run: () => get(seq++ % 2 ? camoPath(`http://127.0.0.1:${canary.port}/x`) : imagorPath(`fit-in/9x9/http://127.0.0.1:${canary.port}/x`)) },
    { name: 'image bomb [imagor]', valid: false, weight: 2, run: () => get(imagorPath(`fit-in/10x10/${origin.url('/bomb.png')}`)) },
    { name: 'HTML as PNG [camo]', valid: false, weight: 2, run: () => get(camoPath(origin.url('/page.html'))) },
    { name: 'slow origin past the deadline [camo]', valid: false, weight: 1, run: () => get(camoPath(origin.url(`/slower.png?${seq++}`))) },
    { name: 'redirect loop', valid: false, weight: 1, run: () => get(camoPath(origin.url('/loop'))) },
  ];

  const stats = new Map<string, Map<Outcome, number>>();
  const bump = (phase: string, kind: Kind, outcome: Outcome) => {
    const key = `${phase}|${kind.name}|${kind.valid ? 'valid' : 'hostile'}`;
    const m = stats.get(key) ?? new Map<Outcome, number>();
    m.set(outcome, (m.get(outcome) ?? 0) + 1);
    stats.set(key, m);
  };

  async function phase(name: string, seconds: number, workers: number, pick: () => Kind): Promise<void> {
    const until = Date.now() + seconds * 1000;
    log(`${name}: ${workers} connections for ${seconds} s`);
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (Date.now() < until) {
          const kind = pick();
          bump(name, kind, await kind.run());
        }
      }),
    );
  }

  const total = kinds.reduce((a, k) => a + k.weight, 0);
  let rng = 0x9e3779b9;
  const random = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) / 2 ** 32;
  };
  const weighted = () => {
    let r = random() * total;
    for (const k of kinds) if ((r -= k.weight) < 0) return k;
    return kinds[0]!;
  };
  const byName = (n: string) => kinds.find((k) => k.name === n)!;

  // Warm-up: every code path once, then the baseline.
  await phase('warmup', PHASES.warmup, 8, weighted);
  await sleep(500);
  const before = { ...readMemory(pid), fds: openFds(pid) };
  log(`baseline: RSS ${mb(before.rssKb)} MiB, ${before.fds} fds`);

  // The result storage goes away (its directory replaced by a file) and comes back, over and over.
  let outages = 0;
  let away = false;
  const flap = setInterval(() => {
    try {
      if (!away) {
        if (existsSync(results)) renameSync(results, `${results}.away`);
        writeFileSync(results, 'not a directory');
        outages++;
      } else {
        unlinkSync(results);
        if (existsSync(`${results}.away`)) renameSync(`${results}.away`, results);
      }
      away = !away;
    } catch (err) {
      log(`storage flap failed: ${(err as Error).message}`);
    }
  }, SHORT ? 2500 : 5000);

  let peakRssKb = before.rssKb;
  const sampler = setInterval(() => {
    try {
      peakRssKb = Math.max(peakRssKb, readMemory(pid).rssKb);
    } catch {
      // the child is gone; the health check below reports it
    }
  }, 250);

  await phase('mixed', PHASES.mixed, CONNECTIONS, weighted);
  clearInterval(flap);
  if (away) {
    unlinkSync(results);
    if (existsSync(`${results}.away`)) renameSync(`${results}.away`, results);
  }

  // Overload: many more connections than processing slots plus queue, each asking for a fresh, larger result.
  const heavy: Kind = {
    name: 'imagor fresh (overload)',
    valid: true,
    weight: 1,
    run: () => get(imagorPath(`fit-in/${600 + (seq++ % 500)}x${450 + (seq % 9)}/filters:quality(85)/${origin.url('/photo.jpg')}`), { agent: overloadAgent }),
  };
  const overloadAgent = new Agent({ keepAlive: true, maxSockets: OVERLOAD_CONNECTIONS });
  await phase('overload', PHASES.overload, OVERLOAD_CONNECTIONS, () => heavy);
  overloadAgent.destroy();

  // Recovery: light load; every valid request must be served again.
  await sleep(1000);
  await phase('recovery', PHASES.recovery, 4, () => (random() < 0.5 ? byName('imagor fresh') : byName('camo small')));
  clearInterval(sampler);

  agent.destroy();
  log(`idle ${PHASES.idle} s before the final measurement`);
  await sleep(PHASES.idle * 1000);
  const health = await send(server, '/healthcheck', { agent: false });
  const after = { ...readMemory(pid), fds: openFds(pid) };
  const metrics = await fetchText(`${server}/metrics`);
  const storageErrors = sumMetric(metrics, 'pixgate_storage_errors_total');

  child.kill('SIGTERM');
  await new Promise((r) => child.once('close', r));
  await origin.close();
  await canary.close();
  rmSync(dir, { recursive: true, force: true });

  // ------------------------------------------------------------------------------------------------------
  const rows = [...stats].map(([key, m]) => {
    const [ph, kind, validity] = key.split('|') as [string, string, string];
    return { phase: ph, kind, valid: validity === 'valid', outcomes: Object.fromEntries(m) as Partial<Record<Outcome, number>> };
  });
  const sumWhere = (pred: (r: (typeof rows)[number]) => boolean, outcomes: Outcome[]) =>
    rows.filter(pred).reduce((a, r) => a + outcomes.reduce((b, o) => b + (r.outcomes[o] ?? 0), 0), 0);
  const all: Outcome[] = ['2xx', '304', '4xx', '429', '5xx', 'cut', 'aborted', 'net-error'];
  const requests = sumWhere(() => true, all);
  const byClass = Object.fromEntries(all.map((o) => [o, sumWhere(() => true, [o])]));
  const valid5xx = sumWhere((r) => r.valid, ['5xx', 'cut', 'net-error']);
  const overload429 = sumWhere((r) => r.phase === 'overload', ['429']);
  const recovery429 = sumWhere((r) => r.phase === 'recovery', ['429']);
  const recoveryNot2xx = sumWhere((r) => r.phase === 'recovery', ['4xx', '429', '5xx', 'cut', 'net-error']);
  const seconds = (Date.now() - started) / 1000;

  const checks = [
    { check: 'no 5xx, cut body or connection error for a valid request', ok: valid5xx === 0, value: valid5xx },
    { check: 'no unexpected error (500) logged', ok: unexpected.count === 0, value: unexpected.count, detail: unexpected.first },
    { check: 'the canary saw no connection', ok: canary.hits() === 0, value: canary.hits() },
    { check: 'overload produced 429s', ok: overload429 > 0, value: overload429 },
    { check: 'no 429 and every request served after the load dropped', ok: recovery429 === 0 && recoveryNot2xx === 0, value: recoveryNot2xx },
    { check: `RSS growth under ${BOUNDS.rssGrowthMb} MiB`, ok: mb(after.rssKb - before.rssKb) < BOUNDS.rssGrowthMb, value: mb(after.rssKb - before.rssKb) },
    { check: `open descriptors grew by at most ${BOUNDS.fdGrowth}`, ok: after.fds - before.fds <= BOUNDS.fdGrowth, value: after.fds - before.fds },
    { check: 'the result storage outages were seen and survived', ok: outages > 0 && storageErrors > 0, value: storageErrors },
    { check: 'healthcheck answers after the run', ok: health === '2xx', value: health },
  ];
  const summary = {
    mode: SHORT ? 'short' : 'full',
    seconds: Math.round(seconds),
    connections: CONNECTIONS,
    overloadConnections: OVERLOAD_CONNECTIONS,
    requests,
    byClass,
    valid5xx,
    overload429,
    recovery429,
    storageOutages: outages,
    storageErrors,
    rssMb: { before: mb(before.rssKb), peakSampled: mb(peakRssKb), after: mb(after.rssKb) },
    fds: { before: before.fds, after: after.fds },
    bounds: BOUNDS,
    checks,
    rows,
  };

  log(`${requests} requests in ${summary.seconds} s: ${all.map((o) => `${o} ${byClass[o]}`).join(', ')}`);
  log(`RSS ${summary.rssMb.before} -> ${summary.rssMb.after} MiB (peak sampled ${summary.rssMb.peakSampled}), fds ${before.fds} -> ${after.fds}`);
  for (const r of rows) log(`  ${r.phase.padEnd(8)} ${(r.valid ? 'valid  ' : 'hostile')} ${r.kind.padEnd(42)} ${JSON.stringify(r.outcomes)}`);
  for (const c of checks) log(`${c.ok ? 'PASS' : 'FAIL'} ${c.check} (${c.value})${!c.ok && 'detail' in c && c.detail ? ` ${c.detail}` : ''}`);
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(summary)}\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

function mb(kb: number): number {
  return Math.round(kb / 1024);
}

function waitListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`pixgate did not start: ${buf.slice(-2000)}`)), 30_000);
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(buf);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pixgate exited (${code}): ${buf.slice(-2000)}`)));
  });
}

/** One request; classifies the outcome. A cut 2xx body (the connection ended early) is `cut`. */
function send(base: string, path: string, opts: { method?: string; agent: Agent | false; abortAfterMs?: number; abortOnData?: boolean }): Promise<Outcome> {
  const u = new URL(base);
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(hard);
      resolve(o);
    };
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: opts.method ?? 'GET', agent: opts.agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (opts.abortOnData) {
        res.once('data', () => {
          req.destroy();
          done('aborted');
        });
      }
      res.on('data', () => {});
      res.on('end', () => {
        if (status === 304) done('304');
        else if (status === 429) done('429');
        else if (status >= 500) done('5xx');
        else if (status >= 400) done('4xx');
        else done(res.complete ? '2xx' : 'cut');
      });
      res.on('error', () => done(status >= 500 ? '5xx' : status >= 200 && status < 300 ? 'cut' : '4xx'));
      res.on('close', () => {
        if (!res.complete) done(status >= 500 ? '5xx' : status === 429 ? '429' : status >= 400 ? '4xx' : 'cut');
      });
    });
    req.on('error', () => done(settled ? 'aborted' : opts.abortAfterMs !== undefined || opts.abortOnData ? 'aborted' : 'net-error'));
    if (opts.abortAfterMs !== undefined) {
      setTimeout(() => {
        if (!settled) {
          req.destroy();
          done('aborted');
        }
      }, opts.abortAfterMs);
    }
    const hard = setTimeout(() => {
      req.destroy();
      done('net-error');
    }, 30_000);
    req.end();
  });
}

async function fetchText(url: string): Promise<string> {
  return new Promise((resolve) => {
    httpRequest(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(text));
    })
      .on('error', () => resolve(''))
      .end();
  });
}

function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  return sum;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  },
);
