import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pingDatabase, type ORM } from '../db/db.js';
import type { GraphQLServer } from '../graphql/yoga.js';
import { redactUrl, type Logger } from '../logger.js';
import { routeOf, type AppMetrics } from '../metrics.js';
import { SECURITY_HEADERS } from '../security/http-guards.js';
import { activatePage, faviconAsset, graphiqlPage, resetPasswordPage, wantsGraphiQL } from './pages.js';
import { applyCors, type OriginPolicy } from './cors.js';
import { createWebClientHandler, WEB_CLIENT_PATH } from './web-client.js';
import { serveMetrics, type MetricsAccess } from './metrics-endpoint.js';
import { requestInfoOf } from './request-info.js';
import { badRequestBody } from '../shared/errors.js';

export interface RouterOptions {
  yoga: GraphQLServer;
  orm: ORM;
  logger: Logger;
  metrics: AppMetrics;
  maxBodyBytes: number;
  origins: OriginPolicy;
  /** Serve GraphiQL to browsers at GET /graphql. */
  graphiql: boolean;
  /** Where the built web client is (served at /app). */
  webClientDir: string;
  /** GET and POST /unsubscribe (one-click unsubscribe links of notification emails). */
  unsubscribe?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  metricsAccess: MetricsAccess;
  /** False until the instance can refuse every revoked token (see app.ts); /health says 503 meanwhile. */
  isReady: () => boolean;
  /** Whether X-Forwarded-For names the client (TRUST_PROXY). */
  trustProxy: boolean;
}

/** The HTTP front door: a few plain routes, then Yoga for /graphql. */
export function createRequestListener({
  yoga,
  orm,
  logger,
  metrics,
  maxBodyBytes,
  origins,
  graphiql,
  webClientDir,
  unsubscribe,
  metricsAccess,
  isReady,
  trustProxy,
}: RouterOptions): RequestListener {
  const serveWebClient = createWebClientHandler(webClientDir);
  return (req, res) => {
    const startedAt = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const info = requestInfoOf(req, trustProxy);
    const { requestId } = info;
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.observeRequest(req.method ?? 'GET', routeOf(path), res.statusCode, seconds);
      logger.info({ requestId, method: req.method, url: redactUrl(req.url), status: res.statusCode, ms: seconds * 1000 }, 'request');
    });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

    if (path === '/health') return void health(orm, res, isReady);
    if (path === '/metrics' && req.method === 'GET') return void serveMetrics(metrics, metricsAccess, req, res);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    // Pages behind emailed links: opening one never uses its token.
    if (path === '/activate' && readOnly) return void activatePage().serve(req, res);
    if (path === '/reset-password' && readOnly) return void resetPasswordPage().serve(req, res);
    if ((path === '/favicon.svg' || path === '/favicon.ico') && readOnly) return void faviconAsset().serve(req, res);
    if (path === '/graphql' && applyCors(origins, req, res)) return;
    if (path === '/graphql' && graphiql && wantsGraphiQL(req.method, req.headers.accept)) {
      return void graphiqlPage()
        .then((page) => page.serve(req, res))
        .catch((error: unknown) => {
          logger.error({ err: error, requestId }, 'GraphiQL could not be served');
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('GraphiQL is unavailable; see the server log.');
        });
    }
    if (path === WEB_CLIENT_PATH || path.startsWith(`${WEB_CLIENT_PATH}/`)) return void serveWebClient(req, res, path);
    if (path === '/unsubscribe' && unsubscribe) {
      return void unsubscribe(req, res).catch((error: unknown) => {
        logger.error({ err: error, requestId }, 'unsubscribe failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Something went wrong; try again.');
      });
    }
    if (tooLarge(req, maxBodyBytes)) return refuse(res, 413, 'Request body too large.');
    // `handle` is Node's request listener with extra server context merged into { req, res }.
    void yoga.handle(limitBody(req, res, maxBodyBytes), res, { requestInfo: info });
  };
}

function tooLarge(req: IncomingMessage, maxBodyBytes: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > maxBodyBytes;
}

/** Guards bodies without a Content-Length (chunked): past the limit the request is cut off with 413. */
function limitBody(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): IncomingMessage {
  if (req.headers['content-length'] !== undefined || req.method === 'GET') return req;
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBodyBytes && !res.headersSent) {
      refuse(res, 413, 'Request body too large.');
      req.destroy();
    }
  });
  return req;
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(badRequestBody(message));
}

async function health(orm: ORM, res: ServerResponse, isReady: () => boolean): Promise<void> {
  const ok =
    isReady() &&
    (await Promise.race([
      pingDatabase(orm.em)
        .then(() => true)
        .catch(() => false),
      new Promise<boolean>((resolve) => setTimeout(resolve, 2_000, false).unref()),
    ]));
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(ok ? { status: 'ok' } : { status: 'unavailable', database: 'unreachable' }));
}
