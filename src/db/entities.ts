import { EmailToken } from '../modules/auth/email-token.entity.js';
import { RefreshToken } from '../modules/auth/refresh-token.entity.js';
import { Session } from '../modules/auth/session.entity.js';
import { Conversation } from '../modules/chat/conversation.entity.js';
import { ConversationRead } from '../modules/chat/conversation-read.entity.js';
import { Message } from '../modules/chat/message.entity.js';
import { Industry } from '../modules/company/industry.entity.js';
import { InvestorProfile } from '../modules/company/investor-profile.entity.js';
import { Location } from '../modules/company/location.entity.js';
import { StartupProfile } from '../modules/company/startup-profile.entity.js';
import { ImportMapping } from '../modules/migration-import/import-mapping.entity.js';
import { User } from '../modules/user/user.entity.js';
import { EmailCooldown } from '../mail/email-cooldown.entity.js';
import { MailOutbox } from '../mail/mail-outbox.entity.js';
import { UnreadEmailNotice, UnreadEmailScan } from '../modules/notifications/unread-email.entities.js';
import { UserPresence } from '../modules/presence/user-presence.entity.js';
import { UserSettings } from '../modules/user/user-settings.entity.js';

export const entities = [
  User,
  Industry,
  Location,
  StartupProfile,
  InvestorProfile,
  EmailToken,
  MailOutbox,
  EmailCooldown,
  Session,
  RefreshToken,
  Conversation,
  Message,
  ConversationRead,
  UserSettings,
  UserPresence,
  UnreadEmailNotice,
  UnreadEmailScan,
  ImportMapping,
];
