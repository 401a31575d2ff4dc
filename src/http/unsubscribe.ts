import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EntityManager } from '@mikro-orm/postgresql';
import { escapeHtml } from '../mail/templates.js';
import type { UnsubscribeService } from '../modules/notifications/unsubscribe.service.js';

/** The page behind List-Unsubscribe links, built like the /activate page: plain, no sign-in. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:6px;background:#2f6feb;color:#fff;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

// The form posts to this same URL, token included: no script, so it works in any browser.
const CONFIRM_PAGE = page(
  'Stop emails about unread messages',
  `<p>Press the button to stop the emails Forum API sends when a message waits unread while you are away. You can turn them on again in your settings.</p>
<form method="post"><button type="submit">Stop these emails</button></form>`,
);
const DONE_PAGE = page('You are unsubscribed', '<p>You will no longer get emails about unread messages. You can turn them on again in your settings.</p>');
const INVALID_PAGE = page(
  'This link is not valid',
  '<p>The unsubscribe link is incomplete or was changed. Use the link from the email itself, or change your settings after signing in.</p>',
);

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

/**
 * `GET /unsubscribe?token=` shows a button and changes nothing (mail scanners open links);
 * `POST` (the RFC 8058 one-click request mail clients send, or the button) turns
 * `emailOnUnreadMessages` off for the token's user. A forged or altered token is 400.
 */
export function unsubscribeHandler(unsubscribe: UnsubscribeService, fork: () => EntityManager) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST', 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('Method not allowed.');
    }
    req.resume(); // the one-click body ("List-Unsubscribe=One-Click") carries nothing we need
    if (!unsubscribe.isValid(token)) return send(res, 400, INVALID_PAGE);
    if (req.method === 'GET') return send(res, 200, CONFIRM_PAGE);
    await unsubscribe.unsubscribe(fork(), token);
    send(res, 200, DONE_PAGE);
  };
}
