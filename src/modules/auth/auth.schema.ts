import { builder } from '../../graphql/builder.js';
import { MessagePayload, okMessage } from '../../graphql/common.schema.js';
import { signedInViewer, type Context } from '../../graphql/context.js';
import { unauthenticated } from '../../shared/errors.js';
import { parseEmail } from '../../shared/validation.js';
import { mailOffRequestPath } from './mail-off-request.js';
import { UserRef, revealEmailToCaller } from '../user/user.schema.js';
import { RESET_REQUESTED_MESSAGE, changePassword, requestPasswordReset, resetPassword } from './password.service.js';
import type { AuthPayloadShape, ClientInfo } from './session.service.js';
import { signIn } from './sign-in.js';
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
      resolve: async (session, _args, context) => session.id === (await context.sessionId()),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', description: 'The last login or token refresh.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the session ends whatever happens (SESSION_MAX_AGE after login).' }),
    userAgent: t.string({ nullable: true, resolve: (session) => session.userAgent ?? null }),
  }),
});

const clientInfo = (context: Context): ClientInfo => ({ ip: context.ip, userAgent: context.userAgent });

const resetSettings = ({ services: { config } }: Context) => ({
  appUrl: config.APP_URL,
  resetTtlSeconds: config.PASSWORD_RESET_TOKEN_TTL,
  emailCooldownSeconds: config.EMAIL_COOLDOWN_SECONDS,
});

builder.queryField('sessions', (t) =>
  t.field({
    type: [SessionRef],
    authScopes: { loggedIn: true },
    description: "The viewer's live sessions, most recently used first.",
    resolve: async (_root, _args, context) => context.services.sessions.liveSessions(context.em, await signedInViewer(context)),
  }),
);

builder.mutationFields((t) => ({
  login: t.field({
    type: AuthPayload,
    args: { email: t.arg.string({ required: true }), password: t.arg.string({ required: true }) },
    resolve: (_root, { email, password }, context) =>
      signIn(context.em, context.services.sessions, context.services.rateLimits, email, password, clientInfo(context)),
  }),
  refreshToken: t.field({
    type: AuthPayload,
    description: 'Rotates a refresh token: returns a new pair; the old refresh token stops working.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: async (_root, { refreshToken }, context) => {
      await context.services.rateLimits.beforeRefresh(context.ip);
      return context.services.sessions.refresh(context.em, refreshToken);
    },
  }),
  logout: t.field({
    type: MessagePayload,
    description:
      "Ends the refresh token's session everywhere: its tokens are refused and its sockets closed. Needs the viewer's access token, which may have expired (an idle tab signs out in one request).",
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: async (_root, { refreshToken }, context) => {
      const viewer = await context.viewerAllowingExpiry();
      if (!viewer) throw unauthenticated();
      await context.services.sessions.logout(context.em, viewer, refreshToken);
      return okMessage('Signed out.');
    },
  }),
  logoutAll: t.field({
    type: MessagePayload,
    authScopes: { loggedIn: true },
    description: 'Ends every session of the viewer, this one included.',
    resolve: async (_root, _args, context) => {
      await context.services.sessions.logoutAll(context.em, await signedInViewer(context));
      return okMessage('Signed out everywhere.');
    },
  }),
  revokeSession: t.field({
    type: MessagePayload,
    authScopes: { loggedIn: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => {
      await context.services.sessions.revokeSession(context.em, await signedInViewer(context), String(id));
      return okMessage('Session ended.');
    },
  }),
  requestPasswordReset: t.field({
    type: MessagePayload,
    description: 'Emails a 30-minute, single-use reset link; answers the same for any address.',
    args: { email: t.arg.string({ required: true }) },
    resolve: async (_root, { email }, context) => {
      const address = parseEmail(email);
      const settings = resetSettings(context);
      await mailOffRequestPath(context.services, context.ip, 'requestPasswordReset', (em) => requestPasswordReset(em, address, settings));
      return okMessage(RESET_REQUESTED_MESSAGE);
    },
  }),
  resetPassword: t.field({
    type: MessagePayload,
    description: 'Sets a new password from an emailed token and ends every session of the account.',
    args: { token: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: async (_root, { token, newPassword }, context) => {
      await resetPassword(context.em, context.services.sessions, context.services.rateLimits, context.ip, token, newPassword);
      return okMessage('Password changed. Sign in with the new password.');
    },
  }),
  changePassword: t.field({
    type: AuthPayload,
    authScopes: { loggedIn: true },
    description: 'Changes the password, ends every session and returns a fresh one.',
    args: { currentPassword: t.arg.string({ required: true }), newPassword: t.arg.string({ required: true }) },
    resolve: async (_root, { currentPassword, newPassword }, context) =>
      changePassword(
        context.em,
        context.services.sessions,
        context.services.rateLimits,
        await signedInViewer(context),
        currentPassword,
        newPassword,
        clientInfo(context),
      ),
  }),
}));
