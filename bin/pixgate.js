#!/usr/bin/env -S node --initial-old-space-size=128
// --initial-old-space-size: the 1 MB-scale source buffers held while libvips works set off a V8 mark-compact every
// few requests with the default heap sizing; starting the old space at 128 MB removes them (docs/performance.md,
// finding 1). It only works on node's command line, hence the shebang; cluster workers inherit it.
import '../dist/main.js';
