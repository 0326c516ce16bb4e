// The soak in its short form (scripts/soak.ts --short, about 45 s), so CI runs it with the suite: mixed valid and
// hostile traffic at 64 connections with an origin resetting connections, clients aborting, the result storage
// going away and coming back, then overload and recovery. Every check the script makes must pass; the figures
// it prints are the ones docs/security.md reports for the full run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { repoRoot } from '../helpers/pixgate.js';

interface SoakSummary {
  readonly requests: number;
  readonly checks: readonly { check: string; ok: boolean; value: unknown; detail?: string }[];
}

test('soak --short: every check passes (no 5xx for valid requests, bounded RSS and descriptors, 429s that clear)', { timeout: 240_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak.ts', '--short', '--json'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `no summary from the soak (exit ${code}):\n${stderr.slice(-3000)}`);
  const summary = JSON.parse(line) as SoakSummary;
  for (const c of summary.checks) t.diagnostic(`${c.ok ? 'PASS' : 'FAIL'} ${c.check} (${String(c.value)})`);
  assert.ok(summary.requests > 500, `only ${summary.requests} requests were made`);
  const failed = summary.checks.filter((c) => !c.ok);
  assert.deepEqual(failed, [], `failed checks:\n${stderr.slice(-4000)}`);
  assert.equal(code, 0);
});
