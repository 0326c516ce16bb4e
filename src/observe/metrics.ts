/**
 * Every metric pixgate exports, in one place. go-camo's names are kept as they are (namespace camo, including its
 * "reponses" typo) so existing dashboards work; pixgate's own are pixgate_*. Labels never carry a URL or a key.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly branch: string;
  readonly buildDate: string;
}

/**
 * The `method` label of camo_responses_total as go-camo's promhttp instrumentation writes it (client_golang
 * promhttp `sanitizeMethod`): a known method in upper or lower case becomes lower case, anything else "unknown",
 * so clients cannot grow the label set (CVE-2022-21698).
 */
const METHOD_LABELS: ReadonlyMap<string, string> = new Map(
  ['get', 'put', 'head', 'post', 'delete', 'connect', 'options', 'notify', 'trace', 'patch'].flatMap((m) => [
    [m.toUpperCase(), m] as const,
    [m, m] as const,
  ]),
);

export function methodLabel(method: string): string {
  return METHOD_LABELS.get(method) ?? 'unknown';
}

export function createMetrics(build: BuildInfo) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const camo = {
    responseDuration: new Histogram({
      name: 'camo_response_duration_seconds', help: 'A histogram of latencies for proxy responses.', registers: [registry],
    }),
    responseSize: new Histogram({
      name: 'camo_response_size_bytes', help: 'A histogram of sizes for proxy responses.',
      buckets: exponentialBuckets(1024, 2, 10), registers: [registry],
    }),
    responses: new Counter({
      name: 'camo_responses_total', help: 'Total HTTP requests processed by the go-camo server, excluding scrapes.',
      labelNames: ['code', 'method'] as const, registers: [registry],
    }),
    contentLengthExceeded: new Counter({
      name: 'camo_proxy_content_length_exceeded_total', help: 'The number of requests where the content length was exceeded.', registers: [registry],
    }),
    responsesFailed: new Counter({
      name: 'camo_proxy_reponses_failed_total', help: 'The number of responses that failed to send to the client.', registers: [registry],
    }),
    responsesTruncated: new Counter({
      name: 'camo_proxy_reponses_truncated_total', help: 'The number of responses that were too large to send.', registers: [registry],
    }),
  };

  new Gauge({
    name: 'camo_build_info',
    help: 'A metric with a constant \'1\' value labeled by version, revision, branch, goversion from which camo was built, and the goos and goarch for the build.',
    labelNames: ['version', 'revision', 'branch', 'goversion', 'goos', 'goarch', 'tags'] as const,
    registers: [registry],
  }).set(
    {
      version: build.version, revision: build.revision, branch: build.branch, goversion: `node${process.versions.node}`,
      goos: process.platform, goarch: process.arch, tags: '',
    },
    1,
  );

  const pixgate = {
    requests: new Counter({
      name: 'pixgate_requests_total', help: 'Requests by route (camo, imagor, params, meta, health, other) and status.',
      labelNames: ['route', 'code'] as const, registers: [registry],
    }),
    fetchDenied: new Counter({
      name: 'pixgate_fetch_denied_total', help: 'Origin fetches refused by policy, by reason (address, host, scheme, userinfo, ruleset, source, redirect).',
      labelNames: ['reason'] as const, registers: [registry],
    }),
    bytesLoaded: new Counter({ name: 'pixgate_bytes_loaded_total', help: 'Bytes read from origins and loaders.', registers: [registry] }),
    bytesServed: new Counter({ name: 'pixgate_bytes_served_total', help: 'Body bytes written to clients.', registers: [registry] }),
    processDuration: new Histogram({
      name: 'pixgate_process_duration_seconds', help: 'Time to probe, plan and encode one image (not counting the load).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    loadDuration: new Histogram({
      name: 'pixgate_load_duration_seconds', help: 'Time to load a source image, by loader (http, file, s3, storage).',
      labelNames: ['loader'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    resultStorage: new Counter({
      name: 'pixgate_result_storage_total', help: 'Result lookups by outcome: memory (the in-memory copy of a recent result), hit, miss and stale (result storage).',
      labelNames: ['outcome'] as const, registers: [registry],
    }),
    storageErrors: new Counter({
      name: 'pixgate_storage_errors_total', help: 'Storage operations that failed (the request went on without them), by store (file-source, file-result, s3-source, s3-result) and operation.',
      labelNames: ['store', 'op'] as const, registers: [registry],
    }),
    processed: new Counter({ name: 'pixgate_images_processed_total', help: 'Images processed (result storage misses that ran the processor).', registers: [registry] }),
    shared: new Counter({ name: 'pixgate_requests_shared_total', help: 'Requests answered by an identical request already in flight.', registers: [registry] }),
    queueDepth: new Gauge({ name: 'pixgate_queue_depth', help: 'Requests waiting for a processing slot.', registers: [registry] }),
    inFlight: new Gauge({ name: 'pixgate_jobs_in_flight', help: 'Images holding a processing slot now (being decoded, processed or encoded); source downloads are not counted.', registers: [registry] }),
  };

  // Label sets repeat (a handful of codes and routes): keeping each child saves hashing the labels per request,
  // and nested maps save building a key string.
  const responseChildren = new Map<string, Map<string, { inc(): void }>>();
  const requestChildren = new Map<string, Map<string, { inc(): void }>>();
  const countResponse = (code: string, method: string) => {
    const label = methodLabel(method);
    let byMethod = responseChildren.get(code);
    if (!byMethod) responseChildren.set(code, (byMethod = new Map()));
    let child = byMethod.get(label);
    if (!child) byMethod.set(label, (child = camo.responses.labels(code, label)));
    child.inc();
  };
  const countRequest = (route: string, code: string) => {
    let byCode = requestChildren.get(route);
    if (!byCode) requestChildren.set(route, (byCode = new Map()));
    let child = byCode.get(code);
    if (!child) byCode.set(code, (child = pixgate.requests.labels(route, code)));
    child.inc();
  };

  return { registry, camo, pixgate, countResponse, countRequest };
}

export type Metrics = ReturnType<typeof createMetrics>;
