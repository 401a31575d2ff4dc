import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

export const WEB_CLIENT_PATH = '/app';

/**
 * The client may load code and open connections (fetch and WebSocket) only to this origin:
 * an injected script or a compromised dependency cannot send tokens elsewhere. CSP Level 3
 * makes 'self' cover ws:/wss: of the same host, which the chat socket needs.
 */
export const WEB_CLIENT_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

// Vite puts a content hash in every file name under assets/: a new build means new names, so
// these never change and browsers may keep them for a year. index.html names them, so it is
// revalidated on every load (ETag makes that a 304).
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const NOT_BUILT = 'The web client is not built. Run `npm run build:web` (npm start does it when it is missing).\n';

/**
 * Serves the built web client under /app: files from `dir`, and index.html for every other
 * path below /app so the client's own routes (/app/chat/…) survive a reload.
 */
export function createWebClientHandler(dir: string) {
  const root = resolve(dir);

  return async function serveWebClient(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return void res.end();
    }
    if (path === WEB_CLIENT_PATH) {
      res.writeHead(308, { location: `${WEB_CLIENT_PATH}/` });
      return void res.end();
    }
    const relative = safeDecode(path.slice(WEB_CLIENT_PATH.length + 1));
    const requested = relative === undefined ? undefined : resolve(root, relative);
    // A path that climbs out of the build directory is treated like any unknown route.
    // biome-ignore lint/complexity/useOptionalChain: the explicit check is what narrows `requested` to a string below
    const inside = requested !== undefined && requested.startsWith(root + sep);
    const file = inside ? await fileStats(requested) : undefined;
    if (file && requested) return send(req, res, requested, file, relative!.startsWith('assets/') ? IMMUTABLE : REVALIDATE);
    // A missing asset is a 404; anything else is a client route.
    if (relative?.startsWith('assets/') || extname(relative ?? '') !== '') return notFound(res);
    const index = resolve(root, 'index.html');
    const indexFile = await fileStats(index);
    if (!indexFile) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(NOT_BUILT);
    }
    return send(req, res, index, indexFile, REVALIDATE);
  };
}

function send(req: IncomingMessage, res: ServerResponse, file: string, stats: Stats, cacheControl: string): void {
  const etag = `"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const headers = {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': cacheControl,
    'content-security-policy': WEB_CLIENT_CSP,
    etag,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    return void res.end();
  }
  res.writeHead(200, { ...headers, 'content-length': stats.size });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end('Not found.\n');
}

async function fileStats(path: string): Promise<Stats | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats : undefined;
  } catch {
    return undefined;
  }
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
