import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { MESSAGE_FIELDS, SEND_MESSAGE, arrival, chatPair, sendMessage, type MessageShape } from './helpers/chat.js';
import { withClient } from './helpers/database.js';
import { connectedWs, subscribe, type WsConnection } from './helpers/ws.js';
import { startCountedApp, type CountedApp } from './helpers/statements.js';
import { eventually, whenLive } from './helpers/time.js';

let t: TestApp;
let quiet: CountedApp;
const open: WsConnection[] = [];

beforeAll(async () => {
  t = await startTestApp();
  // A second instance of the deployment: set-up goes through t, the measured traffic through quiet.
  quiet = await startCountedApp({ db: t.db, inbox: t.inbox });
});
afterAll(async () => {
  await Promise.all(open.map((connection) => connection.dispose()));
  await quiet?.stop();
  await t?.stop();
});

/** Authentication reads the user row (then caches it for a few seconds); that is the request's, not the chat's. */
const chatStatements = () => quiet.statements.all.filter((sql) => !/^select .* from "user" where "id" = \?$/s.test(sql));

describe("chat's hot path", () => {
  it('sends a message in one statement and delivers messageSent and inbox for the usual selection without any query', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await connectedWs(quiet.wsUrl, { token: startup.tokens.accessToken });
    open.push(socket);
    const thread = subscribe<{ messageSent: MessageShape }>(
      socket.client,
      `subscription($id: ID!) { messageSent(conversationId: $id) { ${MESSAGE_FIELDS} } }`,
      { id: conversationId },
    );
    const inbox = subscribe<{ inbox: MessageShape }>(socket.client, `subscription { inbox { ${MESSAGE_FIELDS} } }`);
    const send = (body: string) => quiet.gql<{ sendMessage: MessageShape }>(SEND_MESSAGE, { conversationId, body }, { token: investor.tokens.accessToken });
    // Live once the newest probe reached both; earlier probes that did come arrived before it.
    let probe = '';
    await whenLive(
      async () => (probe = (await send('probe')).data!.sendMessage.id),
      () => thread.results.some((result) => result.data?.messageSent.id === probe) && inbox.results.some((result) => result.data?.inbox.id === probe),
    );

    const before = { thread: thread.results.length, inbox: inbox.results.length };
    quiet.statements.clear();
    const sent: MessageShape[] = [];
    for (let i = 0; i < 5; i++) sent.push((await send(`counted ${i}`)).data!.sendMessage);
    for (const message of sent) {
      await arrival(thread.results, (result) => result.data?.messageSent.id === message.id, `messageSent of ${message.body}`);
      await arrival(inbox.results, (result) => result.data?.inbox.id === message.id, `inbox of ${message.body}`);
    }
    const delivered = [...thread.results.slice(before.thread), ...inbox.results.slice(before.inbox)];
    expect(delivered).toHaveLength(10);
    for (const result of delivered) expect(result.errors).toBeUndefined();
    expect(thread.results.at(-1)!.data!.messageSent).toEqual({
      id: sent[4]!.id,
      body: 'counted 4',
      createdAt: sent[4]!.createdAt,
      sender: { id: investor.id },
      conversation: { id: conversationId },
    });

    // Five sends, ten deliveries: five statements, each one send's only round trip.
    const counted = chatStatements();
    expect(counted).toHaveLength(5);
    expect(counted.every((sql) => sql.includes('insert into "message"'))).toBe(true);
  });

  it("loads what an event does not carry lazily, once per event, through that event's own loaders", async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const socket = await connectedWs(quiet.wsUrl, { token: startup.tokens.accessToken });
    open.push(socket);
    const inbox = subscribe<{
      inbox: { id: string; sender: { id: string; firstName: string; role: string }; conversation: { id: string; unreadCount: number } };
    }>(socket.client, `subscription { inbox { id sender { id firstName role } conversation { id unreadCount } } }`);
    const send = (body: string) => quiet.gql<{ sendMessage: MessageShape }>(SEND_MESSAGE, { conversationId, body }, { token: investor.tokens.accessToken });
    await whenLive(
      () => send('probe'),
      () => inbox.results.length > 0,
    );

    quiet.statements.clear();
    const message = (await send('needs the database')).data!.sendMessage;
    const event = await arrival(inbox.results, (result) => result.data?.inbox.id === message.id, 'the inbox event');
    expect(event.errors).toBeUndefined();
    expect(event.data!.inbox.sender).toEqual({ id: investor.id, firstName: 'Olena', role: 'INVESTOR' });
    expect(event.data!.inbox.conversation.unreadCount).toBeGreaterThanOrEqual(2);
    // The send, then for the event: the sender, the conversation, its unread count.
    const counted = chatStatements();
    expect(counted).toHaveLength(4);
    expect(counted.filter((sql) => /from "user"/.test(sql))).toHaveLength(1);
  });

  it("rewrites only the conversation's heap row per message: its activity update is a HOT update, so no index grows with the chat", async () => {
    const { investor, conversationId } = await chatPair(t);
    const sends = 30;
    for (let i = 0; i < sends; i++) await sendMessage(t, investor, conversationId, `activity ${i}`);
    const conversationUpdates = () =>
      withClient(t.db.url, async (client) => {
        const { rows } = await client.query<{ updates: string; hot: string }>(
          `select "n_tup_upd"::text as "updates", "n_tup_hot_upd"::text as "hot" from pg_stat_user_tables where "relname" = 'conversation'`,
        );
        return { updates: Number(rows[0]!.updates), hot: Number(rows[0]!.hot) };
      });
    // The server's connections report their counts to the statistics system within a second or so.
    const counted = await eventually(
      async () => {
        const stats = await conversationUpdates();
        return stats.updates >= sends && stats;
      },
      'the activity updates to reach pg_stat_user_tables',
      10_000,
      100,
    );
    // Every update of the table in this database so far (other tests' messages included).
    expect(counted.hot).toBe(counted.updates);
  });

  it('keeps typing off the tables: setTyping only reads (the participation check)', async () => {
    const { investor, conversationId } = await chatPair(t);
    const setTyping = (typing: boolean) =>
      quiet.gql(
        `mutation($id: ID!, $typing: Boolean!) { setTyping(conversationId: $id, typing: $typing) }`,
        { id: conversationId, typing },
        { token: investor.tokens.accessToken },
      );
    quiet.statements.clear();
    for (const typing of [true, true, false]) expect((await setTyping(typing)).errors).toBeUndefined();
    expect(chatStatements().length).toBeGreaterThan(0);
    expect(chatStatements().every((sql) => /^select /i.test(sql))).toBe(true);
  });
});
