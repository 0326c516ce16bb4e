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
import { headerString, isHttp2, watchClient, type Req, type Res } from './http-types.js';
import { isOwnVia } from '../policy/loop.js';
import { renderLanding } from './landing.js';
import { servePlayground } from './playground.js';

export function createHandler(app: App): (req: Req, res: Res) => void {
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
  for (const [name, value] of app.defaultHeaders) res.setHeader(name, value);
  if (app.settings.noFrontendKeepAlive && !isHttp2(res)) res.setHeader('Connection', 'close');

  const client = watchClient(res);

  const route = routeRequest(req.method ?? 'GET', req.url ?? '/', app.routeOptions);
  let job: JobKind = (route.kind === 'signed' && !route.camo) || route.kind === 'playground' ? 'imagor' : 'camo';
  let label = routeLabel(route);
  let bytes = 0;
  let sourceHost: string | undefined;
  try {
    switch (route.kind) {
      case 'health':
      case 'favicon':
        res.statusCode = 200;
        res.setHeader('Content-Length', 0);
        res.end();
        break;
      case 'metrics': {
        const text = await app.metrics.registry.metrics();
        res.statusCode = 200;
        res.setHeader('Content-Type', app.metrics.registry.contentType);
        res.end(text);
        break;
      }
      case 'landing': {
        const html = renderLanding(app);
        res.statusCode = 200;
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        // The landing page is ours and static: it may use its own inline style, nothing else.
        res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
        res.setHeader('Content-Length', Buffer.byteLength(html));
        res.end(html);
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
    sendError(res, err, job, app.log, { imagorBody: !app.settings.disableErrorBody });
    if (isPixgateError(err) && err.code === 'CLIENT_CLOSED') app.metrics.camo.responsesFailed.inc();
  } finally {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const code = String(res.statusCode);
    if (route.kind !== 'metrics') {
      app.metrics.countResponse(code, req.method ?? '');
      app.metrics.camo.responseDuration.observe(seconds);
      if (label === 'camo') app.metrics.camo.responseSize.observe(bytes);
    }
    app.metrics.countRequest(label, code);
    app.metrics.pixgate.bytesServed.inc(bytes);
    if (app.settings.accessLog) {
      app.log.info({ route: label, status: res.statusCode, ms: Math.round(seconds * 1000), bytes, ...(sourceHost && { host: sourceHost }) }, 'request');
    }
    if (app.log.isLevelEnabled('debug')) app.log.debug({ method: req.method, path: req.url }, 'request path');
  }
}

/** A hex digest or an unpadded base64 one: go-camo's shapes (an imagor sha1 hash ends with "="). */
function looksLikeCamoUrl(c: CamoCandidate): boolean {
  return c.form === 'query' || c.digest.length === 40 || c.digest.length === 27;
}
