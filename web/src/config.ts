/**
 * Where the API is. Built into the API's /app (or proxied by `npm run dev:web`), the client
 * talks to its own origin; VITE_API_URL points a separately hosted build at another origin
 * (that origin must then be in the API's CORS_ORIGINS).
 */
const apiOrigin = (import.meta.env.VITE_API_URL as string | undefined) ?? window.location.origin;

export const GRAPHQL_HTTP_URL = new URL('/graphql', apiOrigin).toString();
export const GRAPHQL_WS_URL = GRAPHQL_HTTP_URL.replace(/^http/, 'ws');

/** The client's routes live under the path Vite builds for (/app/). */
export const BASE_PATH = import.meta.env.BASE_URL.replace(/\/$/, '');
