import { builder } from '../../graphql/builder.js';
import { MessagePayload, okMessage } from '../../graphql/common.schema.js';
import { parseEmail } from '../../shared/validation.js';
import { UserRef, revealEmailToCaller } from '../user/user.schema.js';
import { RESET_REQUESTED_MESSAGE } from './password.service.js';
import type { AuthPayloadShape } from './session.service.js';
import type { SessionEntity } from './session.entity.js';

const AuthPayload = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  description: 'A signed-in session: send the access token as `Authorization: Bearer`, keep the refresh token to rotate it.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    refreshToken: t.exposeString('refreshToken'),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    refreshTokenExpiresAt: t.expose('refreshTokenExpiresAt', { type: 'DateTime' }),
    user: t.field({ type: UserRef, resolve: (payload) => revealEmailToCaller(payload.user) }),
  }),
});

const SessionRef = builder.objectRef<SessionEntity>('Session').implement({
  description: 'A signed-in device or browser of the viewer.',
  fields: (t) => ({
    id: t.exposeID('id'),
    current: t.boolean({
      description: 'Whether this request was made with this session.',
      resolve: async (session, _args, context) => session.id === (await context.auth.sessionId()),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', description: 'The last login or token refresh.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the session ends whatever happens (SESSION_MAX_AGE after login).' }),
    userAgent: t.string({ nullable: true, resolve: (session) => session.userAgent ?? null }),
  }),
});

builder.queryField('sessions', (t) =>
  t.withAuth({ loggedIn: true }).field({
    type: [SessionRef],
    description: "The viewer's live sessions, most recently used first.",
    resolve: (_root, _args, context) => context.services.sessions.liveSessions(context.em, context.viewer),
  }),
);

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthPayload,
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => context.services.sessions.login(context.em, args, context.client),
  }),
  refreshToken: t.field({
    type: AuthPayload,
    description: 'Rotates a refresh token: returns a new pair; the old refresh token stops working.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, { refreshToken }, context) => context.services.sessions.refresh(context.em, refreshToken, context.client),
  }),
  logout: t.field({
    type: MessagePayload,
    description:
      "Ends the refresh token's session everywhere: its tokens are refused and its sockets closed. Needs the viewer's access token, which may have expired (an idle tab signs out in one request).",
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: async (_root, { refreshToken }, context) => {
      await context.services.sessions.logout(context.em, await context.auth.viewerAllowingExpiry(), refreshToken);
      return okMessage('Signed out.');
    },
  }),
  logoutAll: t.withAuth({ loggedIn: true }).field({
    type: MessagePayload,
    description: 'Ends every session of the viewer, this one included.',
    resolve: async (_root, _args, context) => {
      await context.services.sessions.logoutAll(context.em, context.viewer);
      return okMessage('Signed out everywhere.');
    },
  }),
  revokeSession: t.withAuth({ loggedIn: true }).field({
    type: MessagePayload,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      await context.services.sessions.revokeSession(context.em, context.viewer, String(id));
      return okMessage('Session ended.');
    },
  }),
  requestPasswordReset: t.field({
    type: MessagePayload,
    description: 'Emails a 30-minute, single-use reset link; answers the same for any address.',
    args: { email: t.arg.string({ required: true }) },
    resolve: async (_root, { email }, context) => {
      await context.services.passwords.requestReset(context.em, parseEmail(email), context.client);
      return okMessage(RESET_REQUESTED_MESSAGE);
    },
  }),
  resetPassword: t.field({
    type: MessagePayload,
    description: 'Sets a new password from an emailed token and ends every session of the account.',
    args: { token: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: async (_root, args, context) => {
      await context.services.passwords.reset(context.em, args, context.client);
      return okMessage('Password changed. Sign in with the new password.');
    },
  }),
  changePassword: t.withAuth({ loggedIn: true }).field({
    type: AuthPayload,
    description: 'Changes the password, ends every session and returns a fresh one.',
    args: { currentPassword: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => context.services.passwords.change(context.em, context.viewer, args, context.client),
  }),
}));
