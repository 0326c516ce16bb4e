/**
 * Streams an origin body to the client with backpressure, never buffering it whole. The first bytes are held back
 * until they show what the body is, so an HTML page served as image/png is refused before any header goes out.
 * A body that fails mid-stream (over the size cap, early EOF, deadline) aborts the client connection, so no
 * client or CDN keeps a truncated image as complete (go-camo silently truncates at --max-size).
 */
import type { Readable } from 'node:stream';
import { brotliDecompressSync, constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { bodyMatchesType, sniffBytes, SNIFF_BYTES } from '../policy/sniff.js';
import { abortResponse, type Res } from '../server/http-types.js';
import { fail } from './errors.js';

export interface PassThroughOptions {
  readonly status: number;
  readonly headers: readonly (readonly [string, string | string[]])[];
  readonly head: boolean;
  /** Declared media type, to check the sniffed bytes against; undefined skips the check (304). */
  readonly mediaType?: { readonly type: string; readonly subtype: string };
  /** False skips the sniff: a partial body that starts past byte 0 has no magic bytes to look at. */
  readonly sniff?: boolean;
  /** The origin's Content-Encoding: the body passes through encoded, the sniff looks at its decoded start. */
  readonly contentEncoding?: string;
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
  if (opts.sniff !== false && !bodyMatchesType(opts.mediaType.type, opts.mediaType.subtype, sniffBytes(decodedStart(head, opts.contentEncoding)))) {
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

// The sniff needs 512 decoded bytes; 4 KiB of compressed input gives that for any real image, and deflate's
// 1032:1 ceiling keeps its output under 4.2 MB even for a bomb.
const ENCODED_START = 4096;
const MAX_DECODED_START = 8 * 1024 * 1024;

/**
 * The start of the body as the client will see it once decoded (gzip, deflate, br; go-camo passes the encoding
 * through). An encoding we cannot decode, or bytes that do not decode, give nothing to recognise.
 */
function decodedStart(body: Buffer, encoding: string | undefined): Buffer {
  const e = encoding?.trim().toLowerCase();
  if (!e || e === 'identity') return body;
  const head = body.subarray(0, ENCODED_START);
  const partial = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_DECODED_START };
  try {
    if (e === 'gzip' || e === 'x-gzip') return gunzipSync(head, partial);
    if (e === 'br') return brotliDecompressSync(head, { finishFlush: constants.BROTLI_OPERATION_FLUSH, maxOutputLength: MAX_DECODED_START });
    if (e === 'deflate') {
      try {
        return inflateSync(head, partial);
      } catch {
        return inflateRawSync(head, partial); // servers that send raw deflate without the zlib wrapper
      }
    }
  } catch {
    // undecodable: fall through
  }
  return Buffer.alloc(0);
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
