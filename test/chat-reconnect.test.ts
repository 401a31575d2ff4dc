import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { chatPair, historyPage, sendMessage, until, type HistoryConnection, type SignedIn } from './helpers/chat.js';
import { wsRequest, type CloseInfo } from './helpers/ws.js';
import { sleep, whenLive } from './helpers/time.js';
import { dataOf } from './helpers/graphql.js';

// B owns the database; A shares it and is the one that goes away (a deploy, a crash, a restart).
let a: TestApp;
let b: TestApp;
let aStopped = false;
beforeAll(async () => {
  b = await startTestApp();
  a = await startTestApp({ db: b.db, inbox: b.inbox });
});
afterAll(async () => {
  if (!aStopped) await a?.stop();
  await b?.stop();
});

interface Held {
  id: string;
  body: string;
  createdAt: string;
  cursor: string;
}

const CATCH_UP = /* GraphQL */ `
  query CatchUp($id: ID!, $after: String) {
    conversation(id: $id) {
      messages(first: 100, after: $after) {
        edges { node { id body createdAt cursor } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

/**
 * A chat screen as README "Chat" recommends writing it: messages live from `messageSent`, and
 * after every reconnect a catch-up over the same socket with `messages(first, after: <cursor of
 * the newest message held>)`; kept in history order and deduplicated by id.
 */
class ChatScreen {
  readonly held = new Map<string, Held>();
  readonly closes: CloseInfo[] = [];
  readonly catchUps: Promise<void>[] = [];
  readonly client: Client;

  constructor(
    private url: string,
    private readonly viewer: SignedIn,
    private readonly conversationId: string,
  ) {
    this.client = createClient({
      url: () => this.url,
      webSocketImpl: WebSocket,
      connectionParams: () => ({ authorization: `Bearer ${this.viewer.tokens.accessToken}` }),
      retryAttempts: 50,
      shouldRetry: () => true,
      retryWait: () => sleep(50),
      on: {
        closed: (event) => void this.closes.push({ code: (event as CloseInfo).code, reason: String((event as CloseInfo).reason) }),
        // The subscription is re-sent first (graphql-ws does it), then the catch-up on the same socket.
        connected: (_socket, _payload, wasRetry) => {
          if (wasRetry) this.catchUps.push(this.catchUp());
        },
      },
    });
    this.client.subscribe<{ messageSent: Held }>(
      { query: `subscription($id: ID!) { messageSent(conversationId: $id) { id body createdAt cursor } }`, variables: { id: conversationId } },
      { next: (result) => result.data && this.add(result.data.messageSent), error: () => {}, complete: () => {} },
    );
  }

  /** What a screen shows when it opens: the newest page. */
  async loadRecent(): Promise<void> {
    const result = await wsRequest<{ conversation: { messages: { edges: { node: Held }[] } } }>(
      this.client,
      `query($id: ID!) { conversation(id: $id) { messages(last: 100) { edges { node { id body createdAt cursor } } } } }`,
      { id: this.conversationId },
    );
    for (const edge of result.data?.conversation.messages.edges ?? []) this.add(edge.node);
  }

  moveTo(url: string) {
    this.url = url;
  }

  /** In history order: (createdAt, id), as Conversation.messages orders them. */
  list(): Held[] {
    return [...this.held.values()].sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id));
  }

  private add(message: Held) {
    this.held.set(message.id, message);
  }

  private async catchUp(): Promise<void> {
    let after: string | null = this.list().at(-1)?.cursor ?? null;
    for (;;) {
      const result = await wsRequest<{ conversation: { messages: HistoryConnection & { edges: { node: Held }[] } } }>(this.client, CATCH_UP, {
        id: this.conversationId,
        after,
      });
      const { edges, pageInfo } = dataOf(result, 'catch-up').conversation.messages;
      for (const edge of edges) this.add(edge.node);
      if (!pageInfo.hasNextPage) return;
      after = pageInfo.endCursor;
    }
  }
}

/** The whole history, oldest first, paged forward as a client would. */
async function fullHistory(t: TestApp, user: SignedIn, conversationId: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page: HistoryConnection = await historyPage(t, user, conversationId, { first: 100, after });
    ids.push(...page.edges.map((edge) => edge.node.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
}

describe('catching up after a reconnect (graphql-ws)', () => {
  it('ends with exactly the full history, in order, after the server closed the socket and messages were sent meanwhile and during the reconnect', async () => {
    const { investor, startup, conversationId } = await chatPair(b);
    const screen = new ChatScreen(a.wsUrl, startup, conversationId);
    try {
      await whenLive(
        () => sendMessage(a, investor, conversationId, 'probe'),
        () => screen.held.size > 0,
      );
      await screen.loadRecent();
      for (let i = 0; i < 3; i++) await sendMessage(a, investor, conversationId, `live ${i}`);
      await until(() => [...screen.held.values()].some((message) => message.body === 'live 2'), 'the live messages');

      // Instance A goes away: it closes its sockets itself (1001), and the screen reconnects to B.
      screen.moveTo(b.wsUrl);
      let sending = true;
      const sentMeanwhile: Promise<unknown>[] = [];
      const sender = (async () => {
        for (let i = 0; sending; i++) {
          sentMeanwhile.push(sendMessage(b, i % 3 ? investor : startup, conversationId, `meanwhile ${i}`));
          await sleep(15); // a steady trickle of messages while the screen moves
        }
      })();
      await a.stop();
      aStopped = true;
      expect(screen.closes[0]).toMatchObject({ code: 1001 });
      await until(() => screen.catchUps.length > 0, 'the reconnect', 10_000);
      await Promise.all(screen.catchUps);
      sending = false;
      await sender;
      await Promise.all(sentMeanwhile);

      // A last message proves the live subscription is back; then the screen must hold everything.
      const last = await sendMessage(b, investor, conversationId, 'after the reconnect');
      await until(() => screen.held.has(last.id), 'the message after the reconnect', 10_000);
      const history = await fullHistory(b, startup, conversationId);
      expect(sentMeanwhile.length).toBeGreaterThan(3);
      expect(screen.list().map((message) => message.id)).toEqual(history);
    } finally {
      await screen.client.dispose();
    }
  });
});
