import type { TestApp } from './app.js';
import { errorCode, uniqueEmail } from './app.js';
import { ACTIVATE, LOGIN, ME, REGISTER, dataOf } from './graphql.js';
import { eventually } from './time.js';
import { tokenFromMail } from './smtp.js';

// test/django-import.test.ts (another task's file) still imports LOGIN from here; the documents live in graphql.ts.
export { LOGIN } from './graphql.js';

export interface RegisterOverrides {
  email?: string;
  password?: string;
  role?: 'STARTUP' | 'INVESTOR';
  companyName?: string;
  website?: string;
  industryId?: string | null;
  locationId?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

export const DEFAULT_PASSWORD = 'correct horse battery';

export function registerInput(overrides: RegisterOverrides = {}) {
  const role = overrides.role ?? 'STARTUP';
  return {
    email: uniqueEmail(role.toLowerCase()),
    password: DEFAULT_PASSWORD,
    role,
    companyName: role === 'STARTUP' ? 'Acme Robotics' : 'Dnipro Ventures',
    website: 'https://example.com',
    ...(role === 'STARTUP' ? { industryId: '1' } : {}),
    locationId: '1',
    firstName: 'Olena',
    lastName: 'Shevchenko',
    ...overrides,
  };
}

export interface RegisteredUser {
  id: string;
  email: string;
  password: string;
  role: 'STARTUP' | 'INVESTOR';
}

/** Registers, then activates through the emailed link, as a person would. */
export async function createActiveUser(t: TestApp, overrides: RegisterOverrides = {}): Promise<RegisteredUser> {
  const input = registerInput(overrides);
  dataOf(await t.gql(REGISTER, { input }), 'register');
  const mail = await t.inbox.waitForMail(input.email);
  const { activate } = dataOf(await t.gql<{ activate: { id: string } }>(ACTIVATE, { token: tokenFromMail(mail) }), 'activate');
  return { id: activate.id, email: input.email.toLowerCase(), password: input.password, role: input.role };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  refreshTokenExpiresAt: string;
}

/** Signs in through the API; fails the test on any error. */
export async function login(t: TestApp, user: Pick<RegisteredUser, 'email' | 'password'>, headers?: Record<string, string>): Promise<Tokens> {
  return dataOf(await t.gql<{ login: Tokens }>(LOGIN, { email: user.email, password: user.password }, { headers }), 'login').login;
}

/** An active user and a signed-in session of theirs. */
export async function signedInUser(t: TestApp, overrides: RegisterOverrides = {}): Promise<RegisteredUser & { tokens: Tokens }> {
  const user = await createActiveUser(t, overrides);
  return { ...user, tokens: await login(t, user) };
}

/**
 * Waits until the server refuses `accessToken` as expired, asking `me` (which changes nothing)
 * until it says TOKEN_EXPIRED: the expiry is the server's to decide, and tokens carry whole
 * seconds, so no client-side clock arithmetic can say when it has come.
 */
export async function untilAccessExpired(t: TestApp, accessToken: string): Promise<void> {
  await eventually(async () => errorCode(await t.gql(ME, {}, { token: accessToken })) === 'TOKEN_EXPIRED', 'the access token to expire', 5_000, 50);
}
