/**
 * Streams an origin body to the client with backpressure, never buffering it whole. The first bytes are held back
 * until they show what the body is, so an HTML page served as image/png is refused before any header goes out.
 * A body that fails mid-stream (over the size cap, early EOF, deadline) aborts the client connection, so no
 * client or CDN keeps a truncated image as complete (go-camo silently truncates at --max-size).
 */
import type { Readable } from 'node:stream';
import { bodyMatchesType, sniffBytes, SNIFF_BYTES } from '../policy/sniff.js';
import { abortResponse, type Res } from '../server/http-types.js';
import { fail } from './errors.js';

export interface PassThroughOptions {
  readonly status: number;
  readonly headers: readonly (readonly [string, string | string[]])[];
  readonly head: boolean;
  /** Declared media type, to check the sniffed bytes against; undefined skips the check (304). */
  readonly mediaType?: { readonly type: string; readonly subtype: string };
  /** Called when a body error happens after headers were sent; returns nothing, the response is aborted. */
  readonly onBodyError: (err: unknown) => void;
}

/** Returns the number of body bytes written. Throws (before any header is sent) when the bytes contradict the type. */
export async function passThrough(res: Res, body: Readable, opts: PassThroughOptions): Promise<number> {
  const writeHead = () => {
    res.statusCode = opts.status;
    for (const [name, value] of opts.headers) res.setHeader(name, value);
  };
  if (opts.head || !opts.mediaType) {
    body.destroy();
    writeHead();
    res.end();
    return 0;
  }

  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const held: Buffer[] = [];
  let heldBytes = 0;
  let ended = false;
  while (heldBytes < SNIFF_BYTES) {
    const next = await it.next(); // errors here are thrown before any header: a clean error response
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    heldBytes += next.value.length;
  }
  const head = held.length === 1 ? held[0]! : Buffer.concat(held);
  if (!bodyMatchesType(opts.mediaType.type, opts.mediaType.subtype, sniffBytes(head))) {
    body.destroy();
    fail('UNSUPPORTED_CONTENT_TYPE', `body does not look like ${opts.mediaType.type}/${opts.mediaType.subtype}`);
  }

  writeHead();
  let written = 0;
  const write = async (chunk: Buffer) => {
    written += chunk.length;
    if (!(res as { write(c: Buffer): boolean }).write(chunk)) await drained(res);
  };
  try {
    if (head.length) await write(head);
    if (!ended) {
      for (let next = await it.next(); !next.done; next = await it.next()) await write(next.value);
    }
    res.end();
  } catch (err) {
    body.destroy();
    opts.onBodyError(err);
    abortResponse(res);
  }
  return written;
}

function drained(res: Res): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error('client closed'));
    };
    const cleanup = () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
