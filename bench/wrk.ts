/**
 * Runs wrk against one URL and reads its result. A Lua script numbers every request, so each path is distinct
 * (`<prefix><thread>-<n><suffix>`) when the scenario asks for it, counts response statuses, and prints a JSON
 * summary that is parsed here. Latencies are wrk's own (request written to response read).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Measurement {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Socket errors and timeouts, plus responses whose status was not the expected one. */
  readonly errors: number;
  /** Status counts, when they were asked for (`expectStatus`). */
  readonly statuses: Readonly<Record<string, number>>;
  readonly bytesPerResponse: number;
}

const SCRIPT = String.raw`
-- id and statuses are globals: thread:set() and thread:get() reach only globals.
local counter = 0
id = 0
statuses = {}
local threads = {}
local vary = os.getenv("BENCH_VARY") == "1"
local path = os.getenv("BENCH_PATH") or "/"
local suffix = os.getenv("BENCH_SUFFIX") or ""
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
end
function request()
  if vary then
    counter = counter + 1
    return wrk.format("GET", path .. id .. "-" .. counter .. suffix)
  end
  return wrk.format("GET", path)
end
-- Defined only on demand: with a response() wrk buffers every body for Lua, a cost at high request rates.
if os.getenv("BENCH_STATUSES") == "1" then
  function response(status, headers, body)
    local k = tostring(status)
    statuses[k] = (statuses[k] or 0) + 1
  end
end
function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s":%d', k, v)) end
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    table.concat(parts, ",")))
end
`;

export interface WrkRun {
  readonly wrk: string;
  /** Base URL, scheme://host:port. */
  readonly origin: string;
  /** Request path; with `vary`, the request number is appended (then `suffix`). */
  readonly path: string;
  readonly vary?: boolean;
  readonly suffix?: string;
  readonly connections: number;
  readonly threads?: number;
  readonly seconds: number;
  readonly timeoutSeconds?: number;
  /**
   * The status every response should have, checked one by one (costs wrk some CPU per response). Without it,
   * any status of 400 or more counts as an error (wrk's own tally).
   */
  readonly expectStatus?: (status: number) => boolean;
  readonly workDir: string;
}

let scriptPath: string | undefined;

export function runWrk(run: WrkRun): Promise<Measurement> {
  scriptPath ??= join(run.workDir, 'bench.lua');
  writeFileSync(scriptPath, SCRIPT);
  const threads = Math.min(run.threads ?? 1, run.connections);
  const args = [
    `-t${threads}`,
    `-c${run.connections}`,
    `-d${run.seconds}s`,
    `--timeout`,
    `${run.timeoutSeconds ?? 30}s`,
    '-s',
    scriptPath,
    run.origin,
  ];
  const env = {
    ...process.env,
    BENCH_PATH: run.path,
    BENCH_VARY: run.vary ? '1' : '0',
    BENCH_SUFFIX: run.suffix ?? '',
    BENCH_STATUSES: run.expectStatus ? '1' : '0',
  };
  return new Promise((resolve, reject) => {
    execFile(run.wrk, args, { env, maxBuffer: 4 * 1024 * 1024, timeout: (run.seconds + 60) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stderr}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (!line) return reject(new Error(`wrk printed no summary:\n${stdout}\n${stderr}`));
      const r = JSON.parse(line.slice(8)) as {
        requests: number; duration_us: number; bytes: number; connect: number; read: number; write: number; timeout: number; status: number;
        p50_us: number; p90_us: number; p99_us: number; mean_us: number; statuses: Record<string, number>;
      };
      const ok = run.expectStatus;
      const wrong = ok ? Object.entries(r.statuses).filter(([s]) => !ok(Number(s))).reduce((n, [, c]) => n + c, 0) : r.status;
      const seconds = r.duration_us / 1e6;
      resolve({
        requests: r.requests,
        seconds,
        rps: r.requests / seconds,
        p50Ms: r.p50_us / 1000,
        p90Ms: r.p90_us / 1000,
        p99Ms: r.p99_us / 1000,
        meanMs: r.mean_us / 1000,
        errors: r.connect + r.read + r.write + r.timeout + wrong,
        statuses: r.statuses,
        bytesPerResponse: r.requests > 0 ? Math.round(r.bytes / r.requests) : 0,
      });
    });
  });
}
