import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { claimEmailCooldown, enqueueMail } from '../../mail/outbox.js';
import { passwordResetEmail } from '../../mail/templates.js';
import { emailField, parseInput, passwordField } from '../../validation.js';
import { User, type UserEntity } from '../user/user.entity.js';
import { consumeEmailToken, issueEmailToken } from './email-tokens.js';
import { hashPassword } from './passwords.js';
import type { AuthPayloadShape, ClientInfo, SessionService } from './session.service.js';

export interface PasswordResetSettings {
  appUrl: string;
  resetTtlSeconds: number;
  emailCooldownSeconds: number;
}

export const RESET_REQUESTED_MESSAGE = 'If an account uses this email, a password reset link is on its way.';

const newPasswordSchema = z.object({ newPassword: passwordField });

/** Emails a reset link to a registered address, at most once per cooldown; returns whether it did. */
export async function requestPasswordReset(em: EntityManager, rawEmail: string, settings: PasswordResetSettings): Promise<boolean> {
  const { email } = parseInput(z.object({ email: emailField }), { email: rawEmail });
  return em.transactional(async (tx) => {
    const user = await tx.findOne(User, { email }, { fields: ['id'] });
    if (!user) return false;
    if (!(await claimEmailCooldown(tx, email, 'password_reset', settings.emailCooldownSeconds))) return false;
    const token = await issueEmailToken(tx, user.id, 'password_reset', settings.resetTtlSeconds);
    enqueueMail(tx, email, passwordResetEmail(settings.appUrl, token, settings.resetTtlSeconds));
    await tx.flush();
    return true;
  });
}

/** Sets a new password from an emailed token (single-use) and ends every session of the account. */
export async function resetPassword(em: EntityManager, sessions: SessionService, token: string, newPassword: string): Promise<void> {
  parseInput(newPasswordSchema, { newPassword });
  const passwordHash = await hashPassword(newPassword);
  const userId = await em.transactional(async (tx) => {
    const id = await consumeEmailToken(tx, token, 'password_reset');
    await tx.nativeUpdate(User, { id }, { passwordHash, passwordChangedAt: new Date() });
    return id;
  });
  await sessions.revokeSessions(em, userId, null, 'password_reset');
}

/** Changes the viewer's password, ends all their sessions, and starts a fresh one for this client. */
export async function changePassword(
  em: EntityManager,
  sessions: SessionService,
  viewer: UserEntity,
  currentPassword: string,
  newPassword: string,
  client: ClientInfo,
): Promise<AuthPayloadShape> {
  parseInput(newPasswordSchema, { newPassword });
  await sessions.checkPassword(em, viewer, currentPassword);
  const passwordHash = await hashPassword(newPassword);
  await em.nativeUpdate(User, { id: viewer.id }, { passwordHash, passwordChangedAt: new Date() });
  await sessions.revokeSessions(em, viewer.id, null, 'password_change');
  return em.transactional((tx) => sessions.startSession(tx, viewer, client));
}
