#!/usr/bin/env -S node --initial-old-space-size=128
// --initial-old-space-size: the 1 MB-scale source buffers held while libvips works set off a V8 mark-compact every
// few requests with the default heap sizing; starting the old space at 128 MB removes them (docs/performance.md,
// finding 1). It only works on node's command line, hence the shebang; cluster workers inherit it.
import { availableParallelism } from 'node:os';

// sharp runs each image on libuv's thread pool (4 threads by default), shared with DNS lookups and file reads:
// with more cores than that, processing slots would wait for threads. It must be set before the pool starts,
// so before anything else is loaded; cluster workers inherit it. A value the user set is kept.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism() + 4));

await import('../dist/main.js');
