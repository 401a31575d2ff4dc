import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, type TestApp } from './helpers/app.js';
import {
  CONVERSATION_EVENTS,
  DELETE_MESSAGE,
  EDIT_MESSAGE,
  MARK_READ,
  SET_TYPING,
  chatPair,
  eventsOf,
  sendMessage,
  typingOf,
  until,
  type ConversationEvent,
  type SignedIn,
} from './helpers/chat.js';
import { startInstancesOverRedis, type InstancePair } from './helpers/instances.js';
import { redisAvailableFor } from './helpers/redis.js';
import { connectedWs, subscribe, type WsConnection } from './helpers/ws.js';
import { whenLive } from './helpers/time.js';

type EventResult = { conversationEvents: ConversationEvent };

describe.skipIf(!redisAvailableFor('conversation events and typing across two instances'))(
  'conversation events and typing across two instances over Redis',
  () => {
    let pair: InstancePair | undefined;
    let a: TestApp;
    let b: TestApp;
    const open: WsConnection[] = [];
    beforeAll(async () => {
      // A per-second limit low enough that a burst exceeds it however slowly a loaded machine answers.
      pair = await startInstancesOverRedis({ TYPING_TIMEOUT_SECONDS: '3', RATE_LIMIT_TYPING_PER_SECOND: '5' });
      ({ a, b } = pair);
    });
    afterAll(async () => {
      await Promise.all(open.map((connection) => connection.dispose()));
      await pair?.stop();
    });

    /** `user`'s conversationEvents on `app`, live (probed with messages sent on the other instance). */
    async function liveEvents(app: TestApp, user: SignedIn, prober: SignedIn, conversationId: string) {
      const socket = await connectedWs(app.wsUrl, { token: user.tokens.accessToken });
      open.push(socket);
      const feed = subscribe<EventResult>(socket.client, CONVERSATION_EVENTS, { id: conversationId });
      await whenLive(
        () => sendMessage(app === a ? b : a, prober, conversationId, 'probe'),
        () => feed.results.length > 0,
      );
      return feed;
    }

    const typing = (app: TestApp, user: SignedIn, conversationId: string, value: boolean) =>
      app.gql<{ setTyping: boolean }>(SET_TYPING, { conversationId, typing: value }, { token: user.tokens.accessToken });

    it('delivers on B what happens on A: messages sent, edited, deleted, read marks and typing', async () => {
      const { investor, startup, conversationId } = await chatPair(a);
      const feed = await liveEvents(b, investor, investor, conversationId);
      const start = feed.results.length;
      const question = await sendMessage(a, investor, conversationId, 'question');
      await a.gql(EDIT_MESSAGE, { id: question.id, body: 'better question' }, { token: investor.tokens.accessToken });
      await a.gql(DELETE_MESSAGE, { id: question.id }, { token: investor.tokens.accessToken });
      await a.gql(MARK_READ, { conversationId }, { token: startup.tokens.accessToken });
      await typing(a, startup, conversationId, true);
      await until(() => eventsOf(feed.results.slice(start)).length >= 5, 'the events on B');
      const events = eventsOf(feed.results.slice(start));
      expect(events.map((event) => event.__typename)).toEqual(['MessageSentEvent', 'MessageEditedEvent', 'MessageDeletedEvent', 'ReadEvent', 'TypingEvent']);
      expect(events.map((event) => event.message?.body ?? event.user?.id)).toEqual(['question', 'better question', '', startup.id, startup.id]);
    });

    it('announces one start and one end per typing state whichever instance each call reaches', async () => {
      const { investor, startup, conversationId } = await chatPair(a);
      const onA = await liveEvents(a, startup, startup, conversationId);
      const onB = await liveEvents(b, startup, startup, conversationId);
      await typing(a, investor, conversationId, true);
      await typing(b, investor, conversationId, true);
      await typing(a, investor, conversationId, true);
      await typing(b, investor, conversationId, false);
      await typing(a, investor, conversationId, false);
      await until(() => typingOf(onA.results).length >= 2 && typingOf(onB.results).length >= 2, 'start and end on both instances');
      // A message afterwards: nothing else about typing came before it.
      const marker = await sendMessage(a, startup, conversationId, 'marker');
      for (const feed of [onA, onB]) await until(() => eventsOf(feed.results).some((event) => event.message?.id === marker.id), 'the marker');
      expect(typingOf(onA.results)).toEqual([true, false]);
      expect(typingOf(onB.results)).toEqual([true, false]);
    });

    it('ends a state renewed on both instances once, at the timeout after the last renewal', async () => {
      const { investor, startup, conversationId } = await chatPair(a);
      const feed = await liveEvents(b, startup, startup, conversationId);
      await typing(a, investor, conversationId, true);
      await typing(b, investor, conversationId, true);
      // The state is a Redis key that expires by itself, so no instance has to survive to clear it.
      const redis = new Redis(a.config.REDIS_URL!);
      try {
        const ttl = await redis.pttl(`typing:${conversationId}:${investor.id}`);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(3_000);
      } finally {
        redis.disconnect();
      }
      await until(() => typingOf(feed.results).length >= 2, 'the timeout to end typing', 15_000);
      const marker = await sendMessage(a, startup, conversationId, 'marker');
      await until(() => eventsOf(feed.results).some((event) => event.message?.id === marker.id), 'the marker');
      expect(typingOf(feed.results)).toEqual([true, false]);
    });

    it('counts setTyping calls per user across instances: beyond the limit, RATE_LIMITED', async () => {
      const { investor, conversationId } = await chatPair(a);
      // Four calls on each instance: neither alone passes the limit of 5, together they do.
      const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => typing(i % 2 ? a : b, investor, conversationId, true)));
      expect(burst.filter((result) => errorCode(result) === 'RATE_LIMITED').length).toBeGreaterThan(0);
    });
  },
);
