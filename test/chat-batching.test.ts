// Messages sent in one turn of the event loop are stored by one statement (src/db/turn-batcher.ts, storeMessages).
// The sends are made through the app's own ChatService, several in one tick, which is how the
// sends of many sockets arrive under load, but deterministic.
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserView } from '../src/modules/user/user.repository.js';
import type { UserView } from '../src/modules/user/user.entity.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { chatPair, sendMessage } from './helpers/chat.js';
import { rejectionCode } from './helpers/graphql.js';
import { startCountedApp, type CountedApp } from './helpers/statements.js';

let t: TestApp;
let quiet: CountedApp;

beforeAll(async () => {
  t = await startTestApp();
  quiet = await startCountedApp({ db: t.db, inbox: t.inbox });
});
afterAll(async () => {
  await quiet?.stop();
  await t?.stop();
});

const fork = (): EntityManager => quiet.app.container.fork();
const viewerOf = async (id: string): Promise<UserView> => (await findUserView(fork(), id))!;
/** SQL through the app's own pool (the embedded database takes no third connection); rows as the driver gives them. */
const sql = async (query: string, params: unknown[] = []) => (await fork().execute(query, params)) as Record<string, unknown>[];
const timeOf = (value: unknown) => new Date(String(value)).getTime();
const storingStatements = () => quiet.statements.matching(/insert into "message"/);

describe('messages sent in one turn', () => {
  it('are stored by one statement, each with the outcome a send of its own would have', async () => {
    const [a, b, c, d] = await Promise.all([chatPair(t), chatPair(t), chatPair(t), chatPair(t)]);
    // In a's conversation the startup wrote first: the investor's reply reads it (a read event).
    await sendMessage(t, a.startup, a.conversationId, 'question from the startup');
    const viewers = await Promise.all([a.investor.id, b.startup.id, c.investor.id, b.investor.id].map(viewerOf));
    const events = quiet.app.container.pubsub.subscribe('chat:conversation', a.conversationId)[Symbol.asyncIterator]();
    const firstEvent = events.next(); // starts listening
    const missing = b.conversationId.replace(/.$/, (digit) => (digit === '0' ? '1' : '0'));

    quiet.statements.clear();
    const outcomes = await Promise.allSettled([
      quiet.app.container.domain.chat.send(fork(), viewers[0]!, { conversationId: a.conversationId, body: 'reply in a' }),
      quiet.app.container.domain.chat.send(fork(), viewers[1]!, { conversationId: b.conversationId, body: 'first in b' }),
      quiet.app.container.domain.chat.send(fork(), viewers[2]!, { conversationId: missing, body: 'nowhere' }),
      quiet.app.container.domain.chat.send(fork(), viewers[2]!, { conversationId: c.conversationId, body: 'first in c' }),
      quiet.app.container.domain.chat.send(fork(), viewers[3]!, { conversationId: d.conversationId, body: 'not my conversation' }),
    ]);
    expect(storingStatements()).toHaveLength(1);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(rejectionCode(outcomes[2]!)).toBe('NOT_FOUND');
    expect(rejectionCode(outcomes[4]!)).toBe('FORBIDDEN');
    const [inA, inB, , inC] = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : null));
    expect(inA).toMatchObject({ body: 'reply in a', conversationId: a.conversationId, senderId: a.investor.id });
    expect(inB).toMatchObject({ body: 'first in b', conversationId: b.conversationId, senderId: b.startup.id });
    expect(inC).toMatchObject({ body: 'first in c', conversationId: c.conversationId, senderId: c.investor.id });

    // Announced as a lone send announces it: the message, then the investor's read of the question.
    expect((await firstEvent).value).toMatchObject({ kind: 'sent', message: { id: inA!.id } });
    expect((await events.next()).value).toMatchObject({ kind: 'read', conversationId: a.conversationId, userId: a.investor.id });
    await events.return?.();

    // Stored as sent: each sender's read mark is at its message, each conversation's activity too.
    const ids = [a.conversationId, b.conversationId, c.conversationId];
    const marks = await sql(`select "user_id", "last_read_at" from "conversation_read" where "conversation_id" in (?, ?, ?)`, ids);
    const activity = await sql(`select "id", "last_activity_at" from "conversation" where "id" in (?, ?, ?)`, ids);
    for (const message of [inA!, inB!, inC!]) {
      expect(timeOf(marks.find((mark) => mark.user_id === message.senderId)?.last_read_at)).toBe(message.createdAt.getTime());
      expect(timeOf(activity.find((conversation) => conversation.id === message.conversationId)?.last_activity_at)).toBe(message.createdAt.getTime());
    }
    // Nothing was stored where the sender may not write.
    expect(await sql(`select 1 from "message" where "conversation_id" = ?`, [d.conversationId])).toHaveLength(0);
  });

  it('puts a second message to the same conversation in a statement of its own, and stores both', async () => {
    const { investor, conversationId } = await chatPair(t);
    const viewer = await viewerOf(investor.id);
    quiet.statements.clear();
    const [first, second] = await Promise.all([
      quiet.app.container.domain.chat.send(fork(), viewer, { conversationId, body: 'one' }),
      quiet.app.container.domain.chat.send(fork(), viewer, { conversationId, body: 'two' }),
    ]);
    expect(storingStatements()).toHaveLength(2);
    expect([first.body, second.body]).toEqual(['one', 'two']);
    const stored = await sql(`select "body" from "message" where "conversation_id" = ?`, [conversationId]);
    expect(stored.map((row) => row.body).sort()).toEqual(['one', 'two']);
  });

  it('fails only the message the database refuses; the others of its batch are stored', async () => {
    const [a, b] = await Promise.all([chatPair(t), chatPair(t)]);
    const viewers = await Promise.all([a.investor.id, b.investor.id].map(viewerOf));
    await sql(`create function refuse_test_body() returns trigger language plpgsql as $$
      begin
        if new."body" = 'refused by the database' then raise exception 'refused for the test'; end if;
        return new;
      end $$`);
    await sql(`create trigger refuse_test_body before insert on "message" for each row execute function refuse_test_body()`);
    try {
      quiet.statements.clear();
      const outcomes = await Promise.allSettled([
        quiet.app.container.domain.chat.send(fork(), viewers[0]!, { conversationId: a.conversationId, body: 'refused by the database' }),
        quiet.app.container.domain.chat.send(fork(), viewers[1]!, { conversationId: b.conversationId, body: 'stored all the same' }),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);
      // The batch, then each message on its own.
      expect(storingStatements()).toHaveLength(3);
    } finally {
      await sql('drop trigger refuse_test_body on "message"');
      await sql('drop function refuse_test_body()');
    }
    const stored = await sql(`select "body" from "message" where "conversation_id" in (?, ?)`, [a.conversationId, b.conversationId]);
    expect(stored.map((row) => row.body)).toEqual(['stored all the same']);
  });
});
