import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { type GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { SubscribePayload, Context as WsContext } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { requestInfo, type Context, type RequestInfo, type WebSocketOperation } from '../graphql/context.js';
import { clientAddress } from '../http/client-address.js';
import type { OriginPolicy } from '../http/cors.js';
import { AppError } from '../shared/errors.js';
import { redactUrl, type Logger } from '../logger.js';
import { REFUSED_CLOSE_CODE, authenticateConnection, refusalReason } from './connection-auth.js';
import type { AppServices } from '../services.js';
import { renewalControl } from './connection-renewal.js';
import { SessionSockets } from '../events/session-sockets.js';

export const GRAPHQL_PATH = '/graphql';
/** Larger frames are refused by `ws` (close 1009); a 4000-character message fits many times. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Operations one connection may run at once; a chat UI needs a few (inbox + open conversations). */
export const MAX_OPERATIONS_PER_CONNECTION = 50;
export const CONNECTION_INIT_WAIT_MS = 3_000;
/** WebSocket "policy violation": a user or an address already holds MAX_CONNECTIONS_PER_USER/_IP. */
const TOO_MANY_CONNECTIONS_CLOSE_CODE = 1008;
/** graphql-ws's code for a server-side failure; the client may retry. */
const INTERNAL_ERROR_CLOSE_CODE = 4500;


interface Connection {
  id: string;
  accessToken: string;
  sessionId: string;
  userId: string;
}

type ConnectionExtra = {
  connection: Connection;
  /** The set-up of the operation that arrived last (see inArrivalOrder). */
  setupQueue?: Promise<void>;
};

/**
 * Sets up one socket's operations one at a time, in the order they arrived. A subscription is
 * listening by the end of its set-up, so a query sent after it on the same socket sees every
 * message the subscription will not: the catch-up after a reconnect has no gap (API.md Chat).
 */
function inArrivalOrder<C extends { extra: Partial<ConnectionExtra> }, A extends unknown[], R>(setUp: (ctx: C, ...args: A) => Promise<R>) {
  return (ctx: C, ...args: A): Promise<R> => {
    const result = (ctx.extra.setupQueue ?? Promise.resolve()).then(() => setUp(ctx, ...args));
    ctx.extra.setupQueue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
}

type YogaExecute = (args: ExecutionArgs) => unknown;

/** The part of a Yoga instance this server uses: its envelop pipeline per operation. */
export interface EnvelopedYoga {
  getEnveloped(initialContext: Record<string, unknown>): {
    parse: (source: string) => ExecutionArgs['document'];
    validate: (schema: GraphQLSchema, document: ExecutionArgs['document']) => readonly GraphQLError[];
    contextFactory: () => unknown;
    execute: YogaExecute;
    subscribe: YogaExecute;
    schema: GraphQLSchema;
  };
}

/** How each operation's execute/subscribe reach graphql-ws: through rootValue, as Yoga's docs do. */
interface YogaRoot {
  execute: YogaExecute;
  subscribe: YogaExecute;
}

const isYogaRoot = (value: unknown): value is YogaRoot =>
  typeof value === 'object' && value !== null && 'execute' in value && 'subscribe' in value;

const runThroughYoga = (kind: keyof YogaRoot) => (args: ExecutionArgs) => {
  if (!isYogaRoot(args.rootValue)) throw new Error('WebSocket operation without the Yoga root');
  return args.rootValue[kind](args) as Promise<ExecutionResult | AsyncIterable<ExecutionResult>>;
};

/** By name, as envelop does: a GraphQLError from another copy of graphql is still one. */
const isGraphQLErrorLike = (error: unknown): error is GraphQLError => error instanceof Error && error.name === 'GraphQLError';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

export interface GraphQLWebSocketServerOptions {
  server: Server;
  yoga: EnvelopedYoga;
  services: AppServices;
  logger: Logger;
  /** The browser origins allowed to open a socket, as for CORS. */
  origins: OriginPolicy;
}

export interface GraphQLWebSocketServer {
  /** Sockets currently registered under a session (authenticated and open). */
  readonly openConnections: number;
  close(): Promise<void>;
}

/** Writes a plain HTTP refusal on a socket that asked to upgrade. */
function refuseUpgrade(socket: Duplex, status: 403 | 404, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroy();
}

const headerGetter = (request: IncomingMessage) => ({
  get: (name: string) => {
    const value = request.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) ?? null;
  },
});

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's `/graphql`. Every connection is
 * authenticated in `onConnect` before it is acknowledged; every operation then runs through
 * Yoga's envelop pipeline (masking, auth scopes, limits), with its own context and
 * EntityManager fork. Sockets close with 4403 when their token expires or their session is
 * revoked on any instance.
 */
export function attachGraphQLWebSocketServer({ server, yoga, services, logger, origins }: GraphQLWebSocketServerOptions): GraphQLWebSocketServer {
  const log = logger.child({ component: 'ws' });
  const { config, sessions, revokedSessions } = services;
  const sockets = new SessionSockets<WebSocket>(REFUSED_CLOSE_CODE);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES, perMessageDeflate: false });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = redactUrl(request.url);
    const path = (request.url ?? '/').split('?')[0];
    if (path !== GRAPHQL_PATH) {
      log.info({ url, status: 404 }, 'websocket upgrade refused');
      return refuseUpgrade(socket, 404, 'Not Found');
    }
    // Browsers always send Origin; other clients (servers, CLIs) cannot be hijacked cross-site.
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.allows(origin)) {
      log.warn({ url, origin, status: 403 }, 'websocket upgrade refused: origin not allowed');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      log.info({ url, status: 101 }, 'websocket upgrade');
      wss.emit('connection', ws, request);
      // Socket errors are the client's protocol faults (oversized or malformed frames), after
      // which ws closes the socket itself (1009, 1002…). graphql-ws would print them to the
      // console as internal errors; they belong in the log, at a level that does not alarm.
      ws.removeAllListeners('error');
      ws.on('error', (error: Error & { code?: string }) => log.info({ err: error.message, code: error.code }, 'websocket protocol error'));
    });
  };
  server.on('upgrade', onUpgrade);

  const stopListening = revokedSessions.onRevoked(({ sessionIds }) => {
    const closed = sockets.closeSessions(sessionIds, 'token revoked');
    if (closed > 0) log.info({ sessions: sessionIds.length, sockets: closed }, 'closed the sockets of revoked sessions');
  });

  const refuse = (socket: WebSocket, reason: string): false => {
    socket.close(REFUSED_CLOSE_CODE, reason);
    return false;
  };

  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      isProd: config.NODE_ENV === 'production',
      connectionInitWaitTimeout: CONNECTION_INIT_WAIT_MS,
      execute: runThroughYoga('execute'),
      subscribe: runThroughYoga('subscribe'),

      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        try {
          const auth = await authenticateConnection(services.orm.em.fork(), sessions, request, ctx.connectionParams);
          // The client may have gone, or the session been revoked, while the user was loading.
          if (socket.readyState !== socket.OPEN) return false;
          if (revokedSessions.has(auth.sessionId)) return refuse(socket, 'token revoked');
          const release = services.connectionCaps.acquire(auth.user.id, clientAddress(request, config.TRUST_PROXY) ?? 'unknown');
          if (!release) {
            socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'too many connections');
            return false;
          }
          socket.once('close', release);
          ctx.extra.connection = { id: randomUUID(), accessToken: auth.accessToken, sessionId: auth.sessionId, userId: auth.user.id };
          sockets.add(socket, auth.sessionId, new Date(auth.claims.exp * 1000));
          services.socketLifecycle.opened({ userId: auth.user.id, sessionId: auth.sessionId, connectionId: ctx.extra.connection.id });
          log.info({ connectionId: ctx.extra.connection.id, userId: auth.user.id, sessionId: auth.sessionId }, 'websocket connection accepted');
          return true;
        } catch (error) {
          const reason = refusalReason(error);
          if (!reason) {
            // Not the client's fault (the database is unreachable, say): log it here, where the
            // request id and redaction apply, rather than let graphql-ws print it to the console.
            log.error({ err: error }, 'websocket connection could not be checked');
            socket.close(INTERNAL_ERROR_CLOSE_CODE, 'internal error');
            return false;
          }
          log.info({ reason }, 'websocket connection refused');
          return refuse(socket, reason);
        }
      },

      onClose: (ctx) => {
        sockets.remove(ctx.extra.socket);
        const { connection } = ctx.extra;
        if (connection) services.socketLifecycle.closed({ userId: connection.userId, sessionId: connection.sessionId, connectionId: connection.id });
      },

      onSubscribe: inArrivalOrder(async (ctx: WsContext<Record<string, unknown>, Extra & Partial<ConnectionExtra>>, id: string, payload: SubscribePayload) => {
        const { socket, request, connection } = ctx.extra;
        if (!connection) return [new AppError('UNAUTHENTICATED')];
        // graphql-ws has already reserved this operation's id in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_CONNECTION) {
          return [
            new AppError('RATE_LIMITED', `At most ${MAX_OPERATIONS_PER_CONNECTION} operations may run at once on one connection; complete one first.`, {
              retryAfter: 1,
            }),
          ];
        }
        const info: RequestInfo = { ...requestInfo(headerGetter(request), clientAddress(request, config.TRUST_PROXY)), requestId: `${connection.id}:${id}` };
        const enveloped = yoga.getEnveloped({
          ...ctx,
          req: request,
          socket,
          params: payload,
          websocket: {
            accessToken: connection.accessToken,
            info,
            connection: renewalControl({ services, sockets, socket, connection, logger: log }),
          } satisfies WebSocketOperation,
        });
        // Query limits (graphql-armor) throw from parse and validate; over HTTP Yoga turns that
        // into an error response, here it must become this operation's `error` message.
        let document: ExecutionArgs['document'];
        try {
          document = enveloped.parse(payload.query);
          const validationErrors = enveloped.validate(enveloped.schema, document);
          if (validationErrors.length > 0) return validationErrors;
        } catch (error) {
          if (isGraphQLErrorLike(error)) return [error];
          throw error;
        }

        // Checks no token: a field that needs the viewer resolves it, and an expired or revoked
        // one fails that field while the socket's own timer or revocation closes the socket.
        const contextValue = (await enveloped.contextFactory()) as Context;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe } satisfies YogaRoot,
        };
        if (getOperationAST(document, payload.operationName)?.operation !== 'subscription') return args;

        // Subscribe here rather than in graphql-ws: a refused subscription (FORBIDDEN, say) must
        // reach the client as an `error` message for its id, not as a `next` then `complete`.
        const result = await enveloped.subscribe(args);
        if (!isAsyncIterable(result)) {
          const errors = (result as ExecutionResult).errors;
          if (errors && errors.length > 0) return errors;
        }
        return { ...args, rootValue: { execute: enveloped.execute, subscribe: () => result } satisfies YogaRoot };
      }),
    },
    wss,
  );

  return {
    get openConnections() {
      return sockets.size;
    },
    async close() {
      server.off('upgrade', onUpgrade);
      stopListening();
      const clients = [...wss.clients];
      const allClosed = Promise.all(clients.map((client) => new Promise<void>((resolve) => (client.readyState === client.CLOSED ? resolve() : client.once('close', () => resolve())))));
      const disposed = disposable.dispose(); // closes every client with 1001 "Going away"
      // A client that does not answer the close handshake must not hold up the shutdown.
      const deadline = setTimeout(() => clients.forEach((client) => client.terminate()), 1_000);
      await Promise.all([allClosed, disposed]);
      clearTimeout(deadline);
    },
  };
}
