import type { Config } from './env.js';
import type { ORM } from './db.js';
import type { AppPubSub } from './graphql/pubsub.js';
import type { Logger } from './logger.js';
import type { OutboxWorker } from './mail/outbox.js';
import type { RevokedSessions } from './modules/auth/revoked-sessions.js';
import type { SessionService } from './modules/auth/session.service.js';

/** Long-lived collaborators built once per app instance and shared by every operation. */
export interface AppServices {
  config: Config;
  orm: ORM;
  logger: Logger;
  outbox: OutboxWorker;
  pubsub: AppPubSub;
  sessions: SessionService;
  revokedSessions: RevokedSessions;
}
