import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useClient, useMutation, useQuery, type OperationResult } from 'urql';
import {
  CONVERSATION_EVENTS,
  DELETE_MESSAGE,
  EDIT_MESSAGE,
  HISTORY,
  MARK_READ,
  PRESENCE_STATE,
  READ_STATE,
  SEND_MESSAGE,
  SET_TYPING,
  type ConversationEventsResult,
  type HistoryMessage,
  type HistoryResult,
  type PresenceStateResult,
  type ReadStateResult,
  type SendMessageResult,
  type UserSummary,
} from '../graphql/documents';
import { errorMessage } from '../graphql/errors';
import { useSession } from '../session';
import { Alert } from '../ui/form';
import { companyOf, dateTimeOf, timeOf } from '../ui/names';
import { mergeMessages } from './live-messages';

const PAGE = 30;
const CATCH_UP_PAGE = 100;
/** setTyping(true) lasts TYPING_TIMEOUT_SECONDS (5 by default) on the server: renew before it ends. */
const TYPING_RENEW_MS = 3_000;

interface ThreadProps {
  conversationId: string;
  viewerId: string;
  partner: UserSummary;
  unreadCount: number;
}

export function Thread({ conversationId, viewerId, partner, unreadCount }: ThreadProps) {
  const client = useClient();
  const { live, socket } = useSession();
  const [before, setBefore] = useState<string | null>(null);
  const [history, reloadHistory] = useQuery<HistoryResult>({
    query: HISTORY,
    variables: { id: conversationId, last: PAGE, ...(before ? { before } : {}) },
  });
  // Read marks and presence are separate queries: each degrades alone on a server without it.
  const [readState, reloadReadState] = useQuery<ReadStateResult>({ query: READ_STATE, variables: { id: conversationId } });
  const [presence, reloadPresence] = useQuery<PresenceStateResult>({ query: PRESENCE_STATE, variables: { id: conversationId } });
  const liveMessages = useSyncExternalStore(live.subscribe, () => live.of(conversationId));
  const connection = history.data?.conversation?.messages;
  const messages = mergeMessages(connection?.edges.map((edge) => edge.node) ?? [], liveMessages);
  const peerTyping = usePeerTyping(conversationId, viewerId);

  // Catch-up after a reconnect: everything after the newest message history holds, page by page
  // (relayPagination appends these pages), so nothing sent while offline is missing or doubled.
  const endCursor = useRef<string | null>(null);
  endCursor.current = connection?.pageInfo.endCursor ?? null;
  useEffect(
    () =>
      socket?.subscribe((_state, reconnected) => {
        if (!reconnected) return;
        reloadReadState({ requestPolicy: 'network-only' });
        reloadPresence({ requestPolicy: 'network-only' });
        void (async () => {
          let after = endCursor.current;
          if (!after) return reloadHistory({ requestPolicy: 'network-only' });
          for (;;) {
            const result: OperationResult<HistoryResult> = await client
              .query<HistoryResult>(HISTORY, { id: conversationId, first: CATCH_UP_PAGE, after }, { requestPolicy: 'network-only' })
              .toPromise();
            const page = result.data?.conversation?.messages;
            if (!page?.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
            after = page.pageInfo.endCursor;
          }
        })();
      }),
    [socket, client, conversationId, reloadHistory, reloadReadState, reloadPresence],
  );

  // Reading the thread clears its unread badge (and moves the read mark the partner sees).
  const [, markRead] = useMutation(MARK_READ);
  useEffect(() => {
    if (unreadCount > 0) void markRead({ conversationId });
  }, [unreadCount, conversationId, markRead]);

  const bottom = useRef<HTMLDivElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: messages.length is the trigger (scroll when one arrives), not an input
  useEffect(() => {
    // Braces matter: newer Chromium returns a Promise from scrollIntoView, which React would take for a cleanup.
    void bottom.current?.scrollIntoView({ block: 'end' });
  }, [messages.length]);

  const partnerState = presence.data?.conversation?.participants.find((p) => p.id === partner.id);
  const peerLastReadAt = readState.data?.conversation?.peerLastReadAt ?? null;
  const lastOwnSeen = [...messages].reverse().find((m) => m.sender.id === viewerId && peerLastReadAt !== null && m.createdAt <= peerLastReadAt);

  return (
    <section className="thread" aria-label={`Conversation with ${companyOf(partner)}`}>
      <header className="thread-header">
        <h2>{companyOf(partner)}</h2>
        <Presence online={partnerState?.online ?? null} lastSeenAt={partnerState?.lastSeenAt ?? null} />
      </header>
      <div className="messages" role="log" aria-label="Messages">
        {connection?.pageInfo.hasPreviousPage && (
          <button type="button" className="secondary load-older" onClick={() => setBefore(connection.pageInfo.startCursor)} disabled={history.fetching}>
            Load older messages
          </button>
        )}
        {messages.map((message) => (
          <MessageItem key={message.id} conversationId={conversationId} message={message} own={message.sender.id === viewerId} seen={message === lastOwnSeen} />
        ))}
        <div ref={bottom} />
      </div>
      <p className="typing" aria-live="polite">
        {peerTyping ? `${companyOf(partner)} is typing…` : ''}
      </p>
      <Composer conversationId={conversationId} />
    </section>
  );
}

function Presence({ online, lastSeenAt }: { online: boolean | null; lastSeenAt: string | null }) {
  if (online === null) return null;
  return (
    <span className={`presence ${online ? 'online' : 'offline'}`} data-testid="presence">
      {online ? 'online' : lastSeenAt ? `last seen ${dateTimeOf(lastSeenAt)}` : 'offline'}
    </span>
  );
}

/** The partner's typing state from conversationEvents; also feeds edits and new messages to the live store. */
function usePeerTyping(conversationId: string, viewerId: string): boolean {
  const client = useClient();
  const { live } = useSession();
  const [typing, setTyping] = useState(false);
  useEffect(() => {
    let staleTimer: ReturnType<typeof setTimeout> | undefined;
    const events = client.subscription<ConversationEventsResult>(CONVERSATION_EVENTS, { conversationId }).subscribe((result) => {
      const event = result.data?.conversationEvents;
      if (!event) return;
      if (event.__typename === 'TypingEvent' && event.user.id !== viewerId) {
        setTyping(event.typing);
        // The server always ends typing, but a lost end event must not leave it on forever.
        clearTimeout(staleTimer);
        if (event.typing) staleTimer = setTimeout(() => setTyping(false), 10_000);
      } else if (event.__typename === 'MessageSentEvent' || event.__typename === 'MessageEditedEvent' || event.__typename === 'MessageDeletedEvent') {
        if (event.__typename === 'MessageSentEvent' && event.message.sender.id !== viewerId) setTyping(false);
        live.upsert(conversationId, event.message);
      }
    });
    return () => {
      clearTimeout(staleTimer);
      events.unsubscribe();
      setTyping(false);
    };
  }, [client, live, conversationId, viewerId]);
  return typing;
}

function MessageItem({ conversationId, message, own, seen }: { conversationId: string; message: HistoryMessage; own: boolean; seen: boolean }) {
  const { live } = useSession();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.body);
  const [edited, edit] = useMutation<{ editMessage: HistoryMessage }>(EDIT_MESSAGE);
  const [, remove] = useMutation<{ deleteMessage: HistoryMessage }>(DELETE_MESSAGE);
  const deleted = message.deletedAt !== null;

  const save = async (event: FormEvent) => {
    event.preventDefault();
    const result = await edit({ id: message.id, body: draft });
    if (result.data) {
      setEditing(false);
      live.upsert(conversationId, { ...message, ...result.data.editMessage });
    }
  };
  const onDelete = async () => {
    const result = await remove({ id: message.id });
    if (result.data) live.upsert(conversationId, { ...message, ...result.data.deleteMessage });
  };

  return (
    <article className={`message ${own ? 'own' : 'theirs'}${deleted ? ' deleted' : ''}`} data-testid="message" data-message-id={message.id}>
      {editing ? (
        <form onSubmit={save} className="edit">
          {/* biome-ignore lint/a11y/noAutofocus: the box opens because the user clicked Edit; typing should go into it */}
          <input aria-label="Edit message" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
          <button type="submit">Save</button>
          <button type="button" className="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
          <Alert>{errorMessage(edited.error)}</Alert>
        </form>
      ) : (
        <p className="body">{deleted ? 'Message deleted' : message.body}</p>
      )}
      <footer>
        <time dateTime={message.createdAt}>{timeOf(message.createdAt)}</time>
        {message.editedAt && !deleted && <span className="muted"> · edited</span>}
        {seen && <span className="seen"> · Seen</span>}
        {own && !deleted && !editing && (
          <span className="actions">
            <button
              type="button"
              className="link"
              onClick={() => {
                setDraft(message.body);
                setEditing(true);
              }}
            >
              Edit
            </button>
            <button type="button" className="link" onClick={() => void onDelete()}>
              Delete
            </button>
          </span>
        )}
      </footer>
    </article>
  );
}

function Composer({ conversationId }: { conversationId: string }) {
  const client = useClient();
  const { live } = useSession();
  const [body, setBody] = useState('');
  const [sent, send] = useMutation<SendMessageResult>(SEND_MESSAGE);
  const typingSince = useRef(0);

  const setTyping = (typing: boolean) => {
    // Typing is best effort (and absent from servers before API revision 2): failures are ignored.
    void client.mutation(SET_TYPING, { conversationId, typing }).toPromise();
  };
  const onChange = (value: string) => {
    setBody(value);
    if (value.trim() && Date.now() - typingSince.current > TYPING_RENEW_MS) {
      typingSince.current = Date.now();
      setTyping(true);
    } else if (!value.trim() && typingSince.current) {
      typingSince.current = 0;
      setTyping(false);
    }
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!body.trim()) return;
    // Sending ends the typing state on the server.
    typingSince.current = 0;
    const result = await send({ conversationId, body });
    if (result.data) {
      const message = result.data.sendMessage;
      live.addNew(conversationId, message);
      setBody('');
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <input aria-label="Message" placeholder="Write a message" value={body} maxLength={4000} onChange={(e) => onChange(e.target.value)} />
      <button type="submit" disabled={sent.fetching || !body.trim()}>
        Send
      </button>
      <Alert>{errorMessage(sent.error)}</Alert>
    </form>
  );
}
