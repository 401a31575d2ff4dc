import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { isSameOrigin, type OriginPolicy } from '../http/cors.js';
import { redactUrl, type Logger } from '../logger.js';
import { coalesceWrites } from './coalesced-writes.js';

export const GRAPHQL_PATH = '/graphql';

/** Writes a plain HTTP refusal on a socket that asked to upgrade. */
function refuseUpgrade(socket: Duplex, status: 403 | 404, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroy();
}

/**
 * The HTTP server's 'upgrade' listener: only `/graphql`, only from allowed browser origins;
 * an accepted socket is handed to `wss` as a 'connection'.
 */
export function createUpgradeHandler(wss: WebSocketServer, origins: OriginPolicy, log: Logger) {
  // Socket errors are the client's protocol faults (oversized or malformed frames), after which
  // ws closes the socket itself (1009, 1002…). graphql-ws would print them to the console as
  // internal errors; they belong in the log, at a level that does not alarm. One listener for
  // every socket, made out here: a closure made per upgrade would keep that upgrade's request
  // (headers, URL and token) alive for the socket's whole life.
  const onProtocolError = (error: Error & { code?: string }) => log.info({ err: error.message, code: error.code }, 'websocket protocol error');
  return (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = redactUrl(request.url);
    const path = (request.url ?? '/').split('?')[0];
    if (path !== GRAPHQL_PATH) {
      log.info({ url, status: 404 }, 'websocket upgrade refused');
      return refuseUpgrade(socket, 404, 'Not Found');
    }
    // Browsers always send Origin; other clients (servers, CLIs) cannot be hijacked cross-site,
    // and neither can a page of this very server (the web client at /app).
    const origin = request.headers.origin;
    if (origin !== undefined && !isSameOrigin(origin, request.headers.host) && !origins.allows(origin)) {
      log.warn({ url, origin, status: 403 }, 'websocket upgrade refused: origin not allowed');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      log.info({ url, status: 101 }, 'websocket upgrade');
      coalesceWrites(ws, socket);
      wss.emit('connection', ws, request);
      ws.removeAllListeners('error');
      ws.on('error', onProtocolError);
    });
  };
}
