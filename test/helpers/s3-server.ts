/**
 * A real S3-compatible server for the tests, started in-process on loopback: fauxqs (an S3 emulator spoken to over
 * HTTP by the real AWS SDK; it decodes aws-chunked uploads and keeps multipart ETags as S3 does) behind a small TCP
 * gate. The gate is what the tests point at, so an outage can be staged without losing the stored objects:
 * stop() refuses connections and resets open ones, hang() accepts and never answers, start() comes back on the
 * same port. Never listens anywhere but 127.0.0.1.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';

export interface S3TestServer {
  /** `http://127.0.0.1:PORT`, through the gate; use with forcePathStyle. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly buckets: readonly string[];
  /** The server goes down: the port refuses connections and open connections are reset. */
  stop(): Promise<void>;
  /** Back up on the same port, with everything stored before. */
  start(): Promise<void>;
  /** The server stops answering: connections are accepted (and kept) but nothing is passed either way. */
  hang(): void;
  /** Access key ids seen in SigV4 Authorization headers, in order (for per-role credential checks). */
  accessKeysSeen(): readonly string[];
  /** Creates a bucket (buckets given at start exist already). */
  createBucket(name: string): void;
  /** A path-style client for the test's own checks; destroyed by close(). */
  client(): S3Client;
  close(): Promise<void>;
}

export interface S3TestServerOptions {
  readonly buckets?: readonly string[];
}

const HOST = '127.0.0.1';

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startS3Server(opts: S3TestServerOptions = {}): Promise<S3TestServer> {
  const backend = await startFauxqs({ port: 0, host: HOST, logger: false });
  const buckets = [...(opts.buckets ?? ['pixgate-test'])];
  for (const b of buckets) backend.createBucket(b);

  let hanging = false;
  const accessKeys: string[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const gate = createServer((client) => {
    track(client);
    if (hanging) return;
    const upstream = connect(backend.port, HOST);
    track(upstream);
    // Forwarded chunk by chunk (not piped) so that hang() also stalls connections that are already open.
    client.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString('latin1').matchAll(/Credential=([^/\s]+)\//g)) accessKeys.push(m[1]!);
      if (!hanging) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!hanging) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const port = await listen(gate, 0);
  const credentials = { accessKeyId: 'pixgate-test', secretAccessKey: 'pixgate-test-secret' };
  const endpoint = `http://${HOST}:${port}`;
  const clients: S3Client[] = [];
  let up = true;

  const dropConnections = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  return {
    endpoint,
    port,
    region: 'us-east-1',
    credentials,
    buckets,
    async stop() {
      hanging = false;
      if (!up) return;
      up = false;
      const closed = new Promise<void>((resolve) => gate.close(() => resolve()));
      dropConnections();
      await closed;
    },
    async start() {
      hanging = false;
      dropConnections();
      if (up) return;
      await listen(gate, port);
      up = true;
    },
    hang() {
      hanging = true;
    },
    accessKeysSeen: () => [...accessKeys],
    createBucket(name) {
      backend.createBucket(name);
    },
    client() {
      const c = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      hanging = false;
      if (up) {
        up = false;
        const closed = new Promise<void>((resolve) => gate.close(() => resolve()));
        dropConnections();
        await closed;
      }
      dropConnections();
      await backend.stop();
    },
  };
}
