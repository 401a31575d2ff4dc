import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../../db.js';
import { badUserInput } from '../../graphql/errors.js';
import { decodeCursor, encodeCursor, pageSize, type KeysetCursor } from '../../graphql/pagination.js';
import { isUuid } from '../../validation.js';
import { MESSAGE_COLUMNS, messageFromRow, type MessageRow, type MessageView } from './message-view.js';

/** Relay's arguments: `first`/`after` page forward in time, `last`/`before` back. */
export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A message's place in its conversation's history: the `after`/`before` that starts there. */
export const messageCursor = (message: Pick<MessageView, 'createdAt' | 'id'>): string => encodeCursor(message);

/**
 * A cursor names a message of this very conversation: anything else (another conversation's,
 * a forged one that happens to decode) is refused, rather than silently paging from nowhere.
 * Deleted messages stay as tombstones, so a cursor the API gave stays valid.
 */
async function anchor(em: EntityManager, conversationId: string, cursor: string | null | undefined, argName: 'after' | 'before'): Promise<KeysetCursor | null> {
  const position = decodeCursor(cursor, argName);
  if (!position) return null;
  const notIssued = () => badUserInput({ [argName]: 'The cursor is not a message of this conversation; use a cursor this API returned.' });
  // A forged cursor can decode to what PostgreSQL would refuse to compare: refuse it first.
  const year = position.createdAt.getUTCFullYear();
  if (!isUuid(position.id) || year < 1970 || year > 9999) throw notIssued();
  const rows = await sql<object[]>(em, `select 1 from "message" where "id" = ?::uuid and "conversation_id" = ? and "created_at" = ?`, [
    position.id,
    conversationId,
    position.createdAt,
  ]);
  if (rows.length === 0) throw notIssued();
  return position;
}

/**
 * One page of a conversation's history as a Relay connection: edges oldest to newest on every
 * page. `first` takes the oldest messages after `after`, `last` (the default, 20) the newest
 * before `before`. Both `hasPreviousPage` and `hasNextPage` are exact: a page taken past a
 * cursor has that cursor's message on its other side, and the `limit + 1`th row tells the rest.
 */
export async function listMessages(em: EntityManager, conversationId: string, args: HistoryArgs) {
  if (args.first != null && args.last != null) {
    const message = 'Pass either first (with after) or last (with before), not both.';
    throw badUserInput({ first: message, last: message });
  }
  const forward = args.first != null;
  const limit = forward ? pageSize(args.first, 'first') : pageSize(args.last, 'last');
  const after = await anchor(em, conversationId, args.after, 'after');
  const before = await anchor(em, conversationId, args.before, 'before');

  const conditions = [`"conversation_id" = ?`];
  const params: unknown[] = [conversationId];
  if (after) {
    conditions.push(`("created_at", "id") > (?::timestamptz, ?::uuid)`);
    params.push(after.createdAt, after.id);
  }
  if (before) {
    conditions.push(`("created_at", "id") < (?::timestamptz, ?::uuid)`);
    params.push(before.createdAt, before.id);
  }
  const direction = forward ? 'asc' : 'desc';
  const rows = await sql<MessageRow[]>(
    em,
    `select ${MESSAGE_COLUMNS} from "message" where ${conditions.join(' and ')}
     order by "created_at" ${direction}, "id" ${direction} limit ?`,
    [...params, limit + 1],
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map(messageFromRow);
  if (!forward) page.reverse();
  const edges = page.map((node) => ({ cursor: messageCursor(node), node }));
  return {
    edges,
    pageInfo: {
      hasPreviousPage: (!forward && more) || after !== null,
      hasNextPage: (forward && more) || before !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
