import { useQuery } from 'urql';
import { useEffect, useSyncExternalStore, type ReactElement } from 'react';
import { useLiveFeeds } from './chat/use-live-feeds';
import { CONVERSATIONS, ME, type ConversationsResult, type MeResult, type Viewer } from './graphql/documents';
import type { SocketState } from './graphql/socket';
import { ActivatePage } from './pages/activate';
import { BrowsePage } from './pages/browse';
import { CONVERSATION_PAGE, ChatsPage } from './pages/chats';
import { RegisterPage } from './pages/register';
import { SessionsPage } from './pages/sessions';
import { SignInPage } from './pages/sign-in';
import { Link, navigate, usePath } from './router';
import { useSession } from './session';
import { companyOf } from './ui/names';

export function App() {
  const path = usePath();
  const { signedIn, endedBecause } = useSession();

  if (path === '/activate') return <ActivatePage />;
  if (!signedIn) {
    if (path === '/register') return <RegisterPage />;
    return <Redirect unless={path === '/sign-in'} to="/sign-in" then={<SignInPage endedBecause={endedBecause} />} />;
  }
  return <SignedIn path={path} />;
}

function Redirect({ unless, to, then }: { unless: boolean; to: string; then: ReactElement | null }) {
  useEffect(() => {
    if (!unless) navigate(to, { replace: true });
  }, [unless, to]);
  return then;
}

function SignedIn({ path }: { path: string }) {
  const { live } = useSession();
  const [{ data, error }] = useQuery<MeResult>({ query: ME });
  useLiveFeeds(live);
  const viewer = data?.me;
  if (!viewer) return <p className="muted page">{error ? 'Could not load your account.' : 'Loading…'}</p>;

  const chat = path.match(/^\/chats(?:\/([\w-]+))?$/);
  let page: ReactElement;
  if (path === '/browse') page = <BrowsePage viewerRole={viewer.role} />;
  else if (path === '/sessions') page = <SessionsPage />;
  else if (chat) page = <ChatsPage viewer={viewer} openId={chat[1] ?? null} />;
  else page = <Redirect unless={false} to="/chats" then={null} />;

  return (
    <>
      <Header viewer={viewer} path={path} />
      {page}
    </>
  );
}

function Header({ viewer, path }: { viewer: Viewer; path: string }) {
  const { signOut, socket } = useSession();
  const [{ data }] = useQuery<ConversationsResult>({ query: CONVERSATIONS, variables: CONVERSATION_PAGE });
  const unread = data?.conversations.edges.reduce((sum, edge) => sum + edge.node.unreadCount, 0) ?? 0;
  const state = useSyncExternalStore(
    (listener) => socket?.subscribe(listener) ?? (() => {}),
    () => socket?.state() ?? ('offline' as SocketState),
  );
  const tab = (to: string, label: string, extra?: ReactElement) => (
    <Link to={to} aria-current={path.startsWith(to) ? 'page' : undefined}>
      {label}
      {extra}
    </Link>
  );
  return (
    <header className="top">
      <strong className="brand">Forum</strong>
      <nav>
        {tab(
          '/chats',
          'Chats',
          unread > 0 ? (
            // biome-ignore lint/a11y/useAriaPropsSupportedByRole: the label is how the count is named (the e2e test finds the badge by it); a role would change what readers announce
            <span className="badge" aria-label={`${unread} unread`}>
              {unread}
            </span>
          ) : undefined,
        )}
        {tab('/browse', 'Browse')}
        {tab('/sessions', 'Sessions')}
      </nav>
      <span className={`connection ${state}`} data-testid="connection" title="Live updates">
        {state === 'connected' ? 'live' : state === 'connecting' ? 'connecting…' : 'offline, reconnecting…'}
      </span>
      <span className="who">{companyOf(viewer)}</span>
      <button type="button" className="secondary" onClick={() => void signOut()}>
        Sign out
      </button>
    </header>
  );
}
