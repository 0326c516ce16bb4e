/**
 * Starts pixgate for the HTTP tests: in-process on 127.0.0.1:0 with the same wiring as `pixgate serve` (settings,
 * app, listeners, handler), its log captured as records; or as a child process (`runCli`, `spawnPixgate`) for the
 * CLI and start-failure tests. Also a plain HTTP client that reports a cut response instead of hiding it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createApp, type App } from '../../src/server/app.js';
import { createHandler } from '../../src/server/handler.js';
import { closeListeners, resolveHttpAddress, startListeners, type Listener } from '../../src/server/listen.js';
import { loadSettings } from '../../src/settings/load.js';
import { formatCamoUrl, signCamoUrl, type CamoEncoding } from '../../src/verify/camo-digest.js';
import { nodeMac } from '../../src/verify/node-mac.js';
import { version } from '../../src/version.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The key most tests sign with. */
export const TEST_KEY = 'test-key-0x24FEEDFACEDEADBEEFCAFE';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface Pixgate {
  /** `http://127.0.0.1:port` of the HTTP listener. */
  readonly url: string;
  readonly app: App;
  readonly listeners: readonly Listener[];
  /** Every log record so far (debug level included), parsed. */
  readonly logs: LogRecord[];
  /** The codes of the `request failed` log records so far (what the error table turned into a status). */
  errorCodes(): string[];
  /** A camo URL on this server for `source`, signed with the first configured key. */
  camo(source: string, encoding?: CamoEncoding): string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly env?: Env;
  readonly argv?: readonly string[];
  /** Also print the log to stderr (or set PIXGATE_TEST_LOG=1). */
  readonly printLog?: boolean;
}

/**
 * `pixgate serve` in-process, wired as src/main.ts does, listening on 127.0.0.1:0 unless argv says otherwise.
 * The logger always records debug-level JSON into `logs`, whatever --log-json and -v say.
 */
export async function startPixgate(opts: StartOptions = {}): Promise<Pixgate> {
  const argv = [...(opts.argv ?? [])];
  if (!argv.some((a) => a === '--listen' || a.startsWith('--listen='))) argv.push('--listen', '127.0.0.1:0');
  const loaded = loadSettings(opts.env ?? {}, argv);
  const { settings } = loaded;
  const logs: LogRecord[] = [];
  const print = opts.printLog || process.env.PIXGATE_TEST_LOG === '1';
  const log = createLogger({
    json: true,
    timestamps: false,
    verbose: true,
    destination: {
      write(line: string) {
        for (const l of line.split('\n')) if (l.trim()) logs.push(JSON.parse(l) as LogRecord);
        if (print) process.stderr.write(line);
      },
    },
  });
  const metrics = createMetrics({
    version: settings.appInfoVersion ?? version,
    revision: settings.appInfoRevision ?? '',
    branch: settings.appInfoBranch ?? '',
    buildDate: settings.appInfoBuildDate ?? '',
  });
  const app = await createApp({ settings, version, log, metrics });
  const listeners = await startListeners(settings, resolveHttpAddress(settings, loaded.explicit), createHandler(app));
  const http = listeners.find((l) => l.kind === 'http');
  if (!http) throw new Error('no HTTP listener');
  return {
    url: http.address,
    app,
    listeners,
    logs,
    errorCodes: () => logs.filter((r) => r.msg === 'request failed' || r.msg === 'unexpected error').map((r) => String(r.code ?? 'INTERNAL')),
    camo(source, encoding = 'hex') {
      const key = settings.camoKeys[0];
      if (!key) throw new Error('pixgate was started without a camo key');
      return camoUrl(http.address, source, key, encoding);
    },
    async close() {
      await closeListeners(listeners, 0);
      await app.dispatcher.destroy();
    },
  };
}

/** `base/digest/encoded` for `source` signed with `key`, as go-camo's url-tool prints it. */
export function camoUrl(base: string, source: string, key: string, encoding: CamoEncoding = 'hex'): string {
  return formatCamoUrl(base, signCamoUrl(source, key, encoding, nodeMac));
}

// ---------------------------------------------------------------------------------------------------------
// A plain HTTP client

export interface FetchedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Header names as sent, lower-cased, in order. */
  readonly headerNames: readonly string[];
  readonly body: Buffer;
  readonly text: string;
  /** False when the connection ended before the response did (a cut body). */
  readonly complete: boolean;
}

export interface FetchOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly socketPath?: string;
  readonly agent?: Agent | false;
  /** For https: URLs. */
  readonly ca?: string | Buffer;
  readonly timeoutMs?: number;
}

/**
 * One request with node:http (or https), on a fresh connection unless an agent is given. Resolves with what
 * arrived, and whether the response was complete; rejects only when no response head arrived at all.
 */
export function fetchRaw(url: string, opts: FetchOptions = {}): Promise<FetchedResponse> {
  const u = new URL(url);
  const requestFn = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
        ...(opts.socketPath && { socketPath: opts.socketPath }),
        ...(opts.ca && { ca: opts.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            headerNames: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()),
            body,
            text: body.toString('utf8'),
            complete: res.complete,
          });
        };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no complete answer from ${u.pathname.slice(0, 40)} in ${opts.timeoutMs ?? 10_000} ms`)), opts.timeoutMs ?? 10_000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Child processes

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a child gets: PATH and HOME only, plus `env` (nothing PIXGATE_* leaks in from the runner). */
function childEnv(env: Env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export const cliCommand: readonly string[] = [process.execPath, '--import', 'tsx', 'src/main.ts'];

/** Runs `pixgate ...args` to completion (for commands that exit: --help, camo, start failures). */
export function runCli(args: readonly string[], env: Env = {}, opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(cliCommand[0]!, [...cliCommand.slice(1), ...args], { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child, opts.timeoutMs ?? 20_000);
}

function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pixgate did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningPixgate {
  readonly child: ChildProcess;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
  /** Waits until stderr or stdout matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (none when null) and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals | null, timeoutMs?: number): Promise<CliResult>;
}

/**
 * Starts a long-running `pixgate ...args` child. `wrap` prefixes the command (e.g. a network namespace runner);
 * the test must call stop().
 */
export function spawnPixgate(args: readonly string[], env: Env = {}, wrap: readonly string[] = []): RunningPixgate {
  const command = [...wrap, ...cliCommand, ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: repoRoot, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    notify();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      notify();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = stderr.match(pattern) ?? stdout.match(pattern);
          if (m) {
            cleanup();
            resolve(m);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`pixgate exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}\nstderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`pixgate did not print ${pattern} within ${timeoutMs} ms\nstderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (signal && child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
