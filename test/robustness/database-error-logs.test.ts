import { describe, expect, it } from 'vitest';
import { errorCode, startTestApp } from '../helpers/app.js';
import { withClient } from '../helpers/database.js';
import { LOGIN, REGISTER } from '../helpers/graphql.js';
import { registerInput } from '../helpers/factories.js';
import { captureLogs } from '../helpers/logs.js';

/** API.md "Errors": logs never carry statement parameters (passwords, hashes, tokens, message bodies). */
describe('database errors in logs', () => {
  it('are logged with PostgreSQL’s message and code, without the statement’s values', async () => {
    const logs = captureLogs('info');
    const t = await startTestApp({ buildOptions: { logger: logs.logger } });
    try {
      // A broken schema makes every statement that names the column fail, values and all.
      await withClient(t.db.url, (client) => client.query('alter table "user" rename column "email" to "email_gone"'));
      const input = registerInput({ email: 'secret-address-4f2a@example.com', password: 'a secret password 9c1e' });
      expect(errorCode(await t.gql(REGISTER, { input }))).toBe('INTERNAL_SERVER_ERROR');
      expect(errorCode(await t.gql(LOGIN, { email: 'other-secret-7d3b@example.com', password: 'x secret password' }))).toBe('INTERNAL_SERVER_ERROR');
      const log = logs.text();
      expect(log).toContain('column');
      expect(log).toContain('42703'); // undefined_column: the code is kept
      expect(log).not.toContain('secret-address-4f2a');
      expect(log).not.toContain('other-secret-7d3b');
    } finally {
      await t.stop();
    }
  });
});
