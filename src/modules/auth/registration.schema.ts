import { builder } from '../../graphql/builder.js';
import { MessagePayload, okMessage } from '../../graphql/common.schema.js';
import { parseEmail } from '../../shared/validation.js';
import { RoleEnum, UserRef, revealEmailToCaller } from '../user/user.schema.js';
import { REGISTERED_MESSAGE, RESEND_MESSAGE } from './registration.service.js';

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

builder.mutationFields((t) => ({
  register: t.field({
    type: MessagePayload,
    description: 'Creates an inactive account with its company profile and emails an activation link.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: async (_root, { input }, context) => {
      await context.services.registration.register(context.em, input, context.client);
      return okMessage(REGISTERED_MESSAGE);
    },
  }),
  activate: t.field({
    type: UserRef,
    description: 'Activates the account of an emailed token; each token works once. Its holder owns the address, so the email is shown.',
    args: { token: t.arg.string({ required: true }) },
    // The token is the credential: the answer never depends on an Authorization header.
    resolve: async (_root, { token }, context) => revealEmailToCaller(await context.services.registration.activate(context.em, token)),
  }),
  resendActivation: t.field({
    type: MessagePayload,
    description: 'Emails a new activation link to an inactive account; answers the same for any address.',
    args: { email: t.arg.string({ required: true }) },
    resolve: async (_root, { email }, context) => {
      await context.services.registration.resendActivation(context.em, parseEmail(email), context.client);
      return okMessage(RESEND_MESSAGE);
    },
  }),
}));
