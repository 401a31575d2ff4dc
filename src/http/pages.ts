import { ACTIVATE_PAGE } from './activate-page.js';
import { RESET_PASSWORD_PAGE } from './reset-password-page.js';
import { StaticAsset } from './static-asset.js';

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6feb"/><path d="M9 8h14v4H14v3h8v4h-8v6H9z" fill="#fff"/></svg>`;

/** Whether a request to /graphql is a browser asking for GraphiQL (Yoga's own rule). */
export function wantsGraphiQL(method: string | undefined, accept: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && (accept ?? '').includes('text/html');
}

// Built once per process: every app of a process serves the same bytes, compressed once.
let graphiql: Promise<StaticAsset> | undefined;
let activate: StaticAsset | undefined;
let resetPassword: StaticAsset | undefined;
let favicon: StaticAsset | undefined;

/**
 * GraphiQL with every asset inline (it must work offline), 9 MB of HTML. Its subscriptions use
 * SSE: that mode sends the headers editor's Authorization, while its WebSocket mode sends no
 * token and would be refused (4403). The renderer is imported on first use: its inlined bundle
 * costs ~35 MB of RSS, which a server with GraphiQL off (production) never pays.
 */
export const graphiqlPage = () =>
  (graphiql ??= import('@graphql-yoga/render-graphiql').then(
    ({ renderGraphiQL }) =>
      new StaticAsset(renderGraphiQL({ title: 'Forum API', subscriptionsProtocol: 'SSE' }), {
        contentType: 'text/html; charset=utf-8',
        // Revalidated on every load (a new version must show at once), answered 304 when unchanged.
        cacheControl: 'no-cache',
        vary: ['Accept'],
      }),
  ));

export const activatePage = () => (activate ??= new StaticAsset(ACTIVATE_PAGE, { contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' }));

export const resetPasswordPage = () =>
  (resetPassword ??= new StaticAsset(RESET_PASSWORD_PAGE, { contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache' }));

export const faviconAsset = () => (favicon ??= new StaticAsset(FAVICON_SVG, { contentType: 'image/svg+xml', cacheControl: 'public, max-age=86400' }));

/** Compresses the pages a server will serve, so that no visitor waits for it (called at start). */
export async function warmPages(withGraphiQL: boolean): Promise<void> {
  await Promise.all([
    activatePage().warm(),
    resetPasswordPage().warm(),
    faviconAsset().warm(),
    withGraphiQL ? graphiqlPage().then((page) => page.warm()) : undefined,
  ]);
}
