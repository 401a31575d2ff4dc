import type { IncomingMessage } from 'node:http';

/**
 * The client's address for rate limits and session records. Behind a trusted reverse proxy
 * it is the last X-Forwarded-For hop (the one the proxy itself added); a client can forge
 * every earlier hop, so those are never used.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const value = Array.isArray(forwarded) ? forwarded.at(-1) : forwarded;
    const last = value?.split(',').at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress;
}
