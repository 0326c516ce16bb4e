/** Runs bench/ceiling.ts in a child process (so the ceiling never shares a process with anything measured). */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { CeilingJob, CeilingResult } from './ceiling.js';

export function runCeilingProcess(root: string, job: CeilingJob): Promise<CeilingResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'ceiling.ts'), JSON.stringify(job)],
      { cwd: root, timeout: job.durationMs + job.warmupMs + 60_000, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`ceiling failed: ${err.message}\n${stderr}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as CeilingResult);
        } catch {
          reject(new Error(`ceiling printed no result: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
