import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type GqlResult, type TestApp } from '../helpers/app.js';
import { CHANGE_PASSWORD, dataOf, LOGIN, LOGOUT, LOGOUT_ALL, ME, REFRESH, REQUEST_RESET, RESET, REVOKE_SESSION } from '../helpers/graphql.js';
import { createActiveUser, login, type RegisteredUser, type Tokens } from '../helpers/factories.js';
import { tokenFromMail } from '../helpers/smtp.js';

/**
 * API.md "Revocation always wins a race": each round signs in, then sends a `refreshToken` of
 * that session and a revoking operation at the same moment. Afterwards nothing may have
 * answered INTERNAL_SERVER_ERROR, the revoking operation must have succeeded, and no token of
 * the session (the refresh's successor included) may still work. Before the fix, 40 rounds of
 * refresh against logout deadlocked several times (README "Security").
 */
const ROUNDS = 40;

type Pair = Pick<Tokens, 'accessToken' | 'refreshToken'>;

let t: TestApp;
let noGrace: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  // Reuse detection needs a presented parent to count as theft at once.
  noGrace = await startTestApp({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
});
afterAll(async () => {
  await t?.stop();
  await noGrace?.stop();
});

const sessionIdOf = (accessToken: string): string => (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string }).sid;

interface RoundOutcome {
  internalErrors: number;
  revocationFailed: number;
  aliveAfter: number;
}

const internal = (...results: GqlResult<unknown>[]) => results.filter((r) => errorCode(r) === 'INTERNAL_SERVER_ERROR').length;

/** Whether any of these pairs still works: its access token reads `me`, or its refresh token rotates. */
async function anyAlive(app: TestApp, pairs: Pair[]): Promise<boolean> {
  for (const pair of pairs) {
    const me = await app.gql<{ me: { id: string } | null }>(ME, {}, { token: pair.accessToken });
    if (me.data?.me) return true;
    const refreshed = await app.gql(REFRESH, { refreshToken: pair.refreshToken });
    if (refreshed.data) return true;
  }
  return false;
}

/** Runs `ROUNDS` races of a refresh against `revoke` and tallies what went wrong. */
async function race(
  app: TestApp,
  user: RegisteredUser,
  revoke: (session: Pair, round: number) => Promise<GqlResult<unknown>>,
  before: (session: Pair) => Promise<Pair> = async (session) => session,
): Promise<RoundOutcome> {
  const outcome: RoundOutcome = { internalErrors: 0, revocationFailed: 0, aliveAfter: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const session = await login(app, user);
    const refreshWith = await before(session);
    const [refreshed, revoked] = await Promise.all([
      app.gql<{ refreshToken: Pair }>(REFRESH, { refreshToken: refreshWith.refreshToken }),
      revoke(session, round),
    ]);
    outcome.internalErrors += internal(refreshed, revoked);
    if (revoked.errors && errorCode(revoked) !== 'TOKEN_REVOKED') outcome.revocationFailed += 1;
    const pairs = [session, refreshWith, ...(refreshed.data ? [refreshed.data.refreshToken] : [])];
    if (await anyAlive(app, pairs)) outcome.aliveAfter += 1;
  }
  return outcome;
}

const clean: RoundOutcome = { internalErrors: 0, revocationFailed: 0, aliveAfter: 0 };

describe(`revocation always wins a race with refreshToken (${ROUNDS} rounds each)`, () => {
  it('logout', async () => {
    const user = await createActiveUser(t);
    const outcome = await race(t, user, (s) => t.gql(LOGOUT, { refreshToken: s.refreshToken }, { token: s.accessToken }));
    console.info('refresh vs logout:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('logoutAll', async () => {
    const user = await createActiveUser(t);
    const outcome = await race(t, user, (s) => t.gql(LOGOUT_ALL, {}, { token: s.accessToken }));
    console.info('refresh vs logoutAll:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('revokeSession', async () => {
    const user = await createActiveUser(t);
    const outcome = await race(t, user, (s) => t.gql(REVOKE_SESSION, { id: sessionIdOf(s.accessToken) }, { token: s.accessToken }));
    console.info('refresh vs revokeSession:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('changePassword', async () => {
    const user = await createActiveUser(t);
    const passwords = [user.password, 'another good password'];
    const outcome = await race(
      t,
      {
        ...user,
        get password() {
          return passwords[0]!;
        },
      },
      async (s) => {
        const result = await t.gql(CHANGE_PASSWORD, { currentPassword: passwords[0], newPassword: passwords[1] }, { token: s.accessToken });
        if (result.data) passwords.reverse();
        return result;
      },
    );
    console.info('refresh vs changePassword:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('resetPassword', async () => {
    const user = await createActiveUser(t);
    let mails = t.inbox.mailsTo(user.email).length;
    let pendingToken = '';
    const outcome = await race(
      t,
      user,
      async () => {
        // The token is fetched before the race; only the reset itself races the refresh.
        return t.gql(RESET, { token: pendingToken, newPassword: user.password });
      },
      async (session) => {
        await t.gql(REQUEST_RESET, { email: user.email });
        mails += 1;
        pendingToken = tokenFromMail(await t.inbox.waitForMail(user.email, mails));
        return session;
      },
    );
    console.info('refresh vs resetPassword:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('reuse detection', async () => {
    const user = await createActiveUser(noGrace);
    let parent: Pair | undefined;
    const outcome = await race(
      noGrace,
      user,
      // The session's first refresh token, already rotated: presenting it again is theft.
      () => noGrace.gql(REFRESH, { refreshToken: parent!.refreshToken }),
      async (session) => {
        const rotated = dataOf(await noGrace.gql<{ refreshToken: Pair }>(REFRESH, { refreshToken: session.refreshToken }), 'refresh');
        parent = session;
        return rotated.refreshToken;
      },
    );
    console.info('refresh vs reuse detection:', outcome);
    expect(outcome).toEqual(clean);
  });

  it('a login racing a password change never leaves a session made with the old password', async () => {
    const user = await createActiveUser(t);
    const passwords = [user.password, 'another good password'];
    const tally = { internalErrors: 0, changeFailed: 0, oldPasswordSessionsAlive: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const session = await login(t, { email: user.email, password: passwords[0]! });
      const [loggedIn, changed] = await Promise.all([
        t.gql<{ login: Pair }>(LOGIN, { email: user.email, password: passwords[0] }),
        t.gql(CHANGE_PASSWORD, { currentPassword: passwords[0], newPassword: passwords[1] }, { token: session.accessToken }),
      ]);
      tally.internalErrors += internal(loggedIn, changed);
      if (!changed.data) tally.changeFailed += 1;
      else passwords.reverse();
      if (loggedIn.data && changed.data && (await anyAlive(t, [loggedIn.data.login]))) tally.oldPasswordSessionsAlive += 1;
    }
    console.info('login vs changePassword:', tally);
    expect(tally).toEqual({ internalErrors: 0, changeFailed: 0, oldPasswordSessionsAlive: 0 });
  });
});
