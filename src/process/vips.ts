/**
 * Every sharp pipeline that works on pixels starts here, so a job's deadline bounds libvips itself: inside
 * withVipsDeadline(), each pipeline gets sharp's timeout (whole seconds, at least one) for the time left, and
 * libvips stops at its next progress report instead of running an expensive operation to its end after the
 * client was already answered 408. Outside it, pipelines have no timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import sharp, { type Sharp, type SharpInput, type SharpOptions } from 'sharp';
import { PixgateError } from '../respond/errors.js';

const deadlines = new AsyncLocalStorage<number>();

/** Runs `work` with `deadlineAtMs` (epoch milliseconds) applied to every pipeline made through vips() inside it. */
export function withVipsDeadline<T>(deadlineAtMs: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadlineAtMs, work);
}

export function vips(options?: SharpOptions): Sharp;
export function vips(input?: SharpInput | SharpInput[], options?: SharpOptions): Sharp;
export function vips(input?: SharpInput | SharpInput[] | SharpOptions, options?: SharpOptions): Sharp {
  // sharp reads a lone plain object as options by its argument count: pass on exactly what was given.
  const s = options === undefined ? sharp(input as SharpInput) : sharp(input as SharpInput, options);
  const at = deadlines.getStore();
  return at === undefined ? s : s.timeout({ seconds: Math.max(1, Math.ceil((at - Date.now()) / 1000)) });
}

/** sharp's error for a pipeline stopped by its timeout ("timeout: 42% complete"). */
function isVipsTimeout(message: string): boolean {
  return /^timeout: \d+% complete/.test(message);
}

/**
 * Awaits a sharp operation and types its failure: over the pixel limit -> TOO_MANY_PIXELS, stopped at the
 * deadline -> REQUEST_TIMEOUT, anything else libvips could not do -> UNSUPPORTED_FORMAT. `what` prefixes the
 * logged detail.
 */
export async function runVips<T>(work: Promise<T>, what = 'libvips'): Promise<T> {
  try {
    return await work;
  } catch (cause) {
    if (cause instanceof PixgateError) throw cause;
    const message = cause instanceof Error ? cause.message.split('\n')[0]! : String(cause);
    if (/pixel limit/i.test(message)) throw new PixgateError('TOO_MANY_PIXELS', { detail: `${what}: ${message}`, cause });
    if (isVipsTimeout(message)) throw new PixgateError('REQUEST_TIMEOUT', { detail: `${what} stopped at the deadline: ${message}`, cause });
    throw new PixgateError('UNSUPPORTED_FORMAT', { detail: `${what}: ${message}`, cause });
  }
}

/** A failure of sharp that is libvips stopping at the deadline. */
export function isVipsTimeoutError(err: unknown): boolean {
  return err instanceof Error && isVipsTimeout(err.message);
}
