import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppMetrics } from '../metrics.js';

/** Who may read GET /metrics (API.md "Transport"). */
export interface MetricsAccess {
  production: boolean;
  /** METRICS_TOKEN: when set, a `Bearer` of it is required (in any environment). */
  token: string | undefined;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Open in development; in production hidden (404) unless METRICS_TOKEN is set, then 401 without
 * `Authorization: Bearer <METRICS_TOKEN>`. Metrics name routes, error codes and load: useful to an
 * attacker probing the service.
 */
export async function serveMetrics(metrics: AppMetrics, access: MetricsAccess, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (access.token === undefined && access.production) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('Not Found\n');
  }
  if (access.token !== undefined) {
    const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    // Digests have equal lengths, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(given), digest(access.token))) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' });
      return void res.end('Unauthorized\n');
    }
  }
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(body);
}
