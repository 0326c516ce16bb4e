/**
 * The command line: `pixgate [serve|dev] [flags]`, `pixgate camo encode|decode`, `pixgate sign`, `--help`,
 * `--version`. The only module that exits the process.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCamoTool } from './cli/url-tool.js';
import { runSign } from './cli/sign.js';
import { createLogger, type Logger } from './observe/log.js';
import { createMetrics } from './observe/metrics.js';
import { renderHelp } from './settings/help.js';
import { loadSettings, SettingsError } from './settings/load.js';
import type { Settings } from './settings/table.js';
import { createApp, StartupError } from './server/app.js';
import { createHandler } from './server/handler.js';
import { forWorker, isClusterWorker, notifyReady, resolveWorkerCount, runPrimary, waitForShutdown, withFleetMetrics } from './server/cluster.js';
import { PLAYGROUND_PATH } from './route/route.js';
import { closeListeners, resolveHttpAddress, startListeners } from './server/listen.js';
import { formatCamoUrl, signCamoUrl } from './verify/camo-digest.js';
import { signImagorPath } from './verify/imagor-signature.js';
import { nodeMac } from './verify/node-mac.js';
import { packageRoot, version } from './version.js';

type Env = Readonly<Record<string, string | undefined>>;

/** How long requests in flight get to finish after SIGTERM. */
const DRAIN_MS = 10_000;

export async function main(argv: readonly string[], env: Env): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(renderHelp());
    return 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`pixgate ${version}\n`);
    return 0;
  }
  if (first === '-VV') {
    process.stdout.write(`pixgate ${version}\nLicense: MIT\n`);
    return 0;
  }
  if (first === 'camo') return printResult(runCamoTool(rest, env));
  if (first === 'sign') return printResult(runSign(rest, env));
  if (first === 'serve') return serve(rest, env, false);
  if (first === 'dev') return serve(rest, env, true);
  return serve(argv, env, false);
}

function printResult(r: { stdout: string; stderr?: string; exitCode: number }): number {
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  return r.exitCode;
}

async function serve(argv: readonly string[], env: Env, devCommand: boolean): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(renderHelp());
    return 0;
  }
  let loaded;
  try {
    loaded = loadSettings(env, argv);
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`pixgate: invalid configuration:\n${err.errors.map((e) => `  - ${e}\n`).join('')}Run pixgate --help for the settings.\n`);
      return 2;
    }
    throw err;
  }
  let settings: Settings = loaded.settings;
  const log = forWorker(createLogger({ json: settings.logJson, timestamps: !settings.noLogTs, verbose: settings.verbose }));
  if (!isClusterWorker()) for (const w of loaded.warnings) log.warn(w); // in a cluster, the primary said them

  const dev = devCommand || settings.dev;
  // --workers: the primary only supervises, and each worker runs the rest of serve(). Dev mode is one process.
  const workers = dev ? 1 : resolveWorkerCount(settings.workers);
  if (dev && settings.workers !== 1) log.warn('dev mode runs one process: --workers is ignored');
  if (workers > 1 && !isClusterWorker()) return runPrimary({ workers, log, drainMs: DRAIN_MS, socketPath: settings.socketListen });

  let devOrigin: { url: string; close(): void } | undefined;
  if (dev) {
    // The playground signs any URL it is given, so dev mode must never hold a key that production URLs verify with.
    const ignored = [
      settings.camoKeys.length > 0 && 'camo keys',
      (settings.imagorSecret !== undefined || settings.imagorOldSecrets.length > 0) && 'imagor secrets',
    ].filter(Boolean);
    if (ignored.length) log.warn(`development mode ignores the configured ${ignored.join(' and ')}: its playground signs any URL, so it only signs with throwaway keys`);
    const exposed = [
      loaded.explicit.has('listen') && settings.listen && !isLoopbackHost(settings.listen.host) && `--listen ${settings.listen.host}`,
      settings.sslListen && !isLoopbackHost(settings.sslListen.host) && `--ssl-listen ${settings.sslListen.host}`,
    ].filter(Boolean);
    if (exposed.length) {
      const message = `development mode listens on loopback only (its playground would sign URLs for anyone who reaches it): ${exposed.join(', ')} refused`;
      log.fatal(message);
      process.stderr.write(`pixgate: ${message}\n`);
      return 2;
    }
    devOrigin = await startSampleOrigin();
    settings = {
      ...settings,
      dev: true,
      camoKeys: [randomBytes(24).toString('base64url')],
      imagorSecret: randomBytes(24).toString('base64url'),
      imagorOldSecrets: [],
      allowNetworks: [...settings.allowNetworks, '127.0.0.1/32'],
      // A bounded on-disk result cache, so trying things out shows what a repeated request costs.
      ...(!settings.fileResultStorageBaseDir && !settings.s3ResultStorageBucket && {
        fileResultStorageBaseDir: join(tmpdir(), 'pixgate-dev-cache'),
        resultCacheMaxSize: settings.resultCacheMaxSize || 256 * 1024 * 1024,
      }),
      // Dev mode answers on loopback only unless told otherwise.
      listen: loaded.explicit.has('listen') && settings.listen ? settings.listen : { host: '127.0.0.1', port: settings.listen?.port ?? 8080 },
    };
    log.warn('development mode: throwaway keys and loopback origins allowed; never use this in production');
  }
  if (settings.resultCacheMaxSize > 0 && !settings.fileResultStorageBaseDir && !isClusterWorker()) {
    log.warn('PIXGATE_RESULT_CACHE_MAX_SIZE has no effect without FILE_RESULT_STORAGE_BASE_DIR: it bounds the file result storage only');
  }

  const metrics = withFleetMetrics(createMetrics({
    version: settings.appInfoVersion ?? version,
    revision: settings.appInfoRevision ?? '',
    branch: settings.appInfoBranch ?? '',
    buildDate: settings.appInfoBuildDate ?? '',
  }));
  let listeners;
  let app;
  try {
    app = await createApp({ settings, version, log, metrics, devSampleUrl: devOrigin?.url, workers });
    if (settings.camoKeys.length === 0) {
      log.warn('no camo key is set, so camo routes are off: set PIXGATE_CAMO_KEYS (or GOCAMO_HMAC, or -k KEY), or try `pixgate dev`');
    }
    listeners = await startListeners(settings, resolveHttpAddress(settings, dev ? new Set([...loaded.explicit, 'listen']) : loaded.explicit), createHandler(app), { sharedSocket: isClusterWorker() });
    if (settings.imagorUnsafe) log.warn('IMAGOR_UNSAFE is on: anyone can make this server fetch and process any image through /unsafe/ URLs; never in production');
    if (!app.imagor.enabled) log.info('no imagor secret is set, so imagor routes are off: set IMAGOR_SECRET to turn them on');
  } catch (err) {
    if (err instanceof StartupError || err instanceof SettingsError) {
      const message = err instanceof SettingsError ? `invalid configuration: ${err.errors.join('; ')}` : err.message;
      log.fatal(message);
      process.stderr.write(`pixgate: ${message}\n`);
      devOrigin?.close();
      return 2;
    }
    throw err;
  }
  for (const l of listeners) log.info({ address: l.address }, 'listening');
  notifyReady();
  if (dev && devOrigin) {
    const base = listeners[0]!.address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
    const camo = formatCamoUrl(base, signCamoUrl(devOrigin.url, settings.camoKeys[0]!, 'hex', nodeMac));
    const path = `fit-in/400x300/filters:format(webp):quality(80)/${devOrigin.url}`;
    const signer = { secret: settings.imagorSecret!, type: settings.imagorSignerType, truncate: settings.imagorSignerTruncate };
    const imagor = `${base}/${signImagorPath(path, signer, nodeMac)}/${path}`;
    process.stdout.write(
      `\npixgate dev is running with throwaway keys. Open the bundled sample image through pixgate:\n\n` +
        `  camo (proxied as is):   ${camo}\n  imagor (processed):     ${imagor}\n\n` +
        `Try operations on any image in the playground: ${base}${PLAYGROUND_PATH}/\n\n`,
    );
  }

  await waitForShutdown(log);
  await closeListeners(listeners, DRAIN_MS);
  await app.close();
  devOrigin?.close();
  return 0;
}

/** In dev mode, a loopback origin serving the bundled sample image, so the example URL works offline. */
async function startSampleOrigin(): Promise<{ url: string; close(): void }> {
  const image = readFileSync(new URL('assets/sample.jpg', packageRoot));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': image.length, 'Cache-Control': 'public, max-age=3600' });
    res.end(image);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/sample.jpg`, close: () => server.close() };
}

export function exitWith(log: Logger | undefined, code: number): never {
  log?.flush();
  process.exit(code);
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
    // Whatever the code: a cluster worker's IPC channel would otherwise keep it alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (err) => {
    process.stderr.write(`pixgate: fatal: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
