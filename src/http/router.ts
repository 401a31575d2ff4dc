import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ORM } from '../db.js';
import type { GraphQLServer } from '../graphql/yoga.js';
import { redactUrl, type Logger } from '../logger.js';
import { routeOf, type AppMetrics } from '../metrics.js';
import { SECURITY_HEADERS } from '../security/http-guards.js';
import { ACTIVATE_PAGE } from './activate-page.js';
import { serveMetrics, type MetricsAccess } from './metrics-endpoint.js';
import { RESET_PASSWORD_PAGE } from './reset-password-page.js';

/** Pages behind emailed links (GET only: opening a link never uses its token). */
const PAGES: Record<string, string | undefined> = { '/activate': ACTIVATE_PAGE, '/reset-password': RESET_PASSWORD_PAGE };
import { requestIdFrom } from '../graphql/context.js';
import { badRequestBody } from '../graphql/errors.js';

export interface RouterOptions {
  yoga: GraphQLServer;
  orm: ORM;
  logger: Logger;
  metrics: AppMetrics;
  maxBodyBytes: number;
  metricsAccess: MetricsAccess;
  /** False until the instance can refuse every revoked token (see app.ts); /health says 503 meanwhile. */
  isReady: () => boolean;
}

const requestIds = new WeakMap<IncomingMessage, string>();

/** The id the request log line and the operation's logs share (also sent back as X-Request-Id). */
export const requestIdOf = (req: IncomingMessage): string | undefined => requestIds.get(req);

const headersOf = (req: IncomingMessage) => ({
  get: (name: string) => {
    const value = req.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  },
});

/** The HTTP front door: a few plain routes, then Yoga for /graphql. */
export function createRequestListener({ yoga, orm, logger, metrics, maxBodyBytes, metricsAccess, isReady }: RouterOptions): RequestListener {
  return (req, res) => {
    const startedAt = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const requestId = requestIdFrom(headersOf(req));
    requestIds.set(req, requestId);
    res.setHeader('x-request-id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      metrics.observeRequest(req.method ?? 'GET', routeOf(path), res.statusCode, seconds);
      logger.info({ requestId, method: req.method, url: redactUrl(req.url), status: res.statusCode, ms: seconds * 1000 }, 'request');
    });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);

    if (path === '/health') return void health(orm, res, isReady);
    if (path === '/metrics' && req.method === 'GET') return void serveMetrics(metrics, metricsAccess, req, res);
    const page = req.method === 'GET' ? PAGES[path] : undefined;
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(page);
    }
    if (tooLarge(req, maxBodyBytes)) return refuse(res, 413, 'Request body too large.');
    void yoga.requestListener(limitBody(req, res, maxBodyBytes), res);
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
  const ok = isReady() && await Promise.race([
    orm.em
      .getConnection()
      .execute('select 1')
      .then(() => true)
      .catch(() => false),
    new Promise<boolean>((resolve) => setTimeout(resolve, 2_000, false).unref()),
  ]);
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(ok ? { status: 'ok' } : { status: 'unavailable', database: 'unreachable' }));
}
