/**
 * Every sharp pipeline the processor builds starts here, so a job's deadline bounds libvips itself: inside
 * withVipsDeadline(), each pipeline gets sharp's timeout (whole seconds, at least one) for the time left, and
 * libvips stops at its next progress report instead of running an expensive operation to its end after the
 * client was already answered 408. Outside it, pipelines have no timeout.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import sharp, { type Sharp, type SharpInput, type SharpOptions } from 'sharp';

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
export function isVipsTimeout(message: string): boolean {
  return /^timeout: \d+% complete/.test(message);
}
