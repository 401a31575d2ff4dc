import { builder } from '../../graphql/builder.js';
import { ROLES, User, type UserView } from './user.entity.js';

export const RoleEnum = builder.enumType('Role', {
  description: 'What a company on the platform is: the original platform called it representative_type.',
  values: ROLES,
});

/**
 * Users whose email the current response may show although no viewer is set yet: the user a
 * login or password change just authenticated is, by definition, the caller.
 */
const authenticatedInThisResponse = new WeakSet<UserView>();
export const revealEmailToCaller = (user: UserView): UserView => {
  authenticatedInThisResponse.add(user);
  return user;
};

export const UserRef = builder.loadableObject('User', {
  description: 'A person who represents a startup or an investor.',
  load: (ids: string[], context): Promise<UserView[]> => context.em.find(User, { id: { $in: ids } }),
  sort: (user: UserView) => user.id,
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.string({
      nullable: true,
      description: "The viewer's own email; null for anyone else.",
      // Checked only when the viewer is someone else: the caller a login just authenticated may
      // still carry a stale token, which must not fail its own sign-in.
      resolve: async (user, _args, context) => (authenticatedInThisResponse.has(user) || (await context.auth.viewer())?.id === user.id ? user.email : null),
    }),
    role: t.field({ type: RoleEnum, resolve: (user) => user.role }),
    firstName: t.string({ nullable: true, resolve: (user) => user.firstName ?? null }),
    lastName: t.string({ nullable: true, resolve: (user) => user.lastName ?? null }),
    isActive: t.exposeBoolean('isActive'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user; null without a token.',
    resolve: (_root, _args, context) => context.auth.viewer(),
  }),
);
