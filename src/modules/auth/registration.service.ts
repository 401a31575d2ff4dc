import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { claimEmailCooldown, enqueueMail } from '../../mail/outbox.js';
import type { OutboxWorker } from '../../mail/outbox.js';
import { activationEmail, alreadyRegisteredEmail } from '../../mail/templates.js';
import type { RateLimits } from '../../security/rate-limits.js';
import { cleanText, emailField, intIdField, optionalName, parseInput, passwordField, websiteField } from '../../shared/validation.js';
import { InvestorProfile } from '../company/investor-profile.entity.js';
import { checkReferences } from '../company/profile.service.js';
import { StartupProfile } from '../company/startup-profile.entity.js';
import { ROLES, User, type UserEntity } from '../user/user.entity.js';
import { consumeEmailToken, issueEmailToken } from './email-tokens.js';
import type { OffRequestMail } from './mail-off-request.js';
import { hashPassword } from './passwords.js';
import type { ClientInfo } from './session.service.js';

export interface RegistrationSettings {
  appUrl: string;
  activationTtlSeconds: number;
  emailCooldownSeconds: number;
}

export interface RegistrationServiceDeps {
  settings: RegistrationSettings;
  rateLimits: Pick<RateLimits, 'beforeRegister'>;
  outbox: Pick<OutboxWorker, 'nudge'>;
  offRequestMail: OffRequestMail;
}

export const REGISTERED_MESSAGE = 'Thanks for registering. If the address can be used, an email with an activation link is on its way.';
export const RESEND_MESSAGE = 'If an account with this email is waiting for activation, a new activation link is on its way.';

const registerSchema = z
  .object({
    email: emailField,
    password: passwordField,
    role: z.enum(ROLES, 'Role must be STARTUP or INVESTOR.'),
    companyName: cleanText(200, 'Company name'),
    website: websiteField,
    industryId: intIdField('Industry').nullish(),
    locationId: intIdField('Location').nullish(),
    firstName: optionalName('First name'),
    lastName: optionalName('Last name'),
  })
  .superRefine((input, ctx) => {
    if (input.role === 'INVESTOR' && input.industryId != null) {
      ctx.addIssue({ code: 'custom', path: ['industryId'], message: 'Only startups have an industry.' });
    }
  });

export type RegisterInput = z.input<typeof registerSchema>;

/** Accounts from registration to activation; every email it queues leaves once its transaction has committed. */
export class RegistrationService {
  constructor(private readonly deps: RegistrationServiceDeps) {}

  /** `register`: per IP; answers the same whether or not the address already has an account. */
  async register(em: EntityManager, input: RegisterInput, client: ClientInfo): Promise<void> {
    await this.deps.rateLimits.beforeRegister(client.ip);
    if (await registerCompany(em, input, this.deps.settings)) this.deps.outbox.nudge();
  }

  activate(em: EntityManager, token: string): Promise<UserEntity> {
    return activateAccount(em, token);
  }

  /** `resendActivation`: the work happens after the answer (see OffRequestMail). */
  resendActivation(em: EntityManager, email: string, client: ClientInfo): Promise<void> {
    return this.deps.offRequestMail.run(em, client.ip, 'resendActivation', (own) => resendActivation(own, email, this.deps.settings));
  }
}

/**
 * Creates an inactive user with its company profile and queues the activation email, in one
 * transaction. An address that is already registered gets a notice instead and the caller the
 * same answer, so registration never tells whether an email has an account.
 * Returns whether an email was queued.
 */
async function registerCompany(em: EntityManager, raw: RegisterInput, settings: RegistrationSettings): Promise<boolean> {
  const input = parseInput(registerSchema, raw);
  await checkReferences(em, input);
  // Hashed before the lookup, so a taken address answers as slowly as a new one.
  const passwordHash = await hashPassword(input.password);
  try {
    return await em.transactional(async (tx) => {
      const existing = await tx.findOne(User, { email: input.email }, { fields: ['id'] });
      if (existing) return notifyAlreadyRegistered(tx, input.email, settings);
      const user = tx.create(User, {
        email: input.email,
        passwordHash,
        role: input.role,
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
      });
      const profile = { owner: user, companyName: input.companyName, website: input.website, location: input.locationId ?? null };
      if (input.role === 'STARTUP') tx.create(StartupProfile, { ...profile, industry: input.industryId ?? null });
      else tx.create(InvestorProfile, profile);
      await tx.flush();
      await queueActivationEmail(tx, user, settings);
      return true;
    });
  } catch (error) {
    // A concurrent registration of the same address won the unique constraint.
    if (error instanceof UniqueConstraintViolationException) {
      return em.transactional((tx) => notifyAlreadyRegistered(tx, input.email, settings));
    }
    throw error;
  }
}

async function notifyAlreadyRegistered(em: EntityManager, email: string, settings: RegistrationSettings): Promise<boolean> {
  if (!(await claimEmailCooldown(em, email, 'registration_notice', settings.emailCooldownSeconds))) return false;
  enqueueMail(em, email, alreadyRegisteredEmail(settings.appUrl));
  await em.flush();
  return true;
}

async function queueActivationEmail(em: EntityManager, user: Pick<UserEntity, 'id' | 'email'>, settings: RegistrationSettings): Promise<void> {
  await claimEmailCooldown(em, user.email, 'activation', settings.emailCooldownSeconds);
  const token = await issueEmailToken(em, user.id, 'activation', settings.activationTtlSeconds);
  enqueueMail(em, user.email, activationEmail(settings.appUrl, token, settings.activationTtlSeconds));
  await em.flush();
}

/** Consumes an activation token and activates its user; the token works exactly once. */
async function activateAccount(em: EntityManager, token: string): Promise<UserEntity> {
  return em.transactional(async (tx) => {
    const userId = await consumeEmailToken(tx, token, 'activation');
    const user = await tx.findOneOrFail(User, userId);
    if (!user.isActive) {
      user.isActive = true;
      user.activatedAt = new Date();
    }
    return user;
  });
}

/**
 * Sends a fresh activation link to an inactive account, at most once per cooldown. Answers
 * the same for unknown, inactive and active addresses; returns whether an email was queued.
 */
async function resendActivation(em: EntityManager, rawEmail: string, settings: RegistrationSettings): Promise<boolean> {
  const email = parseInput(z.object({ email: emailField }), { email: rawEmail }).email;
  return em.transactional(async (tx) => {
    const user = await tx.findOne(User, { email }, { fields: ['id', 'email', 'isActive'] });
    if (!user || user.isActive) return false;
    if (!(await claimEmailCooldown(tx, email, 'activation', settings.emailCooldownSeconds))) return false;
    const token = await issueEmailToken(tx, user.id, 'activation', settings.activationTtlSeconds);
    enqueueMail(tx, email, activationEmail(settings.appUrl, token, settings.activationTtlSeconds));
    await tx.flush();
    return true;
  });
}
