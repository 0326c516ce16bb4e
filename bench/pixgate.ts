/**
 * pixgate as the bench runs it: compiled from the working tree's src/ with tsc into bench/results/tmp (so the
 * numbers are for the code as it is, run as `node dist/main.js` as in production, not through tsx), then started
 * on a loopback port with loopback origins allowed, unsafe imagor URLs on and a camo key.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, waitForHttp, type Child } from './tools.js';

export const CAMO_KEY = 'pixgate-bench-key-not-secret';

export interface PixgateBuild {
  /** The compiled entry, dist/main.js. */
  readonly main: string;
  /** Whether this pixgate has the --workers cluster option. */
  readonly hasWorkers: boolean;
}

export function buildPixgate(root: string, outDir: string): PixgateBuild {
  mkdirSync(outDir, { recursive: true });
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(outDir, 'dist'), '--declaration', 'false', '--sourceMap', 'false'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch {
    // Type errors still emit JavaScript (noEmitOnError is off); a missing output is caught when the server starts.
  }
  // dist/version.js reads ../package.json.
  copyFileSync(join(root, 'package.json'), join(outDir, 'package.json'));
  const main = join(outDir, 'dist', 'main.js');
  const help = execFileSync(process.execPath, [main, '--help'], { encoding: 'utf8' });
  return { main, hasWorkers: /^\s*--workers\b/m.test(help) };
}

/** The node flags bin/pixgate.js starts with (its `#!/usr/bin/env -S node ...` line), so the bench runs what ships. */
export function shippedNodeArgs(root: string): string[] {
  const first = readFileSync(join(root, 'bin', 'pixgate.js'), 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node((?:\s+--\S+)*)\s*$/.exec(first);
  if (!m) throw new Error(`bin/pixgate.js: unexpected first line ${JSON.stringify(first)}`);
  return m[1]!.trim().split(/\s+/).filter(Boolean);
}

export interface PixgateRun {
  readonly build: PixgateBuild;
  readonly port: number;
  readonly logFile: string;
  readonly flags?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly nodeArgs?: readonly string[];
  readonly workers?: number;
}

export async function startPixgate(run: PixgateRun): Promise<Child> {
  const args = [
    ...(run.nodeArgs ?? []),
    run.build.main,
    'serve',
    '--listen',
    `127.0.0.1:${run.port}`,
    '--allow-network',
    '127.0.0.0/8',
    ...(run.workers !== undefined && run.build.hasWorkers ? ['--workers', String(run.workers)] : []),
    ...(run.flags ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, IMAGOR_UNSAFE: '1', PIXGATE_CAMO_KEYS: CAMO_KEY, ...run.env };
  const child = startChild(process.execPath, args, { env, logFile: run.logFile });
  await waitForHttp(`http://127.0.0.1:${run.port}/healthcheck`, 20_000, child);
  return child;
}
