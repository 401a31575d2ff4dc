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
