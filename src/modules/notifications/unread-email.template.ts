import { escapeHtml, layout, type MailContent } from '../../mail/templates.js';

export const PREVIEW_MAX_CHARACTERS = 200;

export interface UnreadEmailFacts {
  appUrl: string;
  conversationId: string;
  senderCompany: string;
  unreadCount: number;
  newestBody: string;
  unsubscribeUrl: string;
}

/** At most 200 characters as people count them (an emoji is one), with an ellipsis when cut. */
export function preview(body: string): string {
  const characters = [...body.replace(/\s+/g, ' ').trim()];
  return characters.length <= PREVIEW_MAX_CHARACTERS ? characters.join('') : `${characters.slice(0, PREVIEW_MAX_CHARACTERS - 1).join('')}…`;
}

/** "You have unread messages", with RFC 8058 one-click unsubscribe headers. */
export function unreadMessagesEmail(facts: UnreadEmailFacts): MailContent {
  const link = `${facts.appUrl}/conversations/${facts.conversationId}`;
  const count = facts.unreadCount === 1 ? '1 unread message' : `${facts.unreadCount} unread messages`;
  const quoted = preview(facts.newestBody);
  const intro = `${facts.senderCompany} wrote to you on Forum API: ${count}.`;
  return {
    kind: 'unread_messages',
    subject: `${facts.senderCompany}: ${count} on Forum API`,
    text: `${intro}\n\n“${quoted}”\n\nRead and reply: ${link}\n\nYou get this email because a message waited while you were away. Stop these emails: ${facts.unsubscribeUrl}\n`,
    html: layout(`${count} from ${facts.senderCompany}`, [intro, `“${quoted}”`], { label: 'Read and reply', href: link }).replace(
      '</body>',
      `<p style="color:#666;font-size:13px"><a href="${escapeHtml(facts.unsubscribeUrl)}">Stop emails about unread messages</a></p>\n</body>`,
    ),
    headers: {
      'List-Unsubscribe': `<${facts.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
