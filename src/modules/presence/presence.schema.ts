import { builder } from '../../graphql/builder.js';
import type { Context } from '../../graphql/context.js';
import type { PresenceChangedEvent } from '../../events/pubsub.js';
import { UserRef } from '../user/user.schema.js';

const presenceOf = async (ids: string[], context: Context) => context.services.presence.load(context.em, await context.auth.viewer(), ids);

builder.objectFields(UserRef, (t) => ({
  online: t.loadable({
    type: 'Boolean',
    nullable: true,
    description:
      'Whether one of their sockets is open; null unless the viewer is this user or shares a conversation with them, and they show presence (Settings.showPresence).',
    load: async (ids: string[], context) => (await presenceOf(ids, context)).map((view) => view?.online ?? null),
    resolve: (user) => user.id,
  }),
  lastSeenAt: t.loadable({
    type: 'DateTime',
    nullable: true,
    description: 'When their last socket closed; null while online, never seen, or not visible to the viewer (see online).',
    load: async (ids: string[], context) => (await presenceOf(ids, context)).map((view) => view?.lastSeenAt ?? null),
    resolve: (user) => user.id,
  }),
}));

const PresenceEventRef = builder.objectRef<PresenceChangedEvent>('PresenceEvent').implement({
  description: 'A conversation partner of the viewer came online (first socket) or went offline (last socket closed, after the grace).',
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (event) => event.userId }),
    online: t.exposeBoolean('online'),
    lastSeenAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When their last socket closed; null when online.',
      resolve: (event) => (event.lastSeenAt ? new Date(event.lastSeenAt) : null),
    }),
  }),
});

builder.subscriptionField('presence', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: PresenceEventRef,
    description: "Presence changes of the viewer's conversation partners who show presence.",
    subscribe: (_root, _args, context) => context.services.presence.subscribe(context.viewer),
    resolve: (event: PresenceChangedEvent) => event,
  }),
);
