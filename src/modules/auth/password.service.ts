import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { claimEmailCooldown, enqueueMail } from '../../mail/outbox.js';
import { passwordResetEmail } from '../../mail/templates.js';
import { emailField, parseInput, passwordField } from '../../shared/validation.js';
import { User, type UserView } from '../user/user.entity.js';
import { retryOnConflict } from '../../db/transaction-retry.js';
import { invalidCredentials } from '../../shared/errors.js';
import type { RateLimits } from '../../security/rate-limits.js';
import { checkEmailToken, consumeEmailToken, issueEmailToken } from './email-tokens.js';
import type { OffRequestMail } from './mail-off-request.js';
import { changePassword, setPassword } from './password.repository.js';
import { hashPassword } from './passwords.js';
import type { AuthPayloadShape, ClientInfo, SessionService } from './session.service.js';

export interface PasswordResetSettings {
  appUrl: string;
  resetTtlSeconds: number;
  emailCooldownSeconds: number;
}

export interface PasswordServiceDeps {
  settings: PasswordResetSettings;
  sessions: SessionService;
  rateLimits: Pick<RateLimits, 'beforeResetPassword' | 'reservePasswordCheck'>;
  offRequestMail: OffRequestMail;
}

export const RESET_REQUESTED_MESSAGE = 'If an account uses this email, a password reset link is on its way.';

const newPasswordSchema = z.object({ newPassword: passwordField });

/** Emails a reset link to a registered address, at most once per cooldown; returns whether it did. */
async function queueResetEmail(em: EntityManager, rawEmail: string, settings: PasswordResetSettings): Promise<boolean> {
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

/** Passwords forgotten, reset and changed; a change or reset ends every session of the account. */
export class PasswordService {
  constructor(private readonly deps: PasswordServiceDeps) {}

  /** `requestPasswordReset`: the work happens after the answer (see OffRequestMail). */
  requestReset(em: EntityManager, email: string, client: ClientInfo): Promise<void> {
    return this.deps.offRequestMail.run(em, client.ip, 'requestPasswordReset', (own) => queueResetEmail(own, email, this.deps.settings));
  }

  /**
   * Sets a new password from an emailed token (single-use) and ends every session of the account,
   * in one transaction: either both happen or neither. The token is checked before the new
   * password is hashed, so a made-up token costs no hashing.
   */
  async reset(em: EntityManager, { token, newPassword }: { token: string; newPassword: string }, client: ClientInfo): Promise<void> {
    const { sessions, rateLimits } = this.deps;
    await rateLimits.beforeResetPassword(client.ip);
    parseInput(newPasswordSchema, { newPassword });
    await checkEmailToken(em, token, 'password_reset');
    const passwordHash = await hashPassword(newPassword);
    const { userId, revoked } = await retryOnConflict(() =>
      em.transactional(async (tx) => {
        const id = await consumeEmailToken(tx, token, 'password_reset');
        await setPassword(tx, id, passwordHash);
        return { userId: id, revoked: await sessions.revokeInTransaction(tx, id, null, 'password_reset') };
      }),
    );
    sessions.announceRevoked(userId, revoked);
  }

  /**
   * Changes the viewer's password, ends all their sessions and starts a fresh one for this
   * client, in one transaction. A wrong current password counts toward the account's login
   * failures (a stolen access token must not allow unlimited guessing).
   */
  async change(
    em: EntityManager,
    viewer: UserView,
    { currentPassword, newPassword }: { currentPassword: string; newPassword: string },
    client: ClientInfo,
  ): Promise<AuthPayloadShape> {
    const { sessions, rateLimits } = this.deps;
    parseInput(newPasswordSchema, { newPassword });
    const attempt = await rateLimits.reservePasswordCheck(viewer.email);
    const checkedHash = await attempt.settle(sessions.checkPassword(em, viewer, currentPassword));
    const passwordHash = await hashPassword(newPassword);
    const { payload, revoked } = await retryOnConflict(() =>
      em.transactional(async (tx) => {
        // Only over the hash that was checked: a concurrent change makes this one fail.
        if (!(await changePassword(tx, { userId: viewer.id, checkedHash, passwordHash }))) throw invalidCredentials();
        const revokedIds = await sessions.revokeInTransaction(tx, viewer.id, null, 'password_change');
        return { revoked: revokedIds, payload: await sessions.startSession(tx, viewer, client) };
      }),
    );
    sessions.announceRevoked(viewer.id, revoked);
    return payload;
  }
}
