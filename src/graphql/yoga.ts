import type { IncomingMessage, ServerResponse } from 'node:http';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { AppMetrics } from '../metrics.js';
import { armorPlugins, DEFAULT_QUERY_LIMITS } from '../security/armor.js';
import { useCsrfPrevention } from '../security/http-guards.js';
import type { Container } from '../container.js';
import { useSubscriptionEventContext } from './plugins/subscription-events.plugin.js';
import { attachContext, requestInfo, type Context, type ContextDeps, type RequestInfo, type WebSocketOperation } from './context.js';
import { isAppError } from '../shared/errors.js';
import { useErrorCodes } from './plugins/error-codes.plugin.js';
import { schema } from './schema.js';

/**
 * What the transports hand Yoga: HTTP requests bring req/res and the request info the router
 * computed (http/request-info.ts); operations over graphql-ws bring `websocket` (ws/yoga-operation.ts).
 */
export interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
  requestInfo?: RequestInfo;
  websocket?: WebSocketOperation;
}
export type GraphQLServer = YogaServerInstance<ServerContext, Context>;

/** Logs what the client will only see masked, with the request id that ties it to the request. */
const useUnexpectedErrorLogging = (): Plugin<Context> => ({
  onExecute: () => ({
    onExecuteDone: ({ args, result }) => {
      if (!('errors' in result) || !result.errors) return;
      for (const error of result.errors) {
        if (isAppError(error.originalError ?? error)) continue;
        if (!error.originalError) continue; // validation and parse errors are the client's
        args.contextValue.logger.error({ err: error.originalError, path: error.path }, 'unexpected error in resolver');
      }
    },
  }),
});

/** Makes every operation's context, over HTTP and WebSocket alike (see `attachContext`). */
const useOperationContext = (deps: ContextDeps): Plugin<Partial<ServerContext> & { request?: Request }> => {
  const { sessions } = deps.services;
  return {
    onContextBuilding: ({ context }) => {
      const { websocket } = context;
      if (websocket) {
        attachContext(context, deps, websocket.info, () => websocket.accessToken, websocket.connection);
        return;
      }
      const headers = context.request?.headers ?? new Headers();
      const authorization = headers.get('authorization');
      attachContext(context, deps, context.requestInfo ?? requestInfo(headers, undefined), () => (authorization ? sessions.bearerToken(authorization) : null));
    },
  };
};

/** Turns introspection off (production default) while GraphiQL and tooling can keep it in development. */
const useIntrospectionToggle = (enabled: boolean): Plugin => ({
  onValidate: ({ addValidationRule }) => {
    if (!enabled) addValidationRule(NoSchemaIntrospectionCustomRule);
  },
});

/**
 * Yoga with everything every operation goes through, over HTTP and (via getEnveloped) over
 * WebSocket alike: query limits, CSRF prevention, masking, metrics, the shared context factory.
 */
export function createGraphQLServer(container: Container, metrics: AppMetrics): GraphQLServer {
  const { config, logger, domain } = container;
  const { sessions } = domain;
  const contextDeps = { fork: container.fork, logger, services: domain };
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/yoga-health',
    landingPage: false,
    batching: false,
    // The router enforces MAX_BODY_BYTES on every body, declared or chunked (http/router.ts); Yoga's
    // own check would pipe each request body through a TransformStream again, whose stream
    // pipeline builds an AbortController and a DOMException per request (3.5 % of the CPU of a
    // refresh in `npm run bench -- --only W3 --cpu-prof`).
    maxRequestBodySize: false,
    logging: logger.child({ component: 'yoga' }),
    graphiql: false, // served by the router, compressed (http/pages.ts)
    cors: false, // answered by the router (http/cors.ts), with the same policy as WebSocket upgrades
    maskedErrors: { isDev: false },
    plugins: [
      useOperationContext(contextDeps),
      ...armorPlugins(DEFAULT_QUERY_LIMITS, { hideFieldSuggestions: config.NODE_ENV === 'production' }),
      useIntrospectionToggle(config.INTROSPECTION),
      useErrorCodes(),
      useCsrfPrevention(),
      useUnexpectedErrorLogging(),
      useSubscriptionEventContext(container.fork, {
        sessions,
        revokedSessions: container.revokedSessions,
        streams: container.sessionStreams,
        connectionCaps: container.connectionCaps,
      }),
      metrics.plugin(),
    ],
  });
}
