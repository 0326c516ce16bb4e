/** The peer: ipx (npm package) started with its own CLI, `ipx serve`, allowed to fetch from the loopback origin. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { startChild, waitForHttp, type Child } from './tools.js';

export async function startIpx(ctx: BenchContext, port: number): Promise<Child> {
  const bin = join(ctx.root, 'node_modules', 'ipx', 'bin', 'ipx.mjs');
  if (!existsSync(bin)) throw new Error('ipx is not installed: run npm ci');
  const child = startChild(process.execPath, [bin, 'serve', '--domains', '127.0.0.1', '--host', '127.0.0.1', '--port', String(port)], {
    logFile: join(ctx.workDir, 'ipx.log'),
    cwd: ctx.workDir,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  await waitForHttp(`http://127.0.0.1:${port}/`, 20_000, child);
  return child;
}

/** ipx's own sharp when npm nested one under it (its range differs from pixgate's), else undefined. */
export function ipxSharpModule(root: string): string | undefined {
  const nested = join(root, 'node_modules', 'ipx', 'node_modules', 'sharp');
  return existsSync(nested) ? nested : undefined;
}

export function ipxVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', 'ipx', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
