import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode } from './helpers/app.js';
import { startCountedApp, type CountedApp } from './helpers/statements.js';
import { HISTORY, MARK_READ, SEND_MESSAGE, START_CONVERSATION, chatPair, sendMessage, startConversation } from './helpers/chat.js';
import { withClient } from './helpers/database.js';
import { LOGOUT, REGISTER, dataOf, fieldErrors } from './helpers/graphql.js';
import { registerInput, signedInUser } from './helpers/factories.js';
import { whenLive } from './helpers/time.js';

let t: CountedApp;
beforeAll(async () => {
  t = await startCountedApp();
});
afterAll(async () => {
  await t?.stop();
});

const CONVERSATIONS = /* GraphQL */ `
  query Conversations($first: Int, $after: String) {
    conversations(first: $first, after: $after) {
      edges { cursor node { id unreadCount lastMessage { id body sender { id } } participants { id role } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const CONVERSATION = /* GraphQL */ `
  query Conversation($id: ID!) { conversation(id: $id) { id unreadCount participants { id role email } lastMessage { id } } }
`;

interface ConversationNode {
  id: string;
  unreadCount: number;
  lastMessage: { id: string; body: string; sender: { id: string } } | null;
  participants: { id: string; role: string }[];
}

const conversationsOf = async (token: string, variables: Record<string, unknown> = {}) => {
  const result = await t.gql<{
    conversations: { edges: { cursor: string; node: ConversationNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
  }>(CONVERSATIONS, variables, { token });
  return dataOf(result, 'conversations').conversations;
};

const unreadCount = async (token: string, id: string) =>
  (await t.gql<{ conversation: { unreadCount: number } }>(CONVERSATION, { id }, { token })).data?.conversation.unreadCount;

describe('startConversation', () => {
  it('lets an investor open a conversation with a startup user, and gives the same pair the same conversation', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const startup = await signedInUser(t, { role: 'STARTUP' });
    const first = await t.gql<{ startConversation: { id: string; participants: { id: string; role: string }[] } }>(
      START_CONVERSATION,
      { userId: startup.id },
      { token: investor.tokens.accessToken },
    );
    expect(first.data?.startConversation.participants).toEqual([
      { id: investor.id, role: 'INVESTOR' },
      { id: startup.id, role: 'STARTUP' },
    ]);
    const again = await startConversation(t, investor, startup.id);
    expect(again).toBe(first.data?.startConversation.id);
  });

  it('converges concurrent starts of the same pair on one conversation', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const startup = await signedInUser(t, { role: 'STARTUP' });
    const ids = await Promise.all(Array.from({ length: 6 }, () => startConversation(t, investor, startup.id)));
    expect(new Set(ids).size).toBe(1);
    const rows = await withClient(
      t.db.url,
      async (client) =>
        (await client.query('select count(*)::int as n from conversation where investor_id = $1 and startup_id = $2', [investor.id, startup.id])).rows[0].n,
    );
    expect(rows).toBe(1);
  });

  it('is FORBIDDEN to a startup, and for an investor towards another investor or themselves', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const otherInvestor = await signedInUser(t, { role: 'INVESTOR' });
    const startup = await signedInUser(t, { role: 'STARTUP' });
    const byStartup = await t.gql(START_CONVERSATION, { userId: investor.id }, { token: startup.tokens.accessToken });
    expect(errorCode(byStartup)).toBe('FORBIDDEN');
    const startupToStartup = await t.gql(START_CONVERSATION, { userId: startup.id }, { token: startup.tokens.accessToken });
    expect(errorCode(startupToStartup)).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(START_CONVERSATION, { userId: otherInvestor.id }, { token: investor.tokens.accessToken }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(START_CONVERSATION, { userId: investor.id }, { token: investor.tokens.accessToken }))).toBe('FORBIDDEN');
  });

  it('is NOT_FOUND for an unknown, malformed or not yet activated user', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const input = registerInput({ role: 'STARTUP' });
    await t.gql(REGISTER, { input });
    const inactiveId = await withClient(
      t.db.url,
      async (client) => (await client.query('select id from "user" where email = $1', [input.email])).rows[0].id as string,
    );
    for (const userId of [inactiveId, '00000000-0000-4000-8000-000000000000', 'not-an-id']) {
      const result = await t.gql(START_CONVERSATION, { userId }, { token: investor.tokens.accessToken });
      expect(errorCode(result), userId).toBe('NOT_FOUND');
    }
  });

  it('needs a signed-in user', async () => {
    const startup = await signedInUser(t, { role: 'STARTUP' });
    expect(errorCode(await t.gql(START_CONVERSATION, { userId: startup.id }))).toBe('UNAUTHENTICATED');
  });
});

describe('conversations and conversation(id)', () => {
  it("lists only the viewer's conversations, most recent activity first, with lastMessage and participants", async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const startups = await Promise.all([1, 2, 3].map(() => signedInUser(t, { role: 'STARTUP' })));
    const ids: string[] = [];
    for (const startup of startups) ids.push(await startConversation(t, investor, startup.id));
    const unrelated = await chatPair(t);

    let page = await conversationsOf(investor.tokens.accessToken);
    expect(page.edges.map((edge) => edge.node.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(page.edges.every((edge) => edge.node.lastMessage === null)).toBe(true);
    expect(page.edges.map((edge) => edge.node.id)).not.toContain(unrelated.conversationId);

    // A message moves its conversation to the top, for both participants.
    const message = await sendMessage(t, startups[0]!, ids[0]!, 'Thanks for reaching out');
    page = await conversationsOf(investor.tokens.accessToken);
    expect(page.edges.map((edge) => edge.node.id)).toEqual([ids[0], ids[2], ids[1]]);
    expect(page.edges[0]!.node).toMatchObject({
      lastMessage: { id: message.id, body: 'Thanks for reaching out', sender: { id: startups[0]!.id } },
      unreadCount: 1,
      participants: [
        { id: investor.id, role: 'INVESTOR' },
        { id: startups[0]!.id, role: 'STARTUP' },
      ],
    });
    const startupView = await conversationsOf(startups[0]!.tokens.accessToken);
    expect(startupView.edges.map((edge) => edge.node.id)).toEqual([ids[0]]);
    expect(startupView.edges[0]!.node.unreadCount).toBe(0);
  });

  it("orders a startup's conversations by activity too (the startup side lists through its own index)", async () => {
    const startup = await signedInUser(t, { role: 'STARTUP' });
    const investors = await Promise.all([1, 2, 3].map(() => signedInUser(t, { role: 'INVESTOR' })));
    const ids: string[] = [];
    for (const investor of investors) ids.push(await startConversation(t, investor, startup.id));
    let page = await conversationsOf(startup.tokens.accessToken);
    expect(page.edges.map((edge) => edge.node.id)).toEqual([ids[2], ids[1], ids[0]]);
    await sendMessage(t, startup, ids[0]!, 'Happy to talk');
    page = await conversationsOf(startup.tokens.accessToken, { first: 2 });
    expect(page.edges.map((edge) => edge.node.id)).toEqual([ids[0], ids[2]]);
    const rest = await conversationsOf(startup.tokens.accessToken, { first: 2, after: page.pageInfo.endCursor });
    expect(rest.edges.map((edge) => edge.node.id)).toEqual([ids[1]]);
  });

  it('pages through conversations with first/after without gaps or duplicates', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const startups = await Promise.all(Array.from({ length: 5 }, () => signedInUser(t, { role: 'STARTUP' })));
    const ids: string[] = [];
    for (const startup of startups) ids.push(await startConversation(t, investor, startup.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await conversationsOf(investor.tokens.accessToken, { first: 2, after });
      seen.push(...page.edges.map((edge) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  it('shows a conversation to its participants, is FORBIDDEN to others, and null for an unknown id', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'INVESTOR' });
    const asStartup = await t.gql<{ conversation: { participants: { id: string; email: string | null }[] } }>(
      CONVERSATION,
      { id: conversationId },
      { token: startup.tokens.accessToken },
    );
    expect(asStartup.data?.conversation.participants).toEqual([
      { id: investor.id, role: 'INVESTOR', email: null },
      { id: startup.id, role: 'STARTUP', email: startup.email },
    ]);
    expect(errorCode(await t.gql(CONVERSATION, { id: conversationId }, { token: outsider.tokens.accessToken }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(HISTORY, { id: conversationId }, { token: outsider.tokens.accessToken }))).toBe('FORBIDDEN');
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const unknown = await t.gql(CONVERSATION, { id }, { token: investor.tokens.accessToken });
      expect(unknown.errors).toBeUndefined();
      expect(unknown.data).toEqual({ conversation: null });
    }
    expect(errorCode(await t.gql(CONVERSATION, { id: conversationId }))).toBe('UNAUTHENTICATED');
  });

  it('loads a page of conversations with a constant number of queries, whatever its size (no N+1)', async () => {
    const investor = await signedInUser(t, { role: 'INVESTOR' });
    const startups = await Promise.all(Array.from({ length: 8 }, () => signedInUser(t, { role: 'STARTUP' })));
    for (const startup of startups) {
      const id = await startConversation(t, investor, startup.id);
      await sendMessage(t, startup, id, `hello from ${startup.email}`);
    }
    const count = async (first: number) => {
      const statements = await t.statements.during(async () => {
        const page = await conversationsOf(investor.tokens.accessToken, { first });
        expect(page.edges).toHaveLength(first);
      });
      return statements.length;
    };
    const small = await count(2);
    const large = await count(8);
    expect(small).toBeGreaterThan(0);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(6);
  });
});

describe('sendMessage and history', () => {
  it('accepts 4000 characters after trimming and refuses 4001, an empty and a whitespace-only body', async () => {
    const { investor, conversationId } = await chatPair(t);
    const longest = 'a'.repeat(4000);
    expect((await sendMessage(t, investor, conversationId, `  ${longest}\n`)).body).toBe(longest);
    const emoji = '🚀'.repeat(4000); // 4000 characters, 8000 UTF-16 units
    expect((await sendMessage(t, investor, conversationId, emoji)).body).toBe(emoji);
    for (const body of ['a'.repeat(4001), '', '   \n\t  ']) {
      const result = await t.gql(SEND_MESSAGE, { conversationId, body }, { token: investor.tokens.accessToken });
      expect(fieldErrors(result), JSON.stringify(body.slice(0, 10))).toMatchObject({ body: expect.any(String) });
    }
    const stored = await withClient(
      t.db.url,
      async (client) => (await client.query('select count(*)::int as n from message where conversation_id = $1', [conversationId])).rows[0].n,
    );
    expect(stored).toBe(2);
  });

  it('lets only participants write: FORBIDDEN for others, NOT_FOUND for an unknown conversation', async () => {
    const { startup, conversationId } = await chatPair(t);
    const outsider = await signedInUser(t, { role: 'STARTUP' });
    expect(errorCode(await t.gql(SEND_MESSAGE, { conversationId, body: 'hi' }, { token: outsider.tokens.accessToken }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(MARK_READ, { conversationId }, { token: outsider.tokens.accessToken }))).toBe('FORBIDDEN');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(errorCode(await t.gql(SEND_MESSAGE, { conversationId: unknown, body: 'hi' }, { token: startup.tokens.accessToken }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(SEND_MESSAGE, { conversationId, body: 'hi' }))).toBe('UNAUTHENTICATED');
    // The startup replies once the investor has started the conversation.
    expect((await sendMessage(t, startup, conversationId, 'hi')).body).toBe('hi');
  });
});

describe('unread counts', () => {
  it('counts the messages of the other participant until markConversationRead, and a reply marks the conversation read', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    await sendMessage(t, investor, conversationId, 'Hello');
    await sendMessage(t, investor, conversationId, 'Are you raising?');
    await sendMessage(t, investor, conversationId, 'We invest in AgriTech');
    expect(await unreadCount(startup.tokens.accessToken, conversationId)).toBe(3);
    expect(await unreadCount(investor.tokens.accessToken, conversationId)).toBe(0);

    const read = await t.gql<{ markConversationRead: { id: string; unreadCount: number } }>(
      MARK_READ,
      { conversationId },
      { token: startup.tokens.accessToken },
    );
    expect(read.data?.markConversationRead).toEqual({ id: conversationId, unreadCount: 0 });
    expect(await unreadCount(startup.tokens.accessToken, conversationId)).toBe(0);

    await sendMessage(t, investor, conversationId, 'Ping');
    expect(await unreadCount(startup.tokens.accessToken, conversationId)).toBe(1);
    await sendMessage(t, startup, conversationId, 'Yes, seed round');
    expect(await unreadCount(startup.tokens.accessToken, conversationId)).toBe(0);
    expect(await unreadCount(investor.tokens.accessToken, conversationId)).toBe(1);
  });

  it('lets markConversationRead run on a conversation without messages', async () => {
    const { investor, conversationId } = await chatPair(t);
    const read = await t.gql<{ markConversationRead: { unreadCount: number } }>(MARK_READ, { conversationId }, { token: investor.tokens.accessToken });
    expect(read.data?.markConversationRead.unreadCount).toBe(0);
  });
});

describe('subscriptions over SSE (GraphQL over HTTP)', () => {
  /** Opens an SSE subscription and yields each `next` payload. */
  async function* sse(token: string, query: string, variables: Record<string, unknown>, signal: AbortSignal) {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith('event: next')) continue;
        const data = frame.split('\n').find((line) => line.startsWith('data: '));
        if (data) yield JSON.parse(data.slice(6)) as { data?: { messageSent: { body: string } } | null; errors?: { extensions?: { code?: string } }[] };
      }
    }
  }

  it('delivers messages, and ends the stream with TOKEN_REVOKED once the session is revoked', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    const abort = new AbortController();
    const events = sse(
      startup.tokens.accessToken,
      `subscription($id: ID!) { messageSent(conversationId: $id) { body } }`,
      { id: conversationId },
      abort.signal,
    );
    try {
      let firstArrived = false;
      const first = events.next().then((value) => {
        firstArrived = true;
        return value;
      });
      await whenLive(
        () => sendMessage(t, investor, conversationId, 'probe'),
        () => firstArrived,
      );
      expect((await first).value?.data?.messageSent.body).toBe('probe');
      await sendMessage(t, investor, conversationId, 'over SSE');
      let delivered = await events.next();
      while (delivered.value?.data?.messageSent.body === 'probe') delivered = await events.next();
      expect(delivered.value?.data?.messageSent.body).toBe('over SSE');

      await t.gql(LOGOUT, { refreshToken: startup.tokens.refreshToken }, { token: startup.tokens.accessToken });
      await sendMessage(t, investor, conversationId, 'after logout');
      const next = await events.next();
      expect(next.value?.errors?.[0]?.extensions?.code).toBe('TOKEN_REVOKED');
      expect(JSON.stringify(next.value)).not.toContain('after logout');
    } finally {
      abort.abort();
    }
  });
});
