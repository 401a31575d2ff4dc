import { builder } from '../../graphql/builder.js';
import { MessagePayload, okMessage } from '../../graphql/common.schema.js';
import type { Context } from '../../graphql/context.js';
import { parseEmail } from '../../shared/validation.js';
import { RoleEnum, UserRef, revealEmailToCaller } from '../user/user.schema.js';
import { mailOffRequestPath } from './mail-off-request.js';
import { REGISTERED_MESSAGE, RESEND_MESSAGE, activateAccount, registerCompany, resendActivation, type RegistrationSettings } from './registration.service.js';

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 8 characters, not all digits.' }),
    role: t.field({ type: RoleEnum, required: true }),
    companyName: t.string({ required: true }),
    website: t.string({ required: true, description: 'An http(s) URL.' }),
    industryId: t.id({ description: 'Startups only.' }),
    locationId: t.id(),
    firstName: t.string(),
    lastName: t.string(),
  }),
});

export const registrationSettings = ({ services: { config } }: Context): RegistrationSettings => ({
  appUrl: config.APP_URL,
  activationTtlSeconds: config.ACTIVATION_TOKEN_TTL,
  emailCooldownSeconds: config.EMAIL_COOLDOWN_SECONDS,
});

builder.mutationFields((t) => ({
  register: t.field({
    type: MessagePayload,
    description: 'Creates an inactive account with its company profile and emails an activation link.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      await context.services.rateLimits.beforeRegister(context.ip);
      const queued = await registerCompany(context.em, input, registrationSettings(context));
      if (queued) context.services.outbox.nudge();
      return okMessage(REGISTERED_MESSAGE);
    },
  }),
  activate: t.field({
    type: UserRef,
    description: 'Activates the account of an emailed token; each token works once. Its holder owns the address, so the email is shown.',
    args: { token: t.arg.string({ required: true }) },
    // The token is the credential: the answer never depends on an Authorization header.
    resolve: async (_root, { token }, context) => revealEmailToCaller(await activateAccount(context.em, token)),
  }),
  resendActivation: t.field({
    type: MessagePayload,
    description: 'Emails a new activation link to an inactive account; answers the same for any address.',
    args: { email: t.arg.string({ required: true }) },
    resolve: async (_root, { email }, context) => {
      const address = parseEmail(email);
      const settings = registrationSettings(context);
      await mailOffRequestPath(context.services, context.ip, 'resendActivation', (em) => resendActivation(em, address, settings));
      return okMessage(RESEND_MESSAGE);
    },
  }),
}));
