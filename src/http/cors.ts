import type { IncomingMessage, ServerResponse } from 'node:http';

/** Which browser origins may call the API and open sockets (API.md, WebSocket connections). */
export interface OriginPolicy {
  /** Whether a browser at `origin` may read answers and open WebSockets. */
  allows(origin: string): boolean;
  /** True when the answer depends on the Origin header, so shared caches must key on it. */
  readonly variesByOrigin: boolean;
}

/** How long a browser may reuse a preflight; Chromium caps it at 2 hours, Firefox at 24. */
export const PREFLIGHT_MAX_AGE_SECONDS = 7_200;

/**
 * CORS_ORIGINS set: exactly those origins (scheme, host and port; `localhost` is not
 * `127.0.0.1`). Unset: every origin in development, none in production.
 */
export function originPolicy(corsOrigins: readonly string[], production: boolean): OriginPolicy {
  if (corsOrigins.length > 0) {
    // Browsers send origins in lower case; the list may not be.
    const listed = new Set(corsOrigins.map((origin) => origin.toLowerCase()));
    return { allows: (origin) => listed.has(origin.toLowerCase()), variesByOrigin: true };
  }
  return production ? { allows: () => false, variesByOrigin: false } : { allows: () => true, variesByOrigin: true };
}

/**
 * Whether a browser's Origin is the API's own (the web client served at /app): its host and
 * port are the request's Host. Such a page is not another site, so no origin rule applies to
 * it (a WebSocket from it cannot be a cross-site hijack), whatever CORS_ORIGINS says.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * Adds the CORS headers of `req` to `res`, and answers a preflight itself. Returns true when it
 * answered (the request goes no further). A refused origin gets no CORS header, so the browser
 * keeps the answer from the page; the request itself is still served, as for any client.
 */
export function applyCors(policy: OriginPolicy, req: IncomingMessage, res: ServerResponse): boolean {
  if (policy.variesByOrigin) res.appendHeader('vary', 'Origin');
  const origin = header(req, 'origin');
  const preflight = req.method === 'OPTIONS' && origin !== undefined && header(req, 'access-control-request-method') !== undefined;
  const allowed = origin !== undefined && policy.allows(origin);
  if (allowed) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
    res.setHeader('access-control-expose-headers', 'x-request-id');
  }
  if (req.method !== 'OPTIONS') return false;
  if (allowed && preflight) {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    const requested = header(req, 'access-control-request-headers');
    if (requested) res.setHeader('access-control-allow-headers', requested);
    res.appendHeader('vary', 'Access-Control-Request-Headers');
    res.setHeader('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
  }
  res.writeHead(204, { 'content-length': '0' });
  res.end();
  return true;
}
