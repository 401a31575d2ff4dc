import { useEffect } from 'react';
import { useClient } from 'urql';
import { INBOX, PRESENCE, type InboxResult } from '../graphql/documents';
import type { LiveMessages } from './live-messages';

/**
 * The subscriptions a signed-in client keeps for its whole life: every new message (unread
 * badges and open threads), and the partners' presence. Graphcache applies what they carry
 * (unreadCount, online) to every screen; new messages also go to the live store.
 */
export function useLiveFeeds(live: LiveMessages): void {
  const client = useClient();
  useEffect(() => {
    const inbox = client.subscription<InboxResult>(INBOX, {}).subscribe((result) => {
      const message = result.data?.inbox;
      if (!message) return;
      live.addNew(message.conversation.id, message);
    });
    // Presence is an API revision 2 feature: an older server answers with an error, and the
    // client simply shows no presence.
    const presence = client.subscription(PRESENCE, {}).subscribe(() => {});
    return () => {
      inbox.unsubscribe();
      presence.unsubscribe();
    };
  }, [client, live]);
}
