import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { initORM, type ORM, type QueryListener } from './db.js';
import type { Config } from './env.js';
import { createContext, requestInfo, type Context } from './graphql/context.js';
import { isAppError } from './graphql/errors.js';
import { schema } from './graphql/schema.js';
import { ACTIVATE_PAGE } from './http/activate-page.js';
import { createLogger, redactUrl, type Logger } from './logger.js';
import { createMailTransport } from './mail/mailer.js';
import { OutboxWorker } from './mail/outbox.js';
import { createAppPubSub } from './graphql/pubsub.js';
import { JwtCodec } from './modules/auth/jwt.js';
import { RevokedSessions } from './modules/auth/revoked-sessions.js';
import { SessionService } from './modules/auth/session.service.js';
import { flushExpiredTokens } from './modules/auth/token-flush.js';
import type { AppServices } from './services.js';
import { useSubscriptionEventContext } from './ws/subscription-events.plugin.js';
import { attachGraphQLWebSocketServer, type GraphQLWebSocketServer, type WebSocketServerContext } from './ws/ws-server.js';

export interface BuildAppOptions {
  /** A logger to use instead of one built from LOG_LEVEL (tests capture logs with it). */
  logger?: Logger;
  /** Sees the SQL of every statement (tests count them to catch N+1 queries). */
  onQuery?: QueryListener;
}

export interface App {
  readonly services: AppServices;
  /** Listens on `port` (0 picks a free one) and resolves with the bound address. */
  start(port?: number): Promise<AddressInfo>;
  stop(): Promise<void>;
}

/** HTTP requests bring req/res; operations over graphql-ws bring `websocket` (see ws/ws-server.ts). */
type ServerContext = { req: IncomingMessage; res: ServerResponse } & WebSocketServerContext;

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

/** Builds the whole server without listening; main.ts and tests call start/stop. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<App> {
  if (!config.DATABASE_URL) throw new Error('buildApp needs DATABASE_URL; main.ts starts the embedded database when it is unset');
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const orm: ORM = await initORM(config.DATABASE_URL, config.DATABASE_POOL_MAX, options.onQuery);
  const transport = createMailTransport({
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    mailDir: join(config.DATA_DIR, 'mail'),
    appUrl: config.APP_URL,
    logLinks: config.NODE_ENV !== 'production',
    logger,
  });
  const outbox = new OutboxWorker({
    em: orm.em.fork(),
    transport,
    logger,
    pollMs: config.MAIL_POLL_MS,
    retryBaseMs: config.MAIL_RETRY_BASE_MS,
  });
  const pubsubHandle = createAppPubSub(config.REDIS_URL, logger);
  const revokedSessions = new RevokedSessions({
    em: orm.em.fork(),
    pubsub: pubsubHandle.pubsub,
    logger,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL,
    syncIntervalSeconds: config.REVOCATION_SYNC_SECONDS,
  });
  const sessions = new SessionService(
    new JwtCodec({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
    revokedSessions,
    {
      accessTokenTtl: config.ACCESS_TOKEN_TTL,
      refreshTokenTtl: config.REFRESH_TOKEN_TTL,
      reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
      sessionMaxAge: config.SESSION_MAX_AGE,
    },
  );
  const services: AppServices = { config, orm, logger, outbox, pubsub: pubsubHandle.pubsub, sessions, revokedSessions };
  let flushTimer: NodeJS.Timeout | undefined;

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/yoga-health',
    landingPage: false,
    batching: false,
    logging: logger.child({ component: 'yoga' }),
    graphiql: config.GRAPHIQL ? { title: 'Forum API', subscriptionsProtocol: 'WS' } : false,
    renderGraphiQL,
    cors: config.CORS_ORIGINS.length > 0 ? { origin: config.CORS_ORIGINS, credentials: true } : undefined,
    maskedErrors: { isDev: false },
    plugins: [useUnexpectedErrorLogging(), useSubscriptionEventContext()],
    context: ({ request, req, websocket }) => {
      if (websocket) return createContext(services, websocket.info, websocket.accessToken);
      const authorization = request.headers.get('authorization');
      return createContext(
        services,
        requestInfo(request.headers, req.socket.remoteAddress),
        authorization ? sessions.bearerToken(authorization) : null,
      );
    },
  });

  const server: Server = createServer((req, res) => {
    const startedAt = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        { method: req.method, url: redactUrl(req.url), status: res.statusCode, ms: Number(process.hrtime.bigint() - startedAt) / 1e6 },
        'request',
      );
    });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return void health(orm, res);
    if (path === '/activate' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      return void res.end(ACTIVATE_PAGE);
    }
    void yoga.requestListener(req, res);
  });

  const webSockets: GraphQLWebSocketServer = attachGraphQLWebSocketServer({ server, yoga, services, logger });

  let started = false;
  return {
    services,
    async start(port = config.PORT) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, config.HOST, () => {
          server.off('error', reject);
          resolve();
        });
      });
      started = true;
      await revokedSessions.start();
      outbox.start();
      flushTimer = setInterval(() => {
        flushExpiredTokens(orm.em.fork(), config.ACCESS_TOKEN_TTL)
          .then((deleted) => logger.info({ deleted }, 'expired tokens flushed'))
          .catch((error: unknown) => logger.warn({ err: error }, 'could not flush expired tokens'));
      }, config.TOKEN_FLUSH_INTERVAL_SECONDS * 1000);
      flushTimer.unref();
      const address = server.address() as AddressInfo;
      logger.info({ port: address.port, host: address.address }, 'Forum API listening');
      return address;
    },
    async stop() {
      await webSockets.close();
      if (started) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2_000).unref();
        });
      }
      clearInterval(flushTimer);
      await revokedSessions.stop();
      await outbox.stop();
      transport.close();
      await pubsubHandle.close();
      await orm.close(true);
    },
  };
}

async function health(orm: ORM, res: ServerResponse): Promise<void> {
  const ok = await Promise.race([
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
