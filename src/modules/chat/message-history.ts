import type { EntityManager } from '@mikro-orm/postgresql';
import { badUserInput } from '../../shared/errors.js';
import { decodeCursor, encodeCursor, pageSize, type KeysetCursor } from '../../shared/pagination.js';
import { isUuid } from '../../shared/validation.js';
import { conversationOfMessageAt, messageWindows } from './chat.repository.js';
import type { MessageView } from './message-view.js';

/** Relay's arguments: `first`/`after` page forward in time, `last`/`before` back. */
export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A message's place in its conversation's history: the `after`/`before` that starts there. */
export const messageCursor = (message: Pick<MessageView, 'createdAt' | 'id'>): string => encodeCursor(message);

/** A cursor's position and the conversation whose message it names. */
interface Anchor extends KeysetCursor {
  conversationId: string;
}

/**
 * A cursor names a message the API gave out: anything else (a forged one that happens to
 * decode) is refused, rather than silently paging from nowhere. Deleted messages stay as
 * tombstones, so a cursor the API gave stays valid. One statement, whatever the number of
 * conversations the page is asked for.
 */
async function anchor(em: EntityManager, cursor: string | null | undefined, argName: 'after' | 'before'): Promise<Anchor | null> {
  const position = decodeCursor(cursor, argName);
  if (!position) return null;
  // A forged cursor can decode to what PostgreSQL would refuse to compare: refuse it first.
  const year = position.createdAt.getUTCFullYear();
  if (!isUuid(position.id) || year < 1970 || year > 9999) throw notIssued(argName);
  const conversationId = await conversationOfMessageAt(em, position);
  if (!conversationId) throw notIssued(argName);
  return { ...position, conversationId };
}

const notIssued = (argName: 'after' | 'before') =>
  badUserInput({ [argName]: 'The cursor is not a message of this conversation; use a cursor this API returned.' });

export type HistoryPage = ReturnType<typeof toPage>;

/**
 * Pages of history as Relay connections, one per conversation (the same arguments for all):
 * edges oldest to newest on every page. `first` takes the oldest messages after `after`, `last`
 * (the default, 20) the newest before `before`. Both `hasPreviousPage` and `hasNextPage` are
 * exact: a page taken past a cursor has that cursor's message on its other side, and the
 * `limit + 1`th row tells the rest. At most three statements whatever the number of
 * conversations, so a document that nests `messages` under many conversations stays bounded
 * (API.md Rate limits). A conversation the cursor does not belong to gets BAD_USER_INPUT.
 */
export async function listMessagePages(em: EntityManager, conversationIds: readonly string[], args: HistoryArgs): Promise<Array<HistoryPage | Error>> {
  if (args.first != null && args.last != null) {
    const message = 'Pass either first (with after) or last (with before), not both.';
    throw badUserInput({ first: message, last: message });
  }
  const forward = args.first != null;
  const limit = forward ? pageSize(args.first, 'first') : pageSize(args.last, 'last');
  const after = await anchor(em, args.after, 'after');
  const before = await anchor(em, args.before, 'before');
  const mismatch = (conversationId: string) =>
    after && after.conversationId !== conversationId ? notIssued('after') : before && before.conversationId !== conversationId ? notIssued('before') : null;
  const readable = conversationIds.filter((id) => !mismatch(id));

  const messages = readable.length === 0 ? [] : await messageWindows(em, readable, { after, before, forward, limit: limit + 1 });
  const byConversation = new Map<string, MessageView[]>();
  for (const message of messages) byConversation.set(message.conversationId, [...(byConversation.get(message.conversationId) ?? []), message]);
  return conversationIds.map((id) => mismatch(id) ?? toPage(byConversation.get(id) ?? [], limit, forward, after !== null, before !== null));
}

function toPage(messages: MessageView[], limit: number, forward: boolean, hasAfter: boolean, hasBefore: boolean) {
  const more = messages.length > limit;
  const page = messages.slice(0, limit);
  if (!forward) page.reverse();
  const edges = page.map((node) => ({ cursor: messageCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasPreviousPage: (!forward && more) || hasAfter,
      hasNextPage: (forward && more) || hasBefore,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
