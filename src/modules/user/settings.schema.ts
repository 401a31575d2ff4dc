import { builder } from '../../graphql/builder.js';
import { signedInViewer } from '../../graphql/context.js';
import { UserRef } from './user.schema.js';
import { loadSettings, updateSettings, type Settings } from './settings.service.js';

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
    load: (ids: string[], context) => loadSettings(context.em, ids),
    resolve: async (user, _args, context) => ((await context.viewer())?.id === user.id ? user.id : null),
  }),
);

builder.mutationField('updateSettings', (t) =>
  t.field({
    type: SettingsRef,
    authScopes: { loggedIn: true },
    description: "Changes the viewer's settings; absent fields stay as they are.",
    args: { input: t.arg({ type: UpdateSettingsInputRef, required: true }) },
    resolve: async (_root, { input }, context) => updateSettings(context.em, (await signedInViewer(context)).id, input),
  }),
);
