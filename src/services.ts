import type { Config } from './env.js';
import type { ORM } from './db.js';
import type { Logger } from './logger.js';
import type { OutboxWorker } from './mail/outbox.js';

/** Long-lived collaborators built once per app instance and shared by every operation. */
export interface AppServices {
  config: Config;
  orm: ORM;
  logger: Logger;
  outbox: OutboxWorker;
}
