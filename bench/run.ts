/**
 * `npm run bench`: the whole benchmark in one run on loopback. Installs wrk and nginx if absent, makes the
 * images, compiles pixgate, starts the nginx origin and ceilings, runs scenarios 1-6, prints the machine and a
 * summary, and writes bench/results/latest.json, docs/benchmarks.md and docs/bench-ratios.svg.
 *
 *   npm run bench                  full run (about 10 minutes on 2 cores), writes the results and docs
 *   npm run bench -- --quick       short runs to check the harness; writes bench/results/tmp/quick.json only
 *   npm run bench -- --only 1,3    some scenarios (results to bench/results/tmp/partial.json)
 *   npm run bench -- --workers 1   pixgate configurations to compare (default: 1, and 2 when --workers exists)
 *   npm run bench -- --cpu-prof    also write pixgate's CPU profiles to bench/results/tmp/profiles (summarise
 *                                  them with `node --import tsx bench/profile-summary.ts FILE`)
 *   npm run bench -- --env K=V     extra environment for pixgate (repeatable), to try a setting
 *   npm run bench -- --render      only rewrite docs/benchmarks.md and the chart from bench/results/latest.json
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import type sharpModule from 'sharp';
import { sniffBytes } from '../src/policy/sniff.js';
import { readHeaderSize } from '../src/process/probe.js';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pngBombHeader, jpegBombHeader, makePhotoJpeg } from './images.js';
import { type BenchContext, type BenchImages, type ScenarioResult } from './context.js';
import { ipxSharpModule, ipxVersion } from './ipx.js';
import { startNginx } from './nginx.js';
import { buildPixgate, shippedNodeArgs, startPixgate } from './pixgate.js';
import { renderMarkdown, renderSummary, renderSvg, type BenchReport, type Machine } from './report.js';
import { runBombs } from './scenarios/bombs.js';
import { runCacheHit } from './scenarios/cache-hit.js';
import { runFormats } from './scenarios/formats.js';
import { runMemory } from './scenarios/memory.js';
import { runPassThrough } from './scenarios/pass-through.js';
import { runProcessing } from './scenarios/processing.js';
import { commandVersion, ensureTools, freePort, loadSnapshot, stopAll } from './tools.js';

interface Options {
  readonly quick: boolean;
  readonly cpuProf: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly only: ReadonlySet<string> | undefined;
  readonly workers: readonly number[] | undefined;
  readonly keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let only: Set<string> | undefined;
  let workers: number[] | undefined;
  let keep = false;
  let cpuProf = false;
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '');
    if (a === '--quick') quick = true;
    else if (a === '--keep') keep = true;
    else if (a === '--cpu-prof') cpuProf = true;
    else if (a.startsWith('--env')) {
      const kv = value();
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`--env needs NAME=value, got ${kv}`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    else if (a.startsWith('--only')) only = new Set(value().split(',').map((s) => s.trim()));
    else if (a.startsWith('--workers')) workers = value().split(',').map(Number);
    else if (a === '-h' || a === '--help') {
      process.stdout.write('npm run bench [-- --quick] [--only 1,2,3,4,5,6] [--workers 1,2] [--cpu-prof] [--env K=V] [--keep]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return { quick, only, workers, keep, cpuProf, env };
}

const log = (line: string) => process.stdout.write(`${line}\n`);

async function makeImages(dir: string): Promise<BenchImages> {
  mkdirSync(dir, { recursive: true });
  const write = async (name: string, data: Buffer | Promise<Buffer>) => {
    const bytes = await data;
    writeFileSync(join(dir, name), bytes);
    return bytes.length;
  };
  const sizes: Record<string, number> = {};
  // Parameters chosen so the sizes land where the issue asks (1.2 MB photo, 53 KB small image).
  sizes['photo.jpg'] = await write('photo.jpg', makePhotoJpeg({ width: 2725, height: 2225, seed: 1, grain: 9, quality: 90 }));
  sizes['wide.jpg'] = await write('wide.jpg', makePhotoJpeg({ width: 2040, height: 1360, seed: 2, grain: 9, quality: 90 }));
  sizes['small.jpg'] = await write('small.jpg', makePhotoJpeg({ width: 800, height: 600, seed: 3, grain: 7, quality: 80 }));
  sizes['bomb.png'] = await write('bomb.png', pngBombHeader(16000, 16000));
  sizes['bomb.jpg'] = await write('bomb.jpg', jpegBombHeader(65535, 65535));
  await checkImages(dir);
  return {
    photo: join(dir, 'photo.jpg'),
    wide: join(dir, 'wide.jpg'),
    small: join(dir, 'small.jpg'),
    bombPng: join(dir, 'bomb.png'),
    bombJpeg: join(dir, 'bomb.jpg'),
    sizes,
  };
}

/** The images are what the scenarios say they are: sizes read back by sharp, bomb headers by pixgate's own parser. */
async function checkImages(dir: string): Promise<void> {
  const expect = async (name: string, width: number, height: number) => {
    const bytes = readFileSync(join(dir, name));
    const size = name.startsWith('bomb') ? readHeaderSize(bytes, sniffBytes(bytes)) : await sharp(bytes).metadata();
    if (size?.width !== width || size.height !== height) {
      throw new Error(`${name} is ${size?.width}x${size?.height}, expected ${width}x${height}`);
    }
  };
  await expect('photo.jpg', 2725, 2225);
  await expect('wide.jpg', 2040, 1360);
  await expect('small.jpg', 800, 600);
  await expect('bomb.png', 16000, 16000);
  await expect('bomb.jpg', 65535, 65535);
}

function describeMachine(root: string, tools: { wrk: string; nginx: string }): Machine {
  const require = createRequire(join(root, 'package.json'));
  const sharp = require('sharp') as typeof sharpModule;
  const ipxSharpPath = ipxSharpModule(root);
  const ipxSharp = ipxSharpPath ? (require(ipxSharpPath) as typeof sharpModule).versions : sharp.versions;
  const cpus = os.cpus();
  return {
    cores: os.availableParallelism(),
    cpu: `${cpus[0]?.model ?? 'unknown'}`.replace(/\s+/g, ' ').trim(),
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    sharp: sharp.versions.sharp ?? '',
    libvips: sharp.versions.vips,
    ipx: ipxVersion(root),
    ipxSharp: `${ipxSharp.sharp} / libvips ${ipxSharp.vips}`,
    wrk: commandVersion(tools.wrk, ['-v']).replace(/ Copyright.*$/, '').replace(/\[.*\]/, '').trim(),
    nginx: commandVersion(tools.nginx, ['-v']).replace('nginx version: ', ''),
  };
}

async function main(): Promise<void> {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  if (process.argv.includes('--render')) {
    const report = JSON.parse(readFileSync(join(root, 'bench', 'results', 'latest.json'), 'utf8')) as BenchReport;
    writeFileSync(join(root, 'docs', 'bench-ratios.svg'), renderSvg(report));
    writeFileSync(join(root, 'docs', 'benchmarks.md'), renderMarkdown(report, 'bench-ratios.svg'));
    log('wrote docs/benchmarks.md and docs/bench-ratios.svg from bench/results/latest.json');
    return;
  }
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const before = loadSnapshot();
  const tools = ensureTools(log);
  const machine = describeMachine(root, tools);
  log(`machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGB} GB, ${machine.os}`);
  log(`         Node ${machine.node}, sharp ${machine.sharp}, libvips ${machine.libvips}; ipx ${machine.ipx} (sharp ${machine.ipxSharp}); ${machine.wrk}; nginx ${machine.nginx}`);
  log(`load:    average ${before.loadavg1}, other test runs ${before.testRuns}${before.loadavg1 >= 0.7 || before.testRuns > 0 ? '  (not quiet: numbers will be noisy)' : ''}`);

  const workDir = mkdtempSync(join(os.tmpdir(), 'pixgate-bench-'));
  const originRoot = join(workDir, 'origin');
  const staticRoot = join(workDir, 'static');
  mkdirSync(staticRoot, { recursive: true });
  const stop = async () => {
    await stopAll();
    if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));

  try {
    log('images:  generating');
    const images = await makeImages(originRoot);
    log(`         ${Object.entries(images.sizes).map(([k, v]) => `${k} ${v} B`).join(', ')}`);
    log('pixgate: compiling src/ with tsc');
    const build = buildPixgate(root, join(root, 'bench', 'results', 'tmp', 'pixgate'));
    const shipped = shippedNodeArgs(root);
    const profileDir = join(root, 'bench', 'results', 'tmp', 'profiles');
    const ports = { origin: await freePort(), proxy: await freePort(), static: await freePort() };
    await startNginx({ nginx: tools.nginx, role: 'origin', dir: workDir, originRoot, staticRoot, ports, workers: 'auto' });
    const ceilings = await startNginx({ nginx: tools.nginx, role: 'ceilings', dir: workDir, originRoot, staticRoot, ports, workers: 'auto' });

    const workerCounts = opts.workers ?? (build.hasWorkers ? [1, 2] : [1]);
    const ctx: BenchContext = {
      root,
      workDir,
      wrk: tools.wrk,
      ports,
      nginxCeilingsPid: ceilings.pid,
      build,
      images,
      originRoot,
      staticRoot,
      seconds: (s) => (opts.quick ? Math.max(2, Math.round(s / 5)) : s),
      log,
      port: freePort,
      workerCounts,
      shippedNodeArgs: shipped,
      async pixgate(run) {
        const port = await freePort();
        const child = await startPixgate({
          build,
          port,
          ...(run.workers !== undefined && { workers: run.workers }),
          logFile: join(workDir, `pixgate-${run.name}.log`),
          env: { ...opts.env, ...run.env },
          nodeArgs: [...(run.plainNode ? [] : shipped), ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, run.name)] : [])],
        });
        return { child, port, origin: `http://127.0.0.1:${port}` };
      },
    };
    const want = (id: string) => !opts.only || opts.only.has(id);
    const scenarios: ScenarioResult[] = [];
    let vipsConcurrency: number | undefined = 1;
    const during: number[] = [];
    const step = async (id: string, run: () => Promise<ScenarioResult>) => {
      if (!want(id)) return;
      // Other test runs seen as each scenario starts (the load average would only show the bench itself).
      during.push(loadSnapshot().testRuns);
      log(`scenario ${id}`);
      scenarios.push(await run());
    };
    await step('1', async () => {
      const r = await runProcessing(ctx);
      vipsConcurrency = r.bestVipsConcurrency;
      return r;
    });
    await step('2', () => runFormats(ctx, vipsConcurrency));
    await step('3', () => runPassThrough(ctx));
    await step('4', () => runCacheHit(ctx));
    await step('5', () => runBombs(ctx));
    await step('6', () => runMemory(ctx));

    const after = loadSnapshot();
    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      quick: opts.quick,
      durationSeconds: (Date.now() - started) / 1000,
      machine,
      load: {
        before,
        after,
        testRunsDuring: Math.max(0, ...during),
        quiet: before.loadavg1 < 0.7 && before.testRuns === 0 && after.testRuns === 0 && during.every((n) => n === 0),
      },
      pixgateConfig:
        'defaults (IMAGOR_PROCESS_CONCURRENCY = cores, VIPS_CONCURRENCY 1, info-level log to a file, no per-request access log (the default)), ' +
        `IMAGOR_UNSAFE=1 with a varied source query for processing, no result storage except in scenario 4; ${workerCounts.map((w) => `--workers ${w}`).join(' and ')}; ` +
        `node started as bin/pixgate.js starts it (${shipped.join(' ')}); in scenarios 1 and 6 also once with plain node` +
        `${Object.keys(opts.env).length ? `; env ${Object.entries(opts.env).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}.`,
      images: {
        'photo.jpg': `2725x2225 JPEG q90, ${images.sizes['photo.jpg']} bytes (scenarios 1, 4, 6)`,
        'wide.jpg': `2040x1360 JPEG q90, ${images.sizes['wide.jpg']} bytes (scenario 2)`,
        'small.jpg': `800x600 JPEG q80, ${images.sizes['small.jpg']} bytes (scenario 3)`,
        'bomb.png': `PNG header claiming 16000x16000, ${images.sizes['bomb.png']} bytes (scenario 5)`,
        'bomb.jpg': `JPEG header claiming 65535x65535, ${images.sizes['bomb.jpg']} bytes (scenario 5)`,
      },
      scenarios,
    };
    log('');
    log(renderSummary(report));
    const full = !opts.quick && !opts.only && !opts.workers && !opts.cpuProf && Object.keys(opts.env).length === 0;
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (full) {
      writeFileSync(join(root, 'bench', 'results', 'latest.json'), json);
      writeFileSync(join(root, 'docs', 'bench-ratios.svg'), renderSvg(report));
      writeFileSync(join(root, 'docs', 'benchmarks.md'), renderMarkdown(report, 'bench-ratios.svg'));
      log('\nwrote bench/results/latest.json, docs/benchmarks.md, docs/bench-ratios.svg');
    } else {
      const name = opts.quick ? 'quick' : 'partial';
      const dir = join(root, 'bench', 'results', 'tmp');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${name}.json`), json);
      writeFileSync(join(dir, `${name}.svg`), renderSvg(report));
      writeFileSync(join(dir, `${name}.md`), renderMarkdown(report, `${name}.svg`));
      log(`\nwrote bench/results/tmp/${name}.{json,md,svg} (a full run writes the committed results)`);
    }
  } finally {
    await stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error)?.stack ?? err}\n`);
  void stopAll().finally(() => process.exit(1));
});
