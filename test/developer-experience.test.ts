import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { ACTIVATE, REGISTER } from './helpers/graphql.js';
import { registerInput } from './helpers/factories.js';
import { TestInbox } from './helpers/smtp.js';
import { eventually } from './helpers/time.js';

// A front-end developer's first day: links that point at the right port, errors that help in
// development, and mail files one can tell apart.

const TYPO = '{ industriez { id } }';

describe('field suggestions', () => {
  let development: TestApp;
  let production: TestApp;
  beforeAll(async () => {
    development = await startTestApp({ env: { NODE_ENV: 'development' } });
    production = await startTestApp({ db: development.db, inbox: development.inbox, env: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await production?.stop();
    await development?.stop();
  });

  it('are given in development', async () => {
    const result = await development.gql(TYPO);
    expect(result.errors?.[0]?.message).toContain('Did you mean "industries"?');
  });

  it('are hidden in production', async () => {
    const result = await production.gql(TYPO);
    expect(result.errors?.[0]?.message).toMatch(/Cannot query field "industriez"/);
    expect(result.errors?.[0]?.message).not.toContain('Did you mean');
  });
});

describe('mail written to files (SMTP_URL unset)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // PORT is what the server would listen on; tests listen on a free port whatever it says.
    t = await startTestApp({ env: { SMTP_URL: '', PORT: '4300' }, inbox: new TestInbox() });
  });
  afterAll(async () => {
    await t?.stop();
  });

  async function mailFiles(count: number): Promise<string[]> {
    const dir = join(t.config.DATA_DIR, 'mail');
    const files = () => {
      try {
        return readdirSync(dir).filter((file) => file.endsWith('.eml'));
      } catch {
        return [];
      }
    };
    return eventually(
      () => {
        const found = files();
        return found.length >= count && found;
      },
      `${count} mail files in ${dir}`,
      10_000,
      100,
    );
  }

  it('links to http://localhost:<PORT> when APP_URL is unset', async () => {
    expect(t.config.APP_URL).toBe('http://localhost:4300');
    const input = registerInput();
    await t.gql(REGISTER, { input });
    const [file] = (await mailFiles(1)).filter((name) => name.includes(input.email));
    expect(readFileSync(join(t.config.DATA_DIR, 'mail', file!), 'utf8')).toContain('http://localhost:4300/activate?token=');
  });

  it("names each file with its kind and recipient, so the README's recipe picks each user's own token", async () => {
    const alice = registerInput();
    const bob = registerInput();
    await t.gql(REGISTER, { input: alice });
    await t.gql(REGISTER, { input: bob });
    const files = await mailFiles(3);
    for (const user of [alice, bob]) {
      // The README: ls .data/mail/*-activation-<email>-*.eml | tail -1, then its "Activation token:" line.
      const mine = files.filter((name) => name.includes(`-activation-${user.email}-`)).sort();
      expect(mine).toHaveLength(1);
      const eml = readFileSync(join(t.config.DATA_DIR, 'mail', mine.at(-1)!), 'utf8');
      const token = /Activation token: ([A-Za-z0-9_-]+)/.exec(eml)?.[1];
      const activated = await t.gql<{ activate: { email: string } }>(ACTIVATE, { token });
      expect(activated.data?.activate.email).toBe(user.email);
    }
  });
});
