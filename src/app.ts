import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initORM, type ORM, type QueryListener } from './db/db.js';
import type { Config } from './env.js';
import { createGraphQLServer } from './graphql/yoga.js';
import { originPolicy } from './http/cors.js';
import { createRequestListener } from './http/router.js';
import { unsubscribeHandler } from './http/unsubscribe.js';
import { createLogger, type Logger } from './logger.js';
import { AppMetrics } from './metrics.js';
import { configureHashing } from './modules/auth/passwords.js';
import { flushExpiredTokens } from './modules/auth/token-flush.js';
import { createContainer, type Container } from './container.js';
import { attachGraphQLWebSocketServer, type GraphQLWebSocketServer } from './ws/ws-server.js';

export interface BuildAppOptions {
  /** A logger to use instead of one built from LOG_LEVEL (tests capture logs with it). */
  logger?: Logger;
  /** Sees the SQL of every statement (tests count them to catch N+1 queries). */
  onQuery?: QueryListener;
}

export interface App {
  readonly container: Container;
  /** The node:http server every transport is attached to (tests listen to its events). */
  readonly server: Server;
  /** Listens on `port` (0 picks a free one) and resolves with the bound address. */
  start(port?: number): Promise<AddressInfo>;
  stop(): Promise<void>;
}

/** Builds the whole server without listening; main.ts and tests call start/stop. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<App> {
  if (!config.DATABASE_URL) throw new Error('buildApp needs DATABASE_URL; main.ts starts the embedded database when it is unset');
  const logger = options.logger ?? createLogger(config.LOG_LEVEL);
  const orm: ORM = await initORM(config.DATABASE_URL, config.DATABASE_POOL_MAX, options.onQuery);
  configureHashing({ concurrency: config.HASH_CONCURRENCY, queueMax: config.HASH_QUEUE_MAX });
  const container = createContainer(config, orm, logger);
  const { outbox, revokedSessions, presenceTracker, notifications } = container;

  let webSockets: GraphQLWebSocketServer | undefined;
  const metrics = new AppMetrics({
    openSockets: () => webSockets?.openConnections ?? 0,
    outboxBacklog: () => outbox.pendingCount(),
    revokedSessionsCached: () => revokedSessions.size,
    unreadEmailsDue: () => notifications.scanner.dueCount(),
    extra: notifications.counters.all(),
  });
  const yoga = createGraphQLServer(container, metrics);
  const origins = originPolicy(config.CORS_ORIGINS, config.NODE_ENV === 'production');
  let ready = false;
  const server: Server = createServer(
    createRequestListener({
      yoga,
      orm,
      logger,
      metrics,
      maxBodyBytes: config.MAX_BODY_BYTES,
      origins,
      graphiql: config.GRAPHIQL,
      webClientDir: config.WEB_CLIENT_DIR,
      unsubscribe: unsubscribeHandler(notifications.unsubscribe, container.fork),
      metricsAccess: { production: config.NODE_ENV === 'production', token: config.METRICS_TOKEN },
      isReady: () => ready,
      trustProxy: config.TRUST_PROXY,
    }),
  );
  webSockets = attachGraphQLWebSocketServer({ server, yoga, container, logger, origins });

  let flushTimer: NodeJS.Timeout | undefined;
  let started = false;
  return {
    container,
    server,
    async start(port = config.PORT) {
      // Revoked sessions first: an instance that listened before knowing them would accept
      // their tokens for a moment (a restart must not reopen logged-out sessions).
      await revokedSessions.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, config.HOST, () => {
          server.off('error', reject);
          resolve();
        });
      });
      started = true;
      ready = true;
      outbox.start();
      presenceTracker.start();
      notifications.scanner.start();
      flushTimer = setInterval(() => {
        flushExpiredTokens(container.fork(), config.ACCESS_TOKEN_TTL)
          .then((deleted) => logger.info({ deleted }, 'expired tokens flushed'))
          .catch((error: unknown) => logger.warn({ err: error }, 'could not flush expired tokens'));
      }, config.TOKEN_FLUSH_INTERVAL_SECONDS * 1000);
      flushTimer.unref();
      const address = server.address() as AddressInfo;
      logger.info({ port: address.port, host: address.address }, 'Forum API listening');
      return address;
    },
    async stop() {
      // Stop accepting first, so nothing new arrives while sockets and requests wind down.
      const closed = started ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
      await webSockets?.close();
      if (started) {
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
        await closed;
      }
      clearInterval(flushTimer);
      // Requests are over; what some of them left running (mail, batched statements) ends before the database closes.
      await container.requestWork.settle();
      await presenceTracker.stop();
      await notifications.scanner.stop();
      await revokedSessions.stop();
      await outbox.stop();
      await container.close();
      await orm.close(true);
    },
  };
}
