/**
 * imagor's file loader (FILE_LOADER_BASE_DIR / _PATH_PREFIX): reads a source image by key from under a root
 * directory, with a size cap. Refuses any key that would leave the root, in any spelling and through symlinks
 * (security.md section 5); never writes.
 */
import { realpath } from 'node:fs/promises';
import { fail, PixgateError } from '../respond/errors.js';
import { fileSafeChars, normalizeDirPrefix, resolveKey, type KeyRules } from './keys.js';
import { errnoOf, fileMeta, openInsideRoot, readToEnd } from './file-store.js';
import type { LoadOptions, SourceLoader, StoredBlob, StoredMeta } from './result-store.js';

export interface FileLoaderOptions {
  readonly baseDir: string;
  readonly pathPrefix?: string;
  /** FILE_SAFE_CHARS. */
  readonly safeChars?: string;
  /** Largest source read; 0 = no limit. A per-call LoadOptions.maxBytes overrides it. */
  readonly maxBytes?: number;
  readonly name?: string;
}

/** A deadline (AbortSignal.timeout) is UPSTREAM_TIMEOUT; any other abort is passed on as the caller's reason. */
export function abortError(signal: AbortSignal, name: string): unknown {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new PixgateError('UPSTREAM_TIMEOUT', { detail: `${name}: deadline`, cause: reason });
  return reason;
}

export function createFileLoader(opts: FileLoaderOptions): SourceLoader {
  const name = opts.name ?? `file-loader:${opts.baseDir}`;
  const rules: KeyRules = {
    pathPrefix: normalizeDirPrefix(opts.pathPrefix ?? ''),
    safeChars: fileSafeChars(opts.safeChars ?? ''),
    refuseDotFiles: true,
  };
  let rootPromise: Promise<string> | undefined;

  async function realRoot(): Promise<string | undefined> {
    if (rootPromise) return rootPromise;
    try {
      const p = realpath(opts.baseDir);
      const root = await p;
      rootPromise = p;
      return root;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The path under the root, or undefined when the key is outside this loader's prefix (not ours). */
  function resolve(key: string): string | undefined {
    const r = resolveKey(key, rules);
    if (r.ok) return r.relative;
    if (r.reason === 'outside-prefix') return undefined;
    return fail('INVALID_PARAMS', `${name}: refused image key (${r.reason}: ${r.detail})`);
  }

  const ioError = (err: unknown): PixgateError =>
    err instanceof PixgateError ? err : new PixgateError('UPSTREAM_ERROR', { detail: `${name}: ${err instanceof Error ? err.message : String(err)}`, cause: err });

  return {
    name,

    async get(key: string, load: LoadOptions = {}): Promise<StoredBlob | undefined> {
      const rel = resolve(key);
      if (rel === undefined) return undefined;
      const limit = (load.maxBytes ?? opts.maxBytes ?? 0) || Infinity;
      const tooLarge = (): never => fail('CONTENT_LENGTH_EXCEEDED', `${name}: ${key} is over ${limit} bytes`);
      try {
        const root = await realRoot();
        if (root === undefined) return undefined;
        const opened = await openInsideRoot(root, rel);
        if (opened.kind === 'missing') return undefined;
        if (opened.kind === 'outside') return fail('INVALID_PARAMS', `${name}: ${key} resolves outside the root (${opened.real})`);
        const { fh, st } = opened;
        try {
          if (st.size > limit) tooLarge();
          const body = await readToEnd(fh, st.size, limit, tooLarge, load.signal);
          return { meta: fileMeta({ mtimeMs: st.mtimeMs, size: body.length }), body };
        } finally {
          await fh.close().catch(() => {});
        }
      } catch (err) {
        if (load.signal?.aborted) throw abortError(load.signal, name);
        throw ioError(err);
      }
    },

    async stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined> {
      const rel = resolve(key);
      if (rel === undefined) return undefined;
      if (signal?.aborted) throw abortError(signal, name);
      try {
        const root = await realRoot();
        if (root === undefined) return undefined;
        const opened = await openInsideRoot(root, rel);
        if (opened.kind === 'missing') return undefined;
        if (opened.kind === 'outside') return fail('INVALID_PARAMS', `${name}: ${key} resolves outside the root`);
        await opened.fh.close().catch(() => {});
        return fileMeta(opened.st);
      } catch (err) {
        throw ioError(err);
      }
    },

    async close(): Promise<void> {},
  };
}

