/**
 * imagor's file storage (storage/filestorage) as a BlobStore: keys normalised and mapped under a base directory
 * and path prefix, refused when they would leave it (also through symlinks), atomic writes (temp file + rename,
 * so a reader sees the old file or the new one, never a part), expiration on read, and, beyond imagor, an
 * optional byte bound with least-recently-used eviction. Failures surface as StorageError; it never throws
 * anything else.
 */
import { randomUUID } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, opendir, realpath, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileSafeChars, normalizeDirPrefix, resolveKey, type KeyRules } from './keys.js';
import { StorageError, type BlobStore, type PutMeta, type StorageFailure, type StoredBlob, type StoredMeta } from './result-store.js';

export interface FileStoreOptions {
  readonly baseDir: string;
  /** Keys must start with it; it is removed before joining under baseDir. Default `/`. */
  readonly pathPrefix?: string;
  /** FILE_SAFE_CHARS; `--` turns escaping off. */
  readonly safeChars?: string;
  /** Default 0o755 (FILE_*_MKDIR_PERMISSION), before the umask. */
  readonly mkdirMode?: number;
  /** Default 0o666 (FILE_*_WRITE_PERMISSION), before the umask. */
  readonly writeMode?: number;
  /** Entries older than this are misses (not deleted, as imagor). 0 = never. */
  readonly expirationMs?: number;
  /**
   * Bound on the bytes of stored files (pixgate's PIXGATE_RESULT_CACHE_MAX_SIZE), enforced by evicting the least
   * recently used entries; 0 = unbounded. Counts file contents, not blocks or directories.
   */
  readonly maxBytes?: number;
  /**
   * The part of each file found in the directory at start that counts against maxBytes (default 1). N processes
   * that start together over one directory, each bounded to 1/N, adopt every file at 1/N of its size, so their
   * counts add up to the directory instead of each evicting it down to its own share.
   */
  readonly adoptedShare?: number;
  /** Largest single object read or written. Default 512 MiB. */
  readonly maxObjectBytes?: number;
  /** fsync each file before it is renamed into place (as imagor). Default true. */
  readonly fsync?: boolean;
  readonly now?: () => number;
  readonly name?: string;
}

export interface FileStore extends BlobStore {
  /** Resolves once the LRU index has been rebuilt from the directory (immediately when unbounded). */
  readonly ready: Promise<void>;
  /** What the LRU index holds; zeros when unbounded. */
  usage(): { readonly bytes: number; readonly files: number };
}

const TEMP_PREFIX = '.pixgate-tmp-';
const STALE_TEMP_MS = 10 * 60_000;
const DEFAULT_MAX_OBJECT = 512 * 1024 * 1024;
const READ_CHUNK = 64 * 1024;

/** `"<mtime ms hex>-<size hex>"`: imagor's fallback ETag shape (`%x-%x` of mtime and size), quoted, in ms. */
export function fileEtag(st: Pick<Stats, 'mtimeMs' | 'size'>): string {
  return `"${Math.floor(st.mtimeMs).toString(16)}-${st.size.toString(16)}"`;
}

export function fileMeta(st: Pick<Stats, 'mtimeMs' | 'size'>): StoredMeta {
  return { size: st.size, modifiedMs: Math.floor(st.mtimeMs), etag: fileEtag(st) };
}

/** True when `target` is `root` itself or below it (path.relative, not startsWith: `/root-sibling` is outside). */
export function isInsideRoot(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + sep) && !isAbsolute(rel));
}

export type OpenInsideResult =
  | { readonly kind: 'missing' }
  | { readonly kind: 'outside'; readonly real: string }
  | { readonly kind: 'file'; readonly fh: FileHandle; readonly st: Stats };

const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/**
 * Opens `relative` under the real (symlink-free) root for reading: realpath, containment check, then open with
 * O_NOFOLLOW (and O_NONBLOCK, so a FIFO cannot hang us), and only a regular file counts.
 */
export async function openInsideRoot(realRoot: string, rel: string): Promise<OpenInsideResult> {
  let real: string;
  try {
    real = await realpath(join(realRoot, rel));
  } catch (err) {
    if (MISSING_CODES.has(errnoOf(err))) return { kind: 'missing' };
    throw err;
  }
  if (!isInsideRoot(realRoot, real) || real === realRoot) return { kind: 'outside', real };
  let fh: FileHandle;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoOf(err);
    if (MISSING_CODES.has(code)) return { kind: 'missing' };
    if (code === 'ELOOP') return { kind: 'outside', real };
    throw err;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return { kind: 'missing' };
    }
    return { kind: 'file', fh, st };
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

/** Reads the open file to its end; calls `tooLarge` (which throws) once more than `limit` bytes have been read. */
export async function readToEnd(fh: FileHandle, sizeHint: number, limit: number, tooLarge: () => never, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(READ_CHUNK, sizeHint - total + 1, limit - total + 1)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > limit) tooLarge();
    chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

export function errnoOf(err: unknown): string {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : '';
}

function failureOf(err: unknown): StorageFailure {
  if (err instanceof StorageError) return err.reason;
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  if (err instanceof Error && err.name === 'TimeoutError') return 'timeout';
  switch (errnoOf(err)) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return 'full';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'denied';
    case 'ABORT_ERR':
      return 'aborted';
    case 'ENAMETOOLONG':
      return 'invalid-key';
    default:
      return 'io';
  }
}

/** Least recently used first; Map keeps insertion order, and a touch re-inserts at the end. */
class LruIndex {
  private readonly entries = new Map<string, number>();
  bytes = 0;

  get files(): number {
    return this.entries.size;
  }

  has(rel: string): boolean {
    return this.entries.has(rel);
  }

  touch(rel: string, size: number): void {
    this.remove(rel);
    this.entries.set(rel, size);
    this.bytes += size;
  }

  /** Makes an indexed entry the most recent, keeping the size it counts for; nothing when it is not indexed. */
  bump(rel: string): void {
    const size = this.entries.get(rel);
    if (size !== undefined) this.touch(rel, size);
  }

  remove(rel: string): void {
    const old = this.entries.get(rel);
    if (old === undefined) return;
    this.entries.delete(rel);
    this.bytes -= old;
  }

  shiftOldest(): string | undefined {
    const first = this.entries.keys().next();
    if (first.done) return undefined;
    this.remove(first.value);
    return first.value;
  }

  /** Puts `older` (oldest first) before everything already indexed, skipping paths already present. */
  prepend(older: ReadonlyArray<readonly [string, number]>): void {
    const current = [...this.entries];
    this.entries.clear();
    this.bytes = 0;
    for (const [rel, size] of older) this.touch(rel, size);
    for (const [rel, size] of current) this.touch(rel, size);
  }
}

export function createFileStore(opts: FileStoreOptions): FileStore {
  const baseDir = opts.baseDir;
  const name = opts.name ?? `file:${baseDir}`;
  const rules: KeyRules = {
    pathPrefix: normalizeDirPrefix(opts.pathPrefix ?? ''),
    safeChars: fileSafeChars(opts.safeChars ?? ''),
    refuseDotFiles: true,
  };
  const mkdirMode = opts.mkdirMode ?? 0o755;
  const writeMode = opts.writeMode ?? 0o666;
  const expirationMs = opts.expirationMs ?? 0;
  const maxBytes = opts.maxBytes ?? 0;
  const adoptedShare = Math.min(1, Math.max(0, opts.adoptedShare ?? 1)) || 1;
  const maxObjectBytes = Math.min(opts.maxObjectBytes ?? DEFAULT_MAX_OBJECT, maxBytes > 0 ? maxBytes : Infinity);
  const doFsync = opts.fsync ?? true;
  const now = opts.now ?? Date.now;
  const index = new LruIndex();
  let rootPromise: Promise<string> | undefined;

  const fail = (reason: StorageFailure, op: StorageError['op'], detail: string, cause?: unknown): never => {
    throw new StorageError(reason, name, op, detail, cause);
  };

  const wrap = (err: unknown, op: StorageError['op']): StorageError =>
    err instanceof StorageError ? err : new StorageError(failureOf(err), name, op, err instanceof Error ? err.message : String(err), err);

  function resolve(key: string, op: StorageError['op']): string {
    const r = resolveKey(key, rules);
    if (!r.ok) fail('invalid-key', op, `${r.reason}: ${r.detail}`);
    return (r as { relative: string }).relative;
  }

  /** The real path of the base dir; undefined while it does not exist (every read is then a miss). */
  async function realRoot(create: boolean): Promise<string | undefined> {
    if (rootPromise) return rootPromise;
    if (create) await mkdir(baseDir, { recursive: true, mode: mkdirMode });
    try {
      const p = realpath(baseDir);
      const root = await p;
      rootPromise = p;
      return root;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The real directory that will hold `rel`, created if asked; refuses one reached through a symlink out. */
  async function realParent(root: string, rel: string, create: boolean, op: StorageError['op']): Promise<string | undefined> {
    const dir = dirname(join(root, rel));
    if (create) await mkdir(dir, { recursive: true, mode: mkdirMode });
    let real: string;
    try {
      real = await realpath(dir);
    } catch (err) {
      if (MISSING_CODES.has(errnoOf(err))) return undefined;
      throw err;
    }
    if (!isInsideRoot(root, real)) fail('invalid-key', op, 'directory resolves outside the base dir');
    return real;
  }

  async function removeEmptyParents(root: string, rel: string): Promise<void> {
    let dir = dirname(join(root, rel));
    while (dir !== root && isInsideRoot(root, dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = dirname(dir);
    }
  }

  async function evict(root: string): Promise<void> {
    const victims: string[] = [];
    while (index.bytes > maxBytes) {
      const rel = index.shiftOldest();
      if (rel === undefined) break;
      victims.push(rel);
    }
    await Promise.all(
      victims.map(async (rel) => {
        try {
          const dir = await realParent(root, rel, false, 'delete');
          if (dir === undefined) return;
          await unlink(join(dir, basename(rel)));
          await removeEmptyParents(root, rel);
        } catch {
          // Already gone, or refused: either way it no longer counts.
        }
      }),
    );
  }

  async function writeBody(fh: FileHandle, body: Buffer | Readable, signal: AbortSignal | undefined): Promise<number> {
    const writeAll = async (chunk: Buffer): Promise<void> => {
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
    };
    if (Buffer.isBuffer(body)) {
      await writeAll(body);
      return body.length;
    }
    let total = 0;
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      signal?.throwIfAborted();
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > maxObjectBytes) fail('too-large', 'put', `over ${maxObjectBytes} bytes`);
      await writeAll(buf);
    }
    return total;
  }

  async function rebuildIndex(): Promise<void> {
    const root = await realRoot(false).catch(() => undefined);
    if (root === undefined) return;
    const found: Array<{ rel: string; size: number; usedMs: number }> = [];
    const dirs = [root];
    const startedMs = now();
    while (dirs.length > 0) {
      const dir = dirs.pop()!;
      let handle;
      try {
        handle = await opendir(dir);
      } catch {
        continue;
      }
      for await (const entry of handle) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          dirs.push(full);
          continue;
        }
        if (!entry.isFile()) continue;
        try {
          const st = await lstat(full);
          if (entry.name.startsWith(TEMP_PREFIX)) {
            if (startedMs - st.mtimeMs > STALE_TEMP_MS) await unlink(full).catch(() => {});
            continue;
          }
          if (entry.name.startsWith('.')) continue;
          found.push({ rel: relative(root, full).split(sep).join('/'), size: st.size, usedMs: Math.max(st.atimeMs, st.mtimeMs) });
        } catch {
          // Vanished while scanning.
        }
      }
    }
    found.sort((a, b) => a.usedMs - b.usedMs);
    index.prepend(found.map((f) => [f.rel, f.size * adoptedShare] as const));
    await evict(root);
  }

  const ready = maxBytes > 0 ? rebuildIndex().catch(() => {}) : Promise.resolve();

  return {
    name,
    ready,

    usage: () => ({ bytes: index.bytes, files: index.files }),

    async get(key: string, signal?: AbortSignal): Promise<StoredBlob | undefined> {
      const rel = resolve(key, 'get');
      try {
        signal?.throwIfAborted();
        const root = await realRoot(false);
        if (root === undefined) return undefined;
        const opened = await openInsideRoot(root, rel);
        if (opened.kind === 'missing') {
          index.remove(rel);
          return undefined;
        }
        if (opened.kind === 'outside') return fail('invalid-key', 'get', 'resolves outside the base dir');
        const { fh, st } = opened;
        try {
          if (expirationMs > 0 && now() - st.mtimeMs > expirationMs) return undefined;
          if (st.size > maxObjectBytes) fail('too-large', 'get', `${st.size} bytes`);
          const body = await readToEnd(fh, st.size, maxObjectBytes, () => fail('too-large', 'get', 'grew while read'), signal);
          if (maxBytes > 0) {
            // Only an entry this store counts becomes recent: another process's file (a worker sharing the
            // directory wrote it) stays in that process's count alone, or every worker reading the popular files
            // would count them against its own share and the directory would shrink to one share.
            index.bump(rel);
            // Recency survives a restart through atime; mtime (Last-Modified, expiration) is left as it was.
            await fh.utimes(now() / 1000, st.mtime).catch(() => {});
          }
          return { meta: fileMeta({ mtimeMs: st.mtimeMs, size: body.length }), body };
        } finally {
          await fh.close().catch(() => {});
        }
      } catch (err) {
        throw wrap(err, 'get');
      }
    },

    async stat(key: string, signal?: AbortSignal): Promise<StoredMeta | undefined> {
      const rel = resolve(key, 'stat');
      try {
        signal?.throwIfAborted();
        const root = await realRoot(false);
        if (root === undefined) return undefined;
        let real: string;
        try {
          real = await realpath(join(root, rel));
        } catch (err) {
          if (MISSING_CODES.has(errnoOf(err))) return undefined;
          throw err;
        }
        if (!isInsideRoot(root, real)) return fail('invalid-key', 'stat', 'resolves outside the base dir');
        const st = await stat(real);
        return st.isFile() ? fileMeta(st) : undefined;
      } catch (err) {
        throw wrap(err, 'stat');
      }
    },

    async put(key: string, body: Buffer | Readable, meta: PutMeta, signal?: AbortSignal): Promise<StoredMeta> {
      try {
        return await putFile(key, body, meta.modifiedMs, signal);
      } catch (err) {
        // A stream nobody reads would hold its producer back: a failed put releases it.
        if (!Buffer.isBuffer(body)) body.destroy();
        throw err;
      }
    },

    async delete(key: string, signal?: AbortSignal): Promise<void> {
      const rel = resolve(key, 'delete');
      try {
        signal?.throwIfAborted();
        index.remove(rel);
        const root = await realRoot(false);
        if (root === undefined) return;
        const dir = await realParent(root, rel, false, 'delete');
        if (dir === undefined) return;
        await unlink(join(dir, basename(rel)));
      } catch (err) {
        if (MISSING_CODES.has(errnoOf(err))) return;
        throw wrap(err, 'delete');
      }
    },

    async close(): Promise<void> {
      await ready;
    },
  };

  async function putFile(key: string, body: Buffer | Readable, modifiedMs: number | undefined, signal: AbortSignal | undefined): Promise<StoredMeta> {
    const rel = resolve(key, 'put');
    if (Buffer.isBuffer(body) && body.length > maxObjectBytes) {
      fail('too-large', 'put', `${body.length} bytes over ${maxObjectBytes}`);
    }
    let tmp: string | undefined;
    let fh: FileHandle | undefined;
    try {
      signal?.throwIfAborted();
      const root = (await realRoot(true))!;
      let dir: string | undefined;
      // A concurrent eviction may remove the (empty) directory between mkdir and open: retry once.
      for (let attempt = 0; attempt < 2 && fh === undefined; attempt++) {
        dir = await realParent(root, rel, true, 'put');
        if (dir === undefined) continue;
        tmp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomUUID()}`);
        try {
          fh = await open(tmp, 'wx', writeMode);
        } catch (err) {
          tmp = undefined;
          if (attempt === 1 || errnoOf(err) !== 'ENOENT') throw err;
        }
      }
      if (fh === undefined || dir === undefined || tmp === undefined) return fail('io', 'put', 'directory vanished twice');
      const size = await writeBody(fh, body, signal);
      // The expiration counts from the mtime too; a caller's time is the moment the result was made, a few
      // milliseconds before this write. Whole seconds, as Last-Modified has them: a file time in milliseconds
      // does not always read back as the same number.
      if (modifiedMs !== undefined) await fh.utimes(new Date(), new Date(Math.floor(modifiedMs / 1000) * 1000));
      if (doFsync) await fh.sync();
      const st = await fh.stat();
      await fh.close();
      fh = undefined;
      signal?.throwIfAborted();
      await rename(tmp, join(dir, basename(rel)));
      tmp = undefined;
      if (maxBytes > 0) {
        index.touch(rel, size);
        await evict(root);
      }
      return fileMeta(st);
    } catch (err) {
      throw wrap(err, 'put');
    } finally {
      if (fh) await fh.close().catch(() => {});
      if (tmp) await unlink(tmp).catch(() => {});
    }
  }
}
