/**
 * Logging through pino: JSON lines with --log-json, otherwise one readable line per record. Never log a key, a
 * secret setting or a full signed URL at info level; request lines carry the job, status, timing and the source
 * host only (the full path is a debug-level field).
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly json: boolean;
  readonly timestamps: boolean;
  readonly verbose: boolean;
  /** Where lines go; stderr by default (stdout is kept for the CLI's own output). */
  readonly destination?: { write(line: string): unknown };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Formats pino's JSON record as `time LEVEL msg key=value ...` for humans. */
function textDestination(out: { write(line: string): unknown }, timestamps: boolean): DestinationStream {
  return {
    write(line: string) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const { level, time, msg, pid: _pid, hostname: _hostname, ...rest } = rec;
      const parts: string[] = [];
      if (timestamps && typeof time === 'number') parts.push(new Date(time).toISOString());
      parts.push(LEVEL_NAMES[level as number] ?? String(level));
      if (msg !== undefined) parts.push(String(msg));
      for (const [k, v] of Object.entries(rest)) parts.push(`${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)}`);
      out.write(parts.join(' ') + '\n');
    },
  };
}

export function createLogger(opts: LogOptions): Logger {
  const out = opts.destination ?? process.stderr;
  const dest = opts.json ? (out as DestinationStream) : textDestination(out, opts.timestamps);
  return pino(
    {
      level: opts.verbose ? 'debug' : 'info',
      base: undefined,
      timestamp: opts.timestamps ? pino.stdTimeFunctions.epochTime : false,
      // Defence in depth: these field names never carry their value into a log line.
      redact: { paths: ['key', 'keys', 'secret', 'secrets', 'camoKeys', 'imagorSecrets', '*.camoKeys', '*.imagorSecrets'], censor: '***' },
    },
    dest,
  );
}
