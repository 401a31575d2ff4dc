import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from './events/presence-store.js';
import { SocketLifecycle } from './events/socket-lifecycle.js';
import type { Config } from './env.js';
import type { ORM } from './db/db.js';
import { createAppPubSub, type AppPubSub } from './events/pubsub.js';
import type { Logger } from './logger.js';
import { createMailTransport, type MailTransport } from './mail/mailer.js';
import { OutboxWorker } from './mail/outbox.js';
import { JwtCodec } from './modules/auth/jwt.js';
import { RevokedSessions } from './modules/auth/revoked-sessions.js';
import { SessionService } from './modules/auth/session.service.js';
import { NotificationCounters, UnreadEmailScanner } from './modules/notifications/unread-email-scanner.js';
import { UnsubscribeTokens } from './modules/notifications/unsubscribe-tokens.js';
import { PresenceTracker } from './modules/presence/presence-tracker.js';
import { TypingService } from './modules/chat/typing.service.js';
import { MemoryTypingStore, RedisTypingStore, type TypingStore } from './events/typing-store.js';
import { MemoryCounterStore, RedisCounterStore } from './security/rate-limiter.js';
import { RateLimits } from './security/rate-limits.js';
import { ConnectionCaps } from './security/connection-caps.js';
import { REFUSED_CLOSE_CODE, SessionSockets, type ClosableSocket } from './events/session-sockets.js';

/** Long-lived collaborators built once per app instance and shared by every operation. */
export interface AppServices {
  config: Config;
  orm: ORM;
  logger: Logger;
  outbox: OutboxWorker;
  pubsub: AppPubSub;
  sessions: SessionService;
  revokedSessions: RevokedSessions;
  /** Subscriptions over SSE by session: they end on revocation and at their token's expiry, like sockets. */
  sessionStreams: SessionSockets;
  rateLimits: RateLimits;
  /** Authenticated sockets of this instance; the WebSocket server reports to it. */
  socketLifecycle: SocketLifecycle;
  presence: PresenceTracker;
  notifications: { scanner: UnreadEmailScanner; tokens: UnsubscribeTokens; counters: NotificationCounters };
  typing: TypingService;
  /** Sockets and SSE streams per user and per address. */
  connectionCaps: ConnectionCaps;
}

export interface ServiceHandles {
  services: AppServices;
  /** Releases what the services hold open (SMTP pool, Redis connections). */
  close(): Promise<void>;
}

export function createServices(config: Config, orm: ORM, logger: Logger): ServiceHandles {
  const transport: MailTransport = createMailTransport({
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    mailDir: join(config.DATA_DIR, 'mail'),
    appUrl: config.APP_URL,
    logLinks: config.NODE_ENV !== 'production',
    logger,
  });
  const notificationCounters = new NotificationCounters();
  const outbox = new OutboxWorker({
    em: orm.em.fork(),
    transport,
    logger,
    pollMs: config.MAIL_POLL_MS,
    retryBaseMs: config.MAIL_RETRY_BASE_MS,
    onSent: (kind) => notificationCounters.emailsSent.inc({ kind }),
  });
  const pubsub = createAppPubSub(config.REDIS_URL, logger);
  const revokedSessions = new RevokedSessions({
    em: orm.em.fork(),
    pubsub: pubsub.pubsub,
    logger,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL,
    syncIntervalSeconds: config.REVOCATION_SYNC_SECONDS,
  });
  const sessions = new SessionService(new JwtCodec({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }), revokedSessions, {
    accessTokenTtl: config.ACCESS_TOKEN_TTL,
    refreshTokenTtl: config.REFRESH_TOKEN_TTL,
    reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
    sessionMaxAge: config.SESSION_MAX_AGE,
  });
  const sessionStreams = new SessionSockets<ClosableSocket>(REFUSED_CLOSE_CODE);
  // The listener that closes sockets on revocation (ws/ws-server.ts) has this twin for SSE streams.
  revokedSessions.onRevoked(({ sessionIds }) => sessionStreams.closeSessions(sessionIds, 'token revoked'));
  // Commands fail fast while Redis is away (no offline queue), so the limiter falls back to memory at once.
  const limiterRedis = config.REDIS_URL ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  limiterRedis?.on('error', () => {});
  const rateLimits = new RateLimits(limiterRedis ? new RedisCounterStore(limiterRedis, logger) : new MemoryCounterStore(), {
    loginFailuresPerEmail: { limit: config.RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL, windowSeconds: config.RATE_LIMIT_LOGIN_WINDOW_SECONDS },
    loginPerIp: { limit: config.RATE_LIMIT_LOGIN_PER_IP, windowSeconds: config.RATE_LIMIT_LOGIN_WINDOW_SECONDS },
    registerPerIp: { limit: config.RATE_LIMIT_REGISTER_PER_IP, windowSeconds: config.RATE_LIMIT_REGISTER_WINDOW_SECONDS },
    refreshPerIp: { limit: config.RATE_LIMIT_REFRESH_PER_IP, windowSeconds: config.RATE_LIMIT_REFRESH_WINDOW_SECONDS },
    typingPerUser: { limit: config.RATE_LIMIT_TYPING_PER_SECOND, windowSeconds: 1 },
    resetPasswordPerIp: { limit: config.RATE_LIMIT_RESET_PASSWORD_PER_IP, windowSeconds: config.RATE_LIMIT_RESET_PASSWORD_WINDOW_SECONDS },
    emailRequestsPerIp: { limit: config.RATE_LIMIT_EMAIL_REQUESTS_PER_IP, windowSeconds: config.RATE_LIMIT_EMAIL_REQUESTS_WINDOW_SECONDS },
  });
  const socketLifecycle = new SocketLifecycle((error) => logger.error({ err: error }, 'a socket lifecycle listener failed'));
  // The store asks the tracker for this instance's users; the tracker is built right after it.
  let presence: PresenceTracker | undefined;
  const presenceStore: PresenceStore = config.REDIS_URL
    ? new RedisPresenceStore({
        redisUrl: config.REDIS_URL,
        keyPrefix: `${config.REDIS_KEY_PREFIX}presence:`,
        ttlSeconds: config.PRESENCE_TTL_SECONDS,
        localUsers: () => presence?.localUsers() ?? [],
        logger,
      })
    : new MemoryPresenceStore();
  presence = new PresenceTracker({
    store: presenceStore,
    lifecycle: socketLifecycle,
    pubsub: pubsub.pubsub,
    em: orm.em.fork(),
    graceSeconds: config.PRESENCE_GRACE_SECONDS,
    logger,
  });
  const unsubscribeTokens = new UnsubscribeTokens(config.JWT_SECRET);
  const tracker = presence;
  const scanner = new UnreadEmailScanner({
    em: orm.em.fork(),
    delaySeconds: config.UNREAD_EMAIL_DELAY_SECONDS,
    intervalMs: config.UNREAD_EMAIL_SCAN_SECONDS * 1000,
    batchSize: config.UNREAD_EMAIL_BATCH,
    appUrl: config.APP_URL,
    tokens: unsubscribeTokens,
    online: (userIds) => tracker.online(userIds),
    queued: () => outbox.nudge(),
    counters: notificationCounters,
    logger,
  });
  // Typing lives in Redis when instances share the chat; its own connection, which waits through
  // a reconnect briefly instead of failing at once like the limiter's.
  const typingRedis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  typingRedis?.on('error', () => {});
  const typingTimeoutMs = config.TYPING_TIMEOUT_SECONDS * 1000;
  const onTypingExpired = (conversationId: string, userId: string) => typing.expired(conversationId, userId);
  const typingStore: TypingStore = typingRedis
    ? new RedisTypingStore(typingRedis, typingTimeoutMs, onTypingExpired, (error) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'typing state check failed'),
      )
    : new MemoryTypingStore(typingTimeoutMs, onTypingExpired);
  const typing: TypingService = new TypingService(typingStore, pubsub.pubsub, rateLimits, logger, socketLifecycle);
  return {
    services: {
      config,
      orm,
      logger,
      outbox,
      pubsub: pubsub.pubsub,
      sessions,
      revokedSessions,
      sessionStreams,
      rateLimits,
      connectionCaps: new ConnectionCaps({ perUser: config.MAX_CONNECTIONS_PER_USER, perIp: config.MAX_CONNECTIONS_PER_IP }),
      socketLifecycle,
      presence,
      notifications: { scanner, tokens: unsubscribeTokens, counters: notificationCounters },
      typing,
    },
    async close() {
      transport.close();
      typing.close();
      typingRedis?.disconnect();
      limiterRedis?.disconnect();
      await pubsub.close();
    },
  };
}
