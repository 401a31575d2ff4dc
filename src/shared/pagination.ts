import { isUuid } from './validation.js';
import { badUserInput } from './errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** The position of a row in a (createdAt, id) keyset order. */
export interface KeysetCursor {
  createdAt: Date;
  id: string;
}

/** The forward-paging arguments of a Relay connection field. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** `first` as clients send it: absent means the default; above the cap means the cap; below 1 is an error. */
export function pageSize(first: number | null | undefined, argName = 'first'): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badUserInput({ [argName]: `${argName} must be a non-negative integer.` });
  return Math.min(first, MAX_PAGE_SIZE);
}

/** Opaque to clients: base64url of the keyset position. */
export function encodeCursor({ createdAt, id }: KeysetCursor): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, argName = 'after'): KeysetCursor | null {
  if (cursor == null) return null;
  try {
    if (cursor.length > 200) throw new Error('too long');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      // Only what encodeCursor writes: a canonical ISO time PostgreSQL can hold, and a UUID.
      const createdAt = new Date(value[0]);
      const year = createdAt.getUTCFullYear();
      if (year >= 1970 && year <= 9999 && createdAt.toISOString() === value[0] && isUuid(value[1])) return { createdAt, id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw badUserInput({ [argName]: 'The cursor is not valid; use a cursor this API returned.' });
}

/**
 * Builds a Relay connection from rows fetched with `limit + 1` (the extra row only tells
 * whether there is a next page).
 */
export function toConnection<T extends KeysetCursor>(rows: T[], limit: number) {
  return toKeysetConnection(rows, limit, (row) => row);
}

/**
 * A connection over rows ordered by a keyset that is not their `createdAt` (an inbox ordered by
 * last activity): `position` says where each row sits. Same `limit + 1` convention as above.
 */
export function toKeysetConnection<T>(rows: T[], limit: number, position: (row: T) => KeysetCursor) {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(position(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
