import type { IncomingMessage } from 'node:http';
import { requestIdFrom, requestInfo, type RequestInfo } from '../graphql/context.js';
import { clientAddress } from './client-address.js';

/** A header reader over Node's request, shaped like the Fetch API's `Headers.get`. */
export const headersOf = (req: Pick<IncomingMessage, 'headers'>) => ({
  get: (name: string) => {
    const value = req.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  },
});

/**
 * Who sent a request (id, address, user agent). The router computes it once and hands it to
 * Yoga in the server context, so the request log line and the operation's logs share the id.
 */
export function requestInfoOf(req: IncomingMessage, trustProxy: boolean, requestId = requestIdFrom(headersOf(req))): RequestInfo {
  return requestInfo(headersOf(req), clientAddress(req, trustProxy), requestId);
}
