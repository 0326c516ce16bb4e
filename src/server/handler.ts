/**
 * The request handler: default headers, route, dispatch to a job, and the one place where errors are caught and
 * written (respond/send-error.ts). Also records the per-request metrics and the access log line.
 */
import { serveCamo, verifyCamo } from '../jobs/camo.js';
import { serveImagor, verifyImagor } from '../jobs/imagor.js';
import type { JobKind } from '../respond/error-table.js';
import { fail, isPixgateError } from '../respond/errors.js';
import { sendError } from '../respond/send-error.js';
import { routeRequest, type CamoCandidate, type Route } from '../route/route.js';
import type { App } from './app.js';
import { abortResponse, headerString, isHttp2, watchClient, type Req, type Res } from './http-types.js';
import { isOwnVia } from '../policy/loop.js';
import { renderLanding } from './landing.js';
import { servePlayground } from './playground.js';

export function createHandler(app: App): (req: Req, res: Res) => void {
  // handle() catches everything it can throw, so this promise never rejects (no unhandled rejection, no crash).
  return (req, res) => {
    void handle(app, req, res);
  };
}

function routeLabel(route: Route): string {
  switch (route.kind) {
    case 'signed': return route.camo ? 'camo' : 'imagor';
    case 'method-not-allowed':
    case 'not-found': return 'other';
    default: return route.kind;
  }
}

async function handle(app: App, req: Req, res: Res): Promise<void> {
  const started = process.hrtime.bigint();
  let job: JobKind = 'camo';
  let label = 'other';
  let scrape = false;
  let bytes = 0;
  let sourceHost: string | undefined;
  try {
    try {
      // Inside the try: a header value node:http refuses must end as this request's 500, not as a crash.
      for (const [name, value] of app.defaultHeaders) res.setHeader(name, value);
      if (app.settings.noFrontendKeepAlive && !isHttp2(res)) res.setHeader('Connection', 'close');

      const client = watchClient(res);
      const route = routeRequest(req.method ?? 'GET', req.url ?? '/', app.routeOptions);
      if ((route.kind === 'signed' && !route.camo) || route.kind === 'playground') job = 'imagor';
      label = routeLabel(route);
      switch (route.kind) {
        case 'health':
        case 'favicon':
          res.statusCode = 200;
          res.setHeader('Content-Length', 0);
          res.end();
          break;
        case 'metrics': {
          scrape = true;
          const text = await app.metrics.registry.metrics();
          res.statusCode = 200;
          res.setHeader('Content-Type', app.metrics.registry.contentType);
          res.end(text);
          break;
        }
        case 'landing': {
          const html = renderLanding(app);
          const length = Buffer.byteLength(html);
          res.statusCode = 200;
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          // The landing page is ours and static: it may use its own inline style, nothing else.
          res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
          res.setHeader('Content-Length', length);
          res.end(html);
          if (req.method !== 'HEAD') bytes = length;
          break;
        }
        case 'playground':
          bytes = await servePlayground(app, req, res, route.path, route.method);
          break;
        case 'method-not-allowed':
          fail('METHOD_NOT_ALLOWED', req.method);
        case 'not-found':
          fail('NOT_FOUND');
        case 'signed': {
          if (isOwnVia(headerString(req.headers.via), app.settings.serverName)) fail('LOOP_DETECTED', 'request carries our Via');
          // Served as the job whose signature verifies; camo first, since its shape is the narrower one.
          let camoError: unknown;
          if (route.camo) {
            let sourceUrl: string | undefined;
            try {
              sourceUrl = verifyCamo(app, route.camo);
            } catch (err) {
              if (!route.imagor || !isPixgateError(err) || err.code !== 'BAD_SIGNATURE') throw err;
              camoError = err;
            }
            if (sourceUrl !== undefined) {
              job = 'camo';
              label = 'camo';
              const outcome = await serveCamo(app, req, res, sourceUrl, client);
              bytes = outcome.bytes;
              sourceHost = outcome.sourceHost;
              break;
            }
          }
          if (!route.imagor) fail('NOT_FOUND');
          job = 'imagor';
          label = route.imagor.endpoint === 'params' ? 'params' : 'imagor';
          let resolved;
          try {
            resolved = verifyImagor(app, route.imagor);
          } catch (err) {
            // Neither verified: answer in the style the URL looks like.
            if (camoError && route.camo && looksLikeCamoUrl(route.camo)) job = 'camo';
            throw err;
          }
          if (resolved.params.meta) label = 'meta';
          const outcome = await serveImagor(app, req, res, route.imagor, resolved, client);
          bytes = outcome.bytes;
          sourceHost = outcome.sourceHost;
          break;
        }
      }
    } catch (err) {
      const headersWereSent = res.headersSent;
      const sent = sendError(res, err, job, app.log, { imagorBody: !app.settings.disableErrorBody });
      if (sent.code === 'CLIENT_CLOSED') app.metrics.camo.responsesFailed.inc();
      else if (!headersWereSent && req.method !== 'HEAD') bytes = Number(res.getHeader('Content-Length')) || 0;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const code = String(res.statusCode);
      // go-camo instruments its whole router (promhttp), and serves /metrics beside it: every response but a scrape.
      if (!scrape) {
        app.metrics.countResponse(code, req.method ?? '');
        app.metrics.camo.responseDuration.observe(seconds);
        app.metrics.camo.responseSize.observe(bytes);
      }
      app.metrics.countRequest(label, code);
      app.metrics.pixgate.bytesServed.inc(bytes);
      if (app.settings.accessLog) {
        app.log.info({ route: label, status: res.statusCode, ms: Math.round(seconds * 1000), bytes, ...(sourceHost && { host: sourceHost }) }, 'request');
      }
      if (app.log.isLevelEnabled('debug')) app.log.debug({ method: req.method, path: req.url }, 'request path');
    }
  } catch (err) {
    // sendError or the bookkeeping above threw: the last resort, which never throws itself.
    answerUnexpected(app, res, err);
  }
}

function answerUnexpected(app: App, res: Res, err: unknown): void {
  try {
    app.log.error({ err }, 'unexpected error');
  } catch {
    // a logger that throws must not take the process down either
  }
  try {
    if (res.headersSent) {
      if (!res.writableEnded) abortResponse(res);
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusCode = 500;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'private, no-cache, no-store, must-revalidate');
    res.end('Internal Server Error\n');
  } catch {
    try {
      abortResponse(res);
    } catch {
      // nothing more can be done for this request
    }
  }
}

/** A hex digest or an unpadded base64 one: go-camo's shapes (an imagor sha1 hash ends with "="). */
function looksLikeCamoUrl(c: CamoCandidate): boolean {
  return c.form === 'query' || c.digest.length === 40 || c.digest.length === 27;
}
