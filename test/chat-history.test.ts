import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { HISTORY_PAGE, chatPair, historyPage, sendMessage, type HistoryConnection, type SignedIn } from './helpers/chat.js';
import { withClient } from './helpers/database.js';
import { fieldErrors } from './helpers/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

/** A conversation with `count` messages sent one after the other, alternating senders; their ids in order. */
async function conversationWith(count: number) {
  const pair = await chatPair(t);
  const sent: string[] = [];
  for (let i = 0; i < count; i++) sent.push((await sendMessage(t, i % 2 ? pair.startup : pair.investor, pair.conversationId, `message ${i}`)).id);
  return { ...pair, sent };
}

const ids = (page: HistoryConnection) => page.edges.map((edge) => edge.node.id);

/** The Relay specification's rule: startCursor and endCursor are the first and last edge's cursors. */
function expectRelayCursors(page: HistoryConnection) {
  expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
  expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
  for (const edge of page.edges) expect(edge.cursor).toBe(edge.node.cursor);
}

describe('Conversation.messages as a Relay connection', () => {
  it('answers the newest 20, oldest first, when given no arguments', async () => {
    const { startup, conversationId, sent } = await conversationWith(23);
    const page = await historyPage(t, startup, conversationId);
    expect(ids(page)).toEqual(sent.slice(3));
    expect(page.edges.map((edge) => edge.node.body)).toEqual(sent.slice(3).map((_, i) => `message ${i + 3}`));
    expect(page.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expectRelayCursors(page);
  });

  it('pages back with last/before: every page chronological, hasPreviousPage exact, no gap or duplicate', async () => {
    const { investor, conversationId, sent } = await conversationWith(23);
    const pages: HistoryConnection[] = [];
    let before: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: HistoryConnection = await historyPage(t, investor, conversationId, { last: 10, before });
      pages.push(page);
      expectRelayCursors(page);
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(pages.map(ids)).toEqual([sent.slice(13), sent.slice(3, 13), sent.slice(0, 3)]);
    expect(pages.map((page) => page.pageInfo.hasPreviousPage)).toEqual([true, true, false]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([false, true, true]);
    expect(pages.reverse().flatMap(ids)).toEqual(sent);
  });

  it('pages forward with first/after: hasNextPage exact, so a client knows when it has caught up', async () => {
    const { startup, conversationId, sent } = await conversationWith(20);
    const first = await historyPage(t, startup, conversationId, { first: 10 });
    expect(ids(first)).toEqual(sent.slice(0, 10));
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    const second = await historyPage(t, startup, conversationId, { first: 10, after: first.pageInfo.endCursor });
    expect(ids(second)).toEqual(sent.slice(10));
    // Exactly the last ten remained: no "maybe more" page.
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expectRelayCursors(second);
    const caughtUp = await historyPage(t, startup, conversationId, { first: 10, after: second.pageInfo.endCursor });
    expect(caughtUp.edges).toEqual([]);
    expect(caughtUp.pageInfo).toEqual({ hasPreviousPage: true, hasNextPage: false, startCursor: null, endCursor: null });
    // Exactly 20 messages: the default page holds them all and says so.
    expect((await historyPage(t, startup, conversationId)).pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: false });
  });

  it('takes Message.cursor of a message as `after` and `before`', async () => {
    const { startup, conversationId, sent } = await conversationWith(5);
    const all = await historyPage(t, startup, conversationId);
    const middle = all.edges[2]!.node;
    expect(ids(await historyPage(t, startup, conversationId, { first: 20, after: middle.cursor }))).toEqual(sent.slice(3));
    expect(ids(await historyPage(t, startup, conversationId, { last: 20, before: middle.cursor }))).toEqual(sent.slice(0, 2));
    expect(ids(await historyPage(t, startup, conversationId, { first: 20, after: all.edges[0]!.cursor, before: all.edges[4]!.cursor }))).toEqual(
      sent.slice(1, 4),
    );
  });

  it('answers an empty page for an empty conversation', async () => {
    const { investor, conversationId } = await chatPair(t);
    expect(await historyPage(t, investor, conversationId)).toEqual({
      edges: [],
      pageInfo: { hasPreviousPage: false, hasNextPage: false, startCursor: null, endCursor: null },
    });
  });

  it('caps first and last at 100', async () => {
    const { investor, conversationId } = await chatPair(t);
    await withClient(t.db.url, (client) =>
      client.query(
        `insert into message (id, conversation_id, sender_id, body, created_at)
         select gen_random_uuid(), $1, $2, 'bulk ' || i, now() - (i || ' seconds')::interval from generate_series(1, 105) i`,
        [conversationId, investor.id],
      ),
    );
    expect((await historyPage(t, investor, conversationId, { first: 500 })).edges).toHaveLength(100);
    const last = await historyPage(t, investor, conversationId, { last: 500 });
    expect(last.edges).toHaveLength(100);
    expect(last.pageInfo.hasPreviousPage).toBe(true);
  });
});

describe('Conversation.messages refuses bad arguments with BAD_USER_INPUT', () => {
  const attempt = (user: SignedIn, id: string, variables: Record<string, unknown>) =>
    t.gql(HISTORY_PAGE, { id, ...variables }, { token: user.tokens.accessToken });

  it('refuses first with last, and negative sizes', async () => {
    const { investor, conversationId } = await chatPair(t);
    const both = await attempt(investor, conversationId, { first: 5, last: 5 });
    expect(fieldErrors(both)).toMatchObject({ first: expect.any(String), last: expect.any(String) });
    expect(errorCode(await attempt(investor, conversationId, { first: -1 }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await attempt(investor, conversationId, { last: -1 }))).toBe('BAD_USER_INPUT');
  });

  it("refuses garbage, a forged cursor that decodes, and another conversation's cursor", async () => {
    const { investor, conversationId, sent } = await conversationWith(2);
    const other = await conversationWith(1);
    const foreign = (await historyPage(t, other.investor, other.conversationId)).edges[0]!.cursor;
    const own = (await historyPage(t, investor, conversationId)).edges[0]!;
    const forged = Buffer.from(JSON.stringify([own.node.createdAt, randomUUID()])).toString('base64url');
    const shifted = Buffer.from(JSON.stringify([new Date(Date.parse(own.node.createdAt) + 1).toISOString(), sent[0]])).toString('base64url');
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const notAUuid = encode([own.node.createdAt, '-'.repeat(36)]);
    const outOfRange = encode(['-200000-01-01T00:00:00.000Z', sent[0]]);
    for (const [name, cursor] of Object.entries({ garbage: 'bogus', forged, shifted, foreign, notAUuid, outOfRange })) {
      for (const argument of ['after', 'before'] as const) {
        const result = await attempt(investor, conversationId, { [argument === 'after' ? 'first' : 'last']: 5, [argument]: cursor });
        expect(fieldErrors(result), `${name} as ${argument}`).toMatchObject({ [argument]: expect.any(String) });
      }
    }
    // The cursors it handed out still work.
    expect(ids(await historyPage(t, investor, conversationId, { first: 5, after: own.cursor }))).toEqual([sent[1]]);
  });
});
