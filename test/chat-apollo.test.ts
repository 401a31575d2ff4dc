import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { HISTORY_PAGE, chatPair, sendMessage } from './helpers/chat.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.stop();
});

const History = gql(HISTORY_PAGE);

interface Page {
  conversation: {
    messages: {
      edges: { cursor: string; node: { id: string; body: string } }[];
      pageInfo: { hasPreviousPage: boolean; hasNextPage: boolean; startCursor: string; endCursor: string };
    };
  };
}

/** Apollo Client as a chat front end configures it: the stock Relay helper on the history field. */
function apolloClient(accessToken: string) {
  return new ApolloClient({
    link: new HttpLink({ uri: `${t.url}/graphql`, headers: { authorization: `Bearer ${accessToken}` } }),
    cache: new InMemoryCache({ typePolicies: { Conversation: { fields: { messages: relayStylePagination() } } } }),
  });
}

describe('a chat front end on Apollo Client', () => {
  it('merges history pages into one chronological list with relayStylePagination(): paging back, then catching up', async () => {
    const { investor, startup, conversationId } = await chatPair(t);
    for (let i = 0; i < 5; i++) await sendMessage(t, i % 2 ? startup : investor, conversationId, `m${i}`);
    const client = apolloClient(startup.tokens.accessToken);
    const thread = client.watchQuery<Page>({ query: History, variables: { id: conversationId, last: 2 } });
    const seen: string[][] = [];
    const subscription = thread.subscribe((result) => {
      if (result.data && 'conversation' in result.data) seen.push((result.data as Page).conversation.messages.edges.map((edge) => edge.node.body));
    });
    try {
      const bodies = (page: Page) => page.conversation.messages.edges.map((edge) => edge.node.body);
      const current = () => client.readQuery<Page>({ query: History, variables: { id: conversationId, last: 2 } })!;

      const first = await client.query<Page>({ query: History, variables: { id: conversationId, last: 2 } });
      expect(bodies(first.data!)).toEqual(['m3', 'm4']);
      await thread.fetchMore({ variables: { before: current().conversation.messages.pageInfo.startCursor } });
      expect(bodies(current())).toEqual(['m1', 'm2', 'm3', 'm4']);
      expect(current().conversation.messages.pageInfo.hasPreviousPage).toBe(true);

      // Messages arrive while the app was away; it catches up from the newest message it holds.
      await sendMessage(t, investor, conversationId, 'm5');
      await sendMessage(t, startup, conversationId, 'm6');
      await thread.fetchMore({ variables: { last: undefined, first: 20, after: current().conversation.messages.pageInfo.endCursor } });
      expect(bodies(current())).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(current().conversation.messages.pageInfo.hasNextPage).toBe(false);

      await thread.fetchMore({ variables: { before: current().conversation.messages.pageInfo.startCursor } });
      expect(bodies(current())).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
      expect(current().conversation.messages.pageInfo.hasPreviousPage).toBe(false);
      // A component watching the query renders the merged list too.
      await vi.waitFor(() => expect(seen.at(-1)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']));
    } finally {
      subscription.unsubscribe();
      client.stop();
    }
  });
});
