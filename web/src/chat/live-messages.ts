import type { HistoryMessage } from '../graphql/documents';

/**
 * Messages that arrived over the socket, per conversation, until history (fetched again after a
 * reconnect) holds them too; the thread shows the union, deduplicated by id.
 */
export class LiveMessages {
  private readonly byConversation = new Map<string, HistoryMessage[]>();
  private readonly listeners = new Set<() => void>();

  /** A message just sent (by anyone), which by definition is neither edited nor deleted yet. */
  addNew(conversationId: string, message: Pick<HistoryMessage, 'id' | 'body' | 'createdAt' | 'sender'>): void {
    this.upsert(conversationId, { id: message.id, body: message.body, createdAt: message.createdAt, editedAt: null, deletedAt: null, sender: message.sender });
  }

  upsert(conversationId: string, message: HistoryMessage): void {
    const list = this.byConversation.get(conversationId) ?? [];
    const index = list.findIndex((m) => m.id === message.id);
    const next = index === -1 ? [...list, message] : list.map((m, i) => (i === index ? { ...m, ...message } : m));
    this.byConversation.set(conversationId, next);
    this.listeners.forEach((listener) => listener());
  }

  /** A stable array per change, for useSyncExternalStore. */
  of(conversationId: string): HistoryMessage[] {
    return this.byConversation.get(conversationId) ?? EMPTY;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}

const EMPTY: HistoryMessage[] = [];

/** History and live messages as one chronological list, each message once. */
export function mergeMessages(history: HistoryMessage[], live: HistoryMessage[]): HistoryMessage[] {
  const byId = new Map<string, HistoryMessage>();
  for (const message of live) byId.set(message.id, message);
  // History comes from the normalized cache, so it carries the latest edit of each message.
  for (const message of history) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}
