import type { EntityManager } from '@mikro-orm/postgresql';
import type { SettingsService } from '../user/settings.service.js';
import { userExists } from './notifications.repository.js';
import type { NotificationCounters } from './unread-email-scanner.js';
import type { UnsubscribeTokens } from './unsubscribe-tokens.js';

export interface UnsubscribeServiceDeps {
  tokens: Pick<UnsubscribeTokens, 'verify'>;
  settings: Pick<SettingsService, 'update'>;
  counters: Pick<NotificationCounters, 'unsubscribes'>;
}

/** The one-click unsubscribe links of unread-message emails (API.md "Notifications"). */
export class UnsubscribeService {
  constructor(private readonly deps: UnsubscribeServiceDeps) {}

  /** Whether a link's token is one we issued, unaltered; checking it changes nothing (mail scanners open links). */
  isValid(token: string | null): boolean {
    return this.deps.tokens.verify(token) !== null;
  }

  /** Turns `emailOnUnreadMessages` off for the token's user; false for a forged or altered token. */
  async unsubscribe(em: EntityManager, token: string | null): Promise<boolean> {
    const userId = this.deps.tokens.verify(token);
    if (!userId) return false;
    // The user may have been deleted since the email: then there is nothing left to turn off.
    if (await userExists(em, userId)) {
      await this.deps.settings.update(em, { id: userId }, { emailOnUnreadMessages: false });
      this.deps.counters.unsubscribes.inc();
    }
    return true;
  }
}
