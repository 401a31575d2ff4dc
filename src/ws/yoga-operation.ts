import { type GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { SubscribePayload, Context as WsContext } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { Context, RequestInfo, WebSocketOperation } from '../graphql/context.js';
import type { Logger } from '../logger.js';
import { AppError } from '../shared/errors.js';
import type { ConnectionExtra, WebSocketServices } from './connection-auth.js';
import { renewalControl } from './connection-renewal.js';

/** Operations one connection may run at once; a chat UI needs a few (inbox + open conversations). */
export const MAX_OPERATIONS_PER_CONNECTION = 50;

/**
 * Sets up one socket's operations one at a time, in the order they arrived. A subscription is
 * listening by the end of its set-up, so a query sent after it on the same socket sees every
 * message the subscription will not: the catch-up after a reconnect has no gap (API.md Chat).
 */
export function inArrivalOrder<C extends { extra: Partial<ConnectionExtra> }, A extends unknown[], R>(setUp: (ctx: C, ...args: A) => Promise<R>) {
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

const isYogaRoot = (value: unknown): value is YogaRoot => typeof value === 'object' && value !== null && 'execute' in value && 'subscribe' in value;

export const runThroughYoga = (kind: keyof YogaRoot) => (args: ExecutionArgs) => {
  if (!isYogaRoot(args.rootValue)) throw new Error('WebSocket operation without the Yoga root');
  return args.rootValue[kind](args) as Promise<ExecutionResult | AsyncIterable<ExecutionResult>>;
};

/** By name, as envelop does: a GraphQLError from another copy of graphql is still one. */
const isGraphQLErrorLike = (error: unknown): error is GraphQLError => error instanceof Error && error.name === 'GraphQLError';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> => typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

export interface OperationSetup {
  yoga: EnvelopedYoga;
  services: WebSocketServices;
  log: Logger;
}

type OperationContext = WsContext<Record<string, unknown>, Extra & Partial<ConnectionExtra>>;

/**
 * graphql-ws's onSubscribe: runs each operation through Yoga's envelop pipeline (masking, auth
 * scopes, limits) with its own context, and subscribes early so a refusal is an `error` message.
 */
export function setUpOperation({ yoga, services, log }: OperationSetup) {
  return inArrivalOrder(async (ctx: OperationContext, id: string, payload: SubscribePayload) => {
    const { socket, connection } = ctx.extra;
    if (!connection) return [new AppError('UNAUTHENTICATED')];
    // graphql-ws has already reserved this operation's id in ctx.subscriptions.
    if (Object.keys(ctx.subscriptions).length > MAX_OPERATIONS_PER_CONNECTION) {
      return [
        new AppError('RATE_LIMITED', `At most ${MAX_OPERATIONS_PER_CONNECTION} operations may run at once on one connection; complete one first.`, {
          retryAfter: 1,
        }),
      ];
    }
    const info: RequestInfo = { requestId: `${connection.id}:${id}`, ...connection.client };
    // Only what this server's context factory reads: the operation's context lives as long as
    // the operation, a subscription's for the socket's life (README Performance, W6).
    const enveloped = yoga.getEnveloped({
      params: payload,
      websocket: {
        accessToken: connection.accessToken,
        info,
        connection: renewalControl({ services, sockets: services.sessionSockets, socket, connection, logger: log }),
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
  });
}
