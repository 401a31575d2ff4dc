import { builder } from '../../graphql/builder.js';
import { UserRef } from './user.schema.js';
import type { Settings } from './settings.service.js';

const SettingsRef = builder.objectRef<Settings>('Settings').implement({
  description: "A user's choices; both are true until changed.",
  fields: (t) => ({
    emailOnUnreadMessages: t.exposeBoolean('emailOnUnreadMessages', {
      description: 'Email me when a message waits unread while I am offline (see UNREAD_EMAIL_DELAY_SECONDS).',
    }),
    showPresence: t.exposeBoolean('showPresence', { description: 'Let my conversation partners see whether I am online and when I was last seen.' }),
  }),
});

const UpdateSettingsInputRef = builder.inputType('UpdateSettingsInput', {
  description: 'Absent fields keep their value.',
  fields: (t) => ({
    emailOnUnreadMessages: t.boolean(),
    showPresence: t.boolean(),
  }),
});

builder.objectField(UserRef, 'settings', (t) =>
  t.loadable({
    type: SettingsRef,
    nullable: true,
    description: "The viewer's own settings; null for other users.",
    load: (ids: string[], context) => context.services.settings.load(context.em, ids),
    resolve: async (user, _args, context) => ((await context.auth.viewer())?.id === user.id ? user.id : null),
  }),
);

builder.mutationField('updateSettings', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: SettingsRef,
    description: "Changes the viewer's settings; absent fields stay as they are.",
    args: { input: t.arg({ type: UpdateSettingsInputRef, required: true }) },
    resolve: (_root, { input }, context) => context.services.settings.update(context.em, context.viewer, input),
  }),
);
