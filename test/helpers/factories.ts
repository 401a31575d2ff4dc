import type { TestApp } from './app.js';
import { uniqueEmail } from './app.js';
import { tokenFromMail } from './smtp.js';

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) { register(input: $input) { ok message } }
`;
export const ACTIVATE = /* GraphQL */ `
  mutation Activate($token: String!) { activate(token: $token) { id email role isActive } }
`;
export const RESEND = /* GraphQL */ `
  mutation Resend($email: String!) { resendActivation(email: $email) { ok message } }
`;

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
  const registered = await t.gql(REGISTER, { input });
  if (registered.errors) throw new Error(`register failed: ${JSON.stringify(registered.errors)}`);
  const mail = await t.inbox.waitForMail(input.email);
  const activated = await t.gql<{ activate: { id: string } }>(ACTIVATE, { token: tokenFromMail(mail) });
  if (!activated.data) throw new Error(`activate failed: ${JSON.stringify(activated.errors)}`);
  return { id: activated.data.activate.id, email: input.email.toLowerCase(), password: input.password, role: input.role };
}

export const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt user { id email role } }
  }
`;

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  refreshTokenExpiresAt: string;
}

/** Signs in through the API; fails the test on any error. */
export async function login(t: TestApp, user: Pick<RegisteredUser, 'email' | 'password'>, headers?: Record<string, string>): Promise<Tokens> {
  const result = await t.gql<{ login: Tokens }>(LOGIN, { email: user.email, password: user.password }, { headers });
  if (!result.data) throw new Error(`login failed: ${JSON.stringify(result.errors)}`);
  return result.data.login;
}

/** An active user and a signed-in session of theirs. */
export async function signedInUser(t: TestApp, overrides: RegisterOverrides = {}): Promise<RegisteredUser & { tokens: Tokens }> {
  const user = await createActiveUser(t, overrides);
  return { ...user, tokens: await login(t, user) };
}
