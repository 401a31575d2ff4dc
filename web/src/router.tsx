import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';
import { BASE_PATH } from './config';

// A dozen lines of routing instead of a router dependency: the client has six screens.
const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((listener) => listener()));

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};
const currentPath = () => window.location.pathname.slice(BASE_PATH.length).replace(/\/$/, '') || '/';

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  window.history[options.replace ? 'replaceState' : 'pushState'](null, '', BASE_PATH + to);
  listeners.forEach((listener) => listener());
}

/** The path below /app, e.g. "/chats/12". */
export const usePath = (): string => useSyncExternalStore(subscribe, currentPath);

export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={BASE_PATH + to} onClick={onClick} {...props} />;
}
