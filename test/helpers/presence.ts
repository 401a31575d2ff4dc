import type { TestApp } from './app.js';
import { startConversation, type SignedIn } from './chat.js';
import { signedInUser } from './factories.js';
import { connectedWs, subscribe, type FormattedExecutionResult, type Subscription, type WsConnection } from './ws.js';

export const PRESENCE = /* GraphQL */ `subscription Presence { presence { user { id } online lastSeenAt } }`;

export const UPDATE_SETTINGS = /* GraphQL */ `
  mutation UpdateSettings($input: UpdateSettingsInput!) { updateSettings(input: $input) { emailOnUnreadMessages showPresence } }
`;

export interface PresenceEventShape {
  user: { id: string };
  online: boolean;
  lastSeenAt: string | null;
}

type PresenceResult = FormattedExecutionResult<{ presence: PresenceEventShape }>;

/** A presence subscription that the test reads event by event, about one user at a time. */
export class PresenceFeed {
  constructor(readonly subscription: Subscription<{ presence: PresenceEventShape }>) {}

  /** Every event so far about `userId`, in order. */
  about(userId: string): PresenceEventShape[] {
    return this.subscription.results.flatMap((result: PresenceResult) => (result.data?.presence.user.id === userId ? [result.data.presence] : []));
  }

  /** The `index`-th (0-based) event about `userId`, waiting for it. */
  async nthAbout(userId: string, index: number, timeoutMs = 10_000): Promise<PresenceEventShape> {
    const deadline = Date.now() + timeoutMs;
    for (let seen = 0; ; seen += 1) {
      const events = this.about(userId);
      if (events.length > index) return events[index]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no presence event #${index} about ${userId} within ${timeoutMs} ms`);
      await this.subscription.nth(seen, left).catch(() => undefined);
    }
  }
}

/** The other side of a new conversation with `user` (an investor for a startup, and the reverse). */
export async function newPartner(t: TestApp, user: SignedIn): Promise<SignedIn> {
  if (user.role === 'STARTUP') {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    await startConversation(t, investor, user.id);
    return investor;
  }
  const startup = await signedInUser(t, { role: 'STARTUP' });
  await startConversation(t, user, startup.id);
  return startup;
}

/**
 * Subscribes `viewer` to presence on `on` and returns once the subscription provably delivers:
 * a fresh partner of the viewer opens a socket on `probeOn` until its online event arrives (a
 * new partner each round: a reconnect within the grace would announce nothing). The probe's
 * socket stays open; close it with the returned `close`.
 */
export async function livePresenceFeed(on: TestApp, viewer: SignedIn, probeOn: TestApp = on): Promise<{ feed: PresenceFeed; close(): Promise<void> }> {
  const socket = await connectedWs(on.wsUrl, { token: viewer.tokens.accessToken });
  const feed = new PresenceFeed(subscribe<{ presence: PresenceEventShape }>(socket.client, PRESENCE));
  const probes: WsConnection[] = [];
  for (let round = 0; ; round += 1) {
    const probe = await newPartner(on, viewer);
    probes.push(await connectedWs(probeOn.wsUrl, { token: probe.tokens.accessToken }));
    try {
      await feed.nthAbout(probe.id, 0, 1_000);
      break;
    } catch (error) {
      if (round >= 20) throw error;
    }
  }
  return {
    feed,
    async close() {
      await Promise.all([socket, ...probes].map((connection) => connection.dispose()));
    },
  };
}
