import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type { ORM } from './db/db.js';
import type { Config } from './env.js';
import { MemoryPresenceStore, RedisPresenceStore, type PresenceStore } from './events/presence-store.js';
import { createAppPubSub, type AppPubSub } from './events/pubsub.js';
import { REFUSED_CLOSE_CODE, SessionSockets } from './events/session-sockets.js';
import { SocketLifecycle } from './events/socket-lifecycle.js';
import { MemoryTypingStore, RedisTypingStore, type TypingStore } from './events/typing-store.js';
import type { Logger } from './logger.js';
import { createMailTransport, type MailTransport } from './mail/mailer.js';
import { OutboxWorker } from './mail/outbox.js';
import { JwtCodec } from './modules/auth/jwt.js';
import { PendingWork } from './shared/pending-work.js';
import { OffRequestMail } from './modules/auth/mail-off-request.js';
import { PasswordService } from './modules/auth/password.service.js';
import { RegistrationService } from './modules/auth/registration.service.js';
import { RevokedSessions } from './modules/auth/revoked-sessions.js';
import { SessionService } from './modules/auth/session.service.js';
import { ChatService } from './modules/chat/chat.service.js';
import { TypingService } from './modules/chat/typing.service.js';
import { ProfileService } from './modules/company/profile.service.js';
import { NotificationCounters, UnreadEmailScanner } from './modules/notifications/unread-email-scanner.js';
import { UnsubscribeService } from './modules/notifications/unsubscribe.service.js';
import { UnsubscribeTokens } from './modules/notifications/unsubscribe-tokens.js';
import { PresenceTracker } from './modules/presence/presence-tracker.js';
import { PresenceService } from './modules/presence/presence.service.js';
import { SettingsService } from './modules/user/settings.service.js';
import { ConnectionCaps } from './security/connection-caps.js';
import { MemoryCounterStore, RedisCounterStore } from './security/rate-limiter.js';
import { RateLimits } from './security/rate-limits.js';

/** The domain services an operation's context offers its resolvers; nothing else of the container reaches them. */
export interface DomainServices {
  sessions: SessionService;
  registration: RegistrationService;
  passwords: PasswordService;
  settings: SettingsService;
  presence: PresenceService;
  typing: TypingService;
  chat: ChatService;
  profiles: ProfileService;
}

/** Every long-lived service of one app instance, built once with its settings and ports. */
export interface Container {
  config: Config;
  orm: ORM;
  logger: Logger;
  pubsub: AppPubSub;
  outbox: OutboxWorker;
  revokedSessions: RevokedSessions;
  /** Authenticated WebSocket connections by session; they end on revocation and at their token's expiry. */
  sessionSockets: SessionSockets;
  /** Subscriptions over SSE by session: they end on revocation and at their token's expiry, like sockets. */
  sessionStreams: SessionSockets;
  /** Sockets and SSE streams per user and per address. */
  connectionCaps: ConnectionCaps;
  /** Authenticated sockets of this instance; the WebSocket server reports to it. */
  socketLifecycle: SocketLifecycle;
  presenceTracker: PresenceTracker;
  notifications: { scanner: UnreadEmailScanner; counters: NotificationCounters; unsubscribe: UnsubscribeService };
  domain: DomainServices;
  /** Work that answered requests leave running (off-request mail, batched statements); a stop waits for it. */
  requestWork: PendingWork;
  /** A fresh EntityManager for work outside an operation (transports, timers). */
  fork(): EntityManager;
  /** Releases what the services hold open (SMTP pool, Redis connections, listeners). */
  close(): Promise<void>;
}

/** Rate limits count in Redis when instances share it, else in memory. */
function buildRateLimits(config: Config, logger: Logger) {
  // Commands fail fast while Redis is away (no offline queue), so the limiter falls back to memory at once.
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  const window = (limit: number, windowSeconds: number) => ({ limit, windowSeconds });
  const rateLimits = new RateLimits(redis ? new RedisCounterStore(redis, logger) : new MemoryCounterStore(), {
    loginFailuresPerEmail: window(config.RATE_LIMIT_LOGIN_FAILURES_PER_EMAIL, config.RATE_LIMIT_LOGIN_WINDOW_SECONDS),
    loginPerIp: window(config.RATE_LIMIT_LOGIN_PER_IP, config.RATE_LIMIT_LOGIN_WINDOW_SECONDS),
    registerPerIp: window(config.RATE_LIMIT_REGISTER_PER_IP, config.RATE_LIMIT_REGISTER_WINDOW_SECONDS),
    refreshPerIp: window(config.RATE_LIMIT_REFRESH_PER_IP, config.RATE_LIMIT_REFRESH_WINDOW_SECONDS),
    typingPerUser: window(config.RATE_LIMIT_TYPING_PER_SECOND, 1),
    resetPasswordPerIp: window(config.RATE_LIMIT_RESET_PASSWORD_PER_IP, config.RATE_LIMIT_RESET_PASSWORD_WINDOW_SECONDS),
    emailRequestsPerIp: window(config.RATE_LIMIT_EMAIL_REQUESTS_PER_IP, config.RATE_LIMIT_EMAIL_REQUESTS_WINDOW_SECONDS),
  });
  return { rateLimits, close: () => redis?.disconnect() };
}

/** Presence lives in Redis when instances share it; the store asks the tracker for this instance's users. */
function buildPresence(config: Config, logger: Logger, deps: { lifecycle: SocketLifecycle; pubsub: AppPubSub; em: EntityManager }): PresenceTracker {
  let tracker: PresenceTracker | undefined;
  const store: PresenceStore = config.REDIS_URL
    ? new RedisPresenceStore({
        redisUrl: config.REDIS_URL,
        keyPrefix: `${config.REDIS_KEY_PREFIX}presence:`,
        ttlSeconds: config.PRESENCE_TTL_SECONDS,
        localUsers: () => tracker?.localUsers() ?? [],
        logger,
      })
    : new MemoryPresenceStore();
  tracker = new PresenceTracker({ store, ...deps, graceSeconds: config.PRESENCE_GRACE_SECONDS, logger });
  return tracker;
}

/**
 * Typing lives in Redis when instances share the chat; its own connection, which waits through
 * a reconnect briefly instead of failing at once like the limiter's.
 */
function buildTyping(config: Config, logger: Logger, deps: { pubsub: AppPubSub; rateLimits: RateLimits; lifecycle: SocketLifecycle }) {
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  redis?.on('error', () => {});
  const timeoutMs = config.TYPING_TIMEOUT_SECONDS * 1000;
  const onExpired = (conversationId: string, userId: string) => typing.expired(conversationId, userId);
  const store: TypingStore = redis
    ? new RedisTypingStore(redis, timeoutMs, onExpired, (error) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'typing state check failed'),
      )
    : new MemoryTypingStore(timeoutMs, onExpired);
  const typing: TypingService = new TypingService({ store, pubsub: deps.pubsub, rateLimits: deps.rateLimits, logger, sockets: deps.lifecycle });
  return {
    typing,
    close: () => {
      typing.close();
      redis?.disconnect();
    },
  };
}

export function createContainer(config: Config, orm: ORM, logger: Logger): Container {
  const fork = () => orm.em.fork() as EntityManager;
  const transport: MailTransport = createMailTransport({
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    mailDir: join(config.DATA_DIR, 'mail'),
    appUrl: config.APP_URL,
    logLinks: config.NODE_ENV !== 'production',
    logger,
  });
  const counters = new NotificationCounters();
  const outbox = new OutboxWorker({
    em: fork(),
    transport,
    logger,
    pollMs: config.MAIL_POLL_MS,
    retryBaseMs: config.MAIL_RETRY_BASE_MS,
    onSent: (kind) => counters.emailsSent.inc({ kind }),
  });
  const appPubSub = createAppPubSub(config.REDIS_URL, logger);
  const pubsub = appPubSub.pubsub;
  const revokedSessions = new RevokedSessions({
    em: fork(),
    pubsub,
    logger,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL,
    syncIntervalSeconds: config.REVOCATION_SYNC_SECONDS,
  });
  const limits = buildRateLimits(config, logger);
  const { rateLimits } = limits;

  // One listener ends everything bound to a session revoked on any instance: sockets and SSE streams.
  const sessionSockets = new SessionSockets(REFUSED_CLOSE_CODE);
  const sessionStreams = new SessionSockets(REFUSED_CLOSE_CODE);
  const stopClosingRevoked = revokedSessions.onRevoked(({ sessionIds }) => {
    sessionStreams.closeSessions(sessionIds, 'token revoked');
    const closed = sessionSockets.closeSessions(sessionIds, 'token revoked');
    if (closed > 0) logger.info({ component: 'ws', sessions: sessionIds.length, sockets: closed }, 'closed the sockets of revoked sessions');
  });

  const socketLifecycle = new SocketLifecycle((error) => logger.error({ err: error }, 'a socket lifecycle listener failed'));
  const presenceTracker = buildPresence(config, logger, { lifecycle: socketLifecycle, pubsub, em: fork() });
  const unsubscribeTokens = new UnsubscribeTokens(config.JWT_SECRET);
  const scanner = new UnreadEmailScanner({
    em: fork(),
    delaySeconds: config.UNREAD_EMAIL_DELAY_SECONDS,
    intervalMs: config.UNREAD_EMAIL_SCAN_SECONDS * 1000,
    batchSize: config.UNREAD_EMAIL_BATCH,
    appUrl: config.APP_URL,
    tokens: unsubscribeTokens,
    online: (userIds) => presenceTracker.online(userIds),
    queued: () => outbox.nudge(),
    counters,
    logger,
  });
  const typing = buildTyping(config, logger, { pubsub, rateLimits, lifecycle: socketLifecycle });

  const requestWork = new PendingWork();
  const sessions = new SessionService({
    jwt: new JwtCodec({ secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
    revoked: revokedSessions,
    rateLimits,
    settings: {
      accessTokenTtl: config.ACCESS_TOKEN_TTL,
      refreshTokenTtl: config.REFRESH_TOKEN_TTL,
      reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
      durableRotation: config.REFRESH_DURABLE_COMMIT,
      sessionMaxAge: config.SESSION_MAX_AGE,
    },
    work: requestWork,
  });
  const offRequestMail = new OffRequestMail({ rateLimits, outbox, logger, work: requestWork });
  const settings = new SettingsService();

  return {
    config,
    orm,
    logger,
    pubsub,
    outbox,
    revokedSessions,
    sessionSockets,
    sessionStreams,
    connectionCaps: new ConnectionCaps({ perUser: config.MAX_CONNECTIONS_PER_USER, perIp: config.MAX_CONNECTIONS_PER_IP }),
    socketLifecycle,
    presenceTracker,
    requestWork,
    notifications: { scanner, counters, unsubscribe: new UnsubscribeService({ tokens: unsubscribeTokens, settings, counters }) },
    domain: {
      sessions,
      registration: new RegistrationService({
        rateLimits,
        outbox,
        offRequestMail,
        settings: { appUrl: config.APP_URL, activationTtlSeconds: config.ACTIVATION_TOKEN_TTL, emailCooldownSeconds: config.EMAIL_COOLDOWN_SECONDS },
      }),
      passwords: new PasswordService({
        sessions,
        rateLimits,
        offRequestMail,
        settings: { appUrl: config.APP_URL, resetTtlSeconds: config.PASSWORD_RESET_TOKEN_TTL, emailCooldownSeconds: config.EMAIL_COOLDOWN_SECONDS },
      }),
      settings,
      presence: new PresenceService({ tracker: presenceTracker, pubsub }),
      typing: typing.typing,
      chat: new ChatService({ pubsub, typing: typing.typing, work: requestWork }),
      profiles: new ProfileService(),
    },
    fork,
    async close() {
      stopClosingRevoked();
      transport.close();
      typing.close();
      limits.close();
      await appPubSub.close();
    },
  };
}
