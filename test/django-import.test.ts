import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/db.js';
import { runDjangoImport, type DjangoImportOptions } from '../src/modules/migration-import/django-import.js';
import type { ImportReport, ImportReportJson, Kind } from '../src/modules/migration-import/import-report.js';
import { parseExtendedJsonDate, unescapeHtml } from '../src/modules/migration-import/normalise.js';
import { streamProgress, type Progress } from '../src/modules/migration-import/progress.js';
import { errorCode, startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, withClient } from './helpers/database.js';
import { copyChatExport, DJANGO_FIXTURE_DIR, FIXTURE_USERS, loadDjangoFixture, type DjangoSourceDatabase } from './helpers/django-fixture.js';
import { LOGIN, login } from './helpers/factories.js';

const CHAT_DIR = join(DJANGO_FIXTURE_DIR, 'chat');

const ME = /* GraphQL */ `
  query Me {
    me {
      id email role firstName lastName isActive createdAt
      startupProfile { companyName website description industry { name } location { country city } }
      investorProfile { companyName website }
    }
  }
`;

const CONVERSATIONS = /* GraphQL */ `
  query Conversations {
    conversations(first: 10) { edges { node { id unreadCount participants { id role firstName lastName } } } }
  }
`;

const THREAD = /* GraphQL */ `
  query Thread($id: ID!) { conversation(id: $id) { messages(first: 50) { edges { node { id body createdAt sender { id } } } } } }
`;

interface MeShape {
  id: string;
  email: string;
  role: string;
  firstName: string | null;
  lastName: string | null;
  isActive: boolean;
  createdAt: string;
  startupProfile: {
    companyName: string;
    website: string;
    description: string | null;
    industry: { name: string } | null;
    location: { country: string; city: string | null } | null;
  } | null;
  investorProfile: { companyName: string; website: string } | null;
}

interface ConversationShape {
  id: string;
  unreadCount: number;
  participants: Array<{ id: string; role: string; firstName: string | null; lastName: string | null }>;
  messages: { edges: Array<{ node: { id: string; body: string; createdAt: string; sender: { id: string } } }> };
}

type Person = { email: string; password: string };

async function signIn(t: TestApp, person: Person) {
  return login(t, person);
}

async function me(t: TestApp, person: Person): Promise<MeShape> {
  const { accessToken } = await signIn(t, person);
  const result = await t.gql<{ me: MeShape }>(ME, {}, { token: accessToken });
  return result.data!.me;
}

async function conversationsOf(t: TestApp, person: Person): Promise<ConversationShape[]> {
  const { accessToken } = await signIn(t, person);
  const result = await t.gql<{ conversations: { edges: Array<{ node: Omit<ConversationShape, 'messages'> }> } }>(CONVERSATIONS, {}, { token: accessToken });
  expect(result.errors).toBeUndefined();
  return Promise.all(
    result.data!.conversations.edges.map(async ({ node }) => {
      const thread = await t.gql<{ conversation: Pick<ConversationShape, 'messages'> }>(THREAD, { id: node.id }, { token: accessToken });
      expect(thread.errors).toBeUndefined();
      return { ...node, messages: thread.data!.conversation.messages };
    }),
  );
}

/** Messages of a conversation, oldest first (whatever order the connection pages in). */
const chronological = (conversation: ConversationShape) =>
  conversation.messages.edges.map((edge) => edge.node).sort((a, b) => a.createdAt.localeCompare(b.createdAt));

const storedHash = (t: TestApp, email: string) =>
  withClient(
    t.db.url,
    async (client) => (await client.query<{ password_hash: string }>(`select "password_hash" from "user" where "email" = $1`, [email])).rows[0]?.password_hash,
  );

const entriesOf = (report: ImportReport, kind: Kind, sourceId?: string) =>
  report.entries.filter((entry) => entry.kind === kind && (sourceId === undefined || entry.sourceId === sourceId));

const importInto = (t: TestApp, source: DjangoSourceDatabase, options: Partial<DjangoImportOptions> = {}) =>
  runDjangoImport({ sourceUrl: source.url, targetUrl: t.db.url, chatDir: CHAT_DIR, dryRun: false, ...options });

const rowCounts = (url: string) =>
  withClient(url, async (client) => {
    const { rows } = await client.query<Record<string, string>>(
      `select (select count(*) from "user") as users, (select count(*) from "startup_profile") as startups,
              (select count(*) from "investor_profile") as investors, (select count(*) from "conversation") as conversations,
              (select count(*) from "message") as messages, (select count(*) from "conversation_read") as reads,
              (select count(*) from "import_mapping") as mappings`,
    );
    return rows[0]!;
  });

/** The message table's indexes, foreign keys and comment, as PostgreSQL spells them. */
const messageSchema = (url: string) =>
  withClient(url, async (client) => {
    const { rows: indexes } = await client.query<{ definition: string }>(
      `select pg_get_indexdef("indexrelid") as "definition" from pg_index where "indrelid" = 'message'::regclass order by 1`,
    );
    const { rows: foreignKeys } = await client.query<{ definition: string }>(
      `select "conname" || ' ' || pg_get_constraintdef("oid") as "definition" from pg_constraint where "conrelid" = 'message'::regclass and "contype" = 'f' order by 1`,
    );
    const {
      rows: [comment],
    } = await client.query<{ text: string | null }>(`select obj_description('message'::regclass, 'pg_class') as "text"`);
    return { indexes: indexes.map((row) => row.definition), foreignKeys: foreignKeys.map((row) => row.definition), comment: comment!.text };
  });

describe('importing the Django original (fixture imported once, then read through the API)', () => {
  let source: DjangoSourceDatabase;
  let t: TestApp;
  let report: ImportReport;

  beforeAll(async () => {
    [source, t] = await Promise.all([loadDjangoFixture(), startTestApp()]);
    report = await importInto(t, source);
  });

  afterAll(async () => {
    await t?.stop();
    await source?.drop();
  });

  it('lets a fixture user sign in with the original password, then stores it as argon2id and still signs in', async () => {
    expect(await storedHash(t, FIXTURE_USERS.olena.email)).toMatch(/^pbkdf2_sha256\$1000000\$/);
    await signIn(t, FIXTURE_USERS.olena);
    expect(await storedHash(t, FIXTURE_USERS.olena.email)).toMatch(/^\$argon2id\$/);
    const again = await signIn(t, FIXTURE_USERS.olena);
    expect(again.accessToken).toBeTruthy();
  });

  it('verifies over the UTF-8 bytes of the password: a Cyrillic password works, a wrong one does not', async () => {
    const wrong = await t.gql(LOGIN, { email: FIXTURE_USERS.sofiia.email, password: 'Львівська-Кава-25' });
    expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
    expect(await storedHash(t, FIXTURE_USERS.sofiia.email)).toMatch(/^pbkdf2_sha256\$/);
    const profile = await me(t, FIXTURE_USERS.sofiia);
    expect(profile.email).toBe('sofiia@medibot.health');
  });

  it('imports an unusable password so that nothing signs in with it, not even the stored value', async () => {
    const stored = await storedHash(t, FIXTURE_USERS.viktor.email);
    expect(stored).toMatch(/^!/);
    for (const password of [stored!, stored!.slice(1), '', 'Savchuk Family Office']) {
      expect(errorCode(await t.gql(LOGIN, { email: FIXTURE_USERS.viktor.email, password }))).toBe('INVALID_CREDENTIALS');
    }
    expect(entriesOf(report, 'user', '13').map((e) => e.code)).toEqual(['unusable_password']);
  });

  it('keeps inactive users inactive, mails nobody, and still imports their profiles and messages', async () => {
    for (const person of [FIXTURE_USERS.iryna, FIXTURE_USERS.petro]) {
      expect(errorCode(await t.gql(LOGIN, person))).toBe('ACCOUNT_INACTIVE');
    }
    const state = await withClient(t.db.url, async (client) => ({
      mails: (await client.query(`select 1 from "mail_outbox"`)).rowCount,
      profiles: (
        await client.query<{ email: string; company_name: string }>(
          `select u."email", coalesce(s."company_name", i."company_name") as "company_name" from "user" u
           left join "startup_profile" s on s."owner_id" = u."id" left join "investor_profile" i on i."owner_id" = u."id"
           where not u."is_active" order by u."email"`,
        )
      ).rows,
    }));
    expect(state.mails).toBe(0);
    expect(state.profiles).toEqual([
      { email: 'iryna.shevchuk@ukr.net', company_name: '' },
      { email: 'petro.marchenko@eduquest.org.ua', company_name: 'EduQuest' },
    ]);
  });

  it('imports the older of two accounts whose emails differ only by case, lower-cased, and reports the other with its profile', async () => {
    const taras = await me(t, FIXTURE_USERS.taras);
    expect(taras).toMatchObject({ email: 'taras.bondar@seedcapital.io', role: 'INVESTOR', investorProfile: { companyName: 'Seed Capital UA' } });
    // The other account's password opens nothing: it was not merged into this one.
    expect(errorCode(await t.gql(LOGIN, FIXTURE_USERS.tarasRobotics))).toBe('INVALID_CREDENTIALS');
    expect(entriesOf(report, 'user', '11')).toMatchObject([{ code: 'email_case_collision', action: 'skipped', details: { collidesWith: '3' } }]);
    expect(entriesOf(report, 'startupProfile', '7')).toMatchObject([{ code: 'owner_not_imported', action: 'skipped' }]);
  });

  it('derives a missing role from the profile a user owns and leaves out the admin, reporting both', async () => {
    const yulia = await me(t, FIXTURE_USERS.yulia);
    expect(yulia).toMatchObject({
      role: 'STARTUP',
      firstName: 'Юлія',
      lastName: 'Романенко',
      startupProfile: { companyName: 'FinTrack', website: '', description: null, industry: null, location: null },
    });
    expect(errorCode(await t.gql(LOGIN, FIXTURE_USERS.admin))).toBe('INVALID_CREDENTIALS');
    expect(entriesOf(report, 'user', '12')).toMatchObject([{ code: 'role_derived', action: 'imported', severity: 'warning' }]);
    expect(entriesOf(report, 'user', '1')).toMatchObject([{ code: 'no_role', action: 'skipped' }]);
  });

  it('keeps the oldest of two startup profiles, reports the other, and keeps NULL industry and location NULL', async () => {
    const maksym = await me(t, FIXTURE_USERS.maksym);
    expect(maksym.startupProfile).toEqual({
      companyName: 'AgroSense',
      website: 'https://agrosense.com.ua',
      description: expect.stringContaining("farmers' cooperatives"),
      industry: { name: 'category 3' },
      location: { country: 'Ukraine', city: 'Kyiv' },
    });
    expect(entriesOf(report, 'startupProfile', '6')).toMatchObject([
      { code: 'extra_startup_profile', action: 'skipped', details: { companyName: 'FieldDrone' } },
    ]);
    const sofiia = await me(t, FIXTURE_USERS.sofiia);
    expect(sofiia.startupProfile).toMatchObject({ companyName: 'MediBot', industry: null, location: { city: 'Lviv' } });
  });

  it('keeps an empty first name as missing and a multi-line description as written', async () => {
    const greengrid = await me(t, FIXTURE_USERS.greengrid);
    expect(greengrid).toMatchObject({ firstName: null, lastName: 'Hrytsenko', role: 'STARTUP' });
    expect(greengrid.startupProfile?.description).toBe(
      'Peer-to-peer balancing for rooftop solar in apartment blocks.\nWe aggregate small producers and sell flexibility to the grid operator.',
    );
  });

  it('normalises websites: a bare host gets https://, http and paths stay as given, blank stays blank', async () => {
    const websites = await withClient(t.db.url, async (client) =>
      Object.fromEntries(
        (await client.query<{ company_name: string; website: string }>(`select "company_name", "website" from "investor_profile"`)).rows.map((row) => [
          row.company_name,
          row.website,
        ]),
      ),
    );
    expect(websites).toEqual({
      'Dnipro Ventures': 'https://dniproventures.com',
      'Seed Capital UA': 'https://seedcapital.io',
      '': '',
      'Horizon Capital Partners': 'https://horizoncap.com/ua/',
      'Savchuk Family Office': 'http://savchuk-fo.com',
    });
    expect(entriesOf(report, 'investorProfile', '2')).toMatchObject([{ code: 'website_scheme_added', severity: 'note' }]);
  });

  it('brings a conversation over with every message in timestamp order, read state, unescaped text and Ukrainian intact', async () => {
    const [conversation, ...others] = await conversationsOf(t, FIXTURE_USERS.maksym);
    expect(others).toEqual([]);
    const messages = chronological(conversation!);
    expect(messages).toHaveLength(14);
    expect(messages[0]).toMatchObject({ createdAt: '2025-09-01T09:30:12.871Z', body: expect.stringMatching(/^Hi Maksym, I came across AgroSense/) });
    // "…:03.56Z" in the export: three fraction digits are not assumed.
    expect(messages[2]!.createdAt).toBe('2025-09-01T11:10:03.560Z');
    expect(messages.map((m) => m.body).join('\n')).toContain('can you share the R&D budget split too?');
    expect(messages.at(-1)!.body).toContain('Також можу надіслати звіт українською');
    expect(conversation!.unreadCount).toBe(0);
    const [olenas] = await conversationsOf(t, FIXTURE_USERS.olena);
    // Maksym's last message was never read by Olena.
    expect(olenas!.unreadCount).toBe(1);
    expect(olenas!.participants.map((p) => p.lastName).sort()).toEqual(['Kovalenko', 'Tkachenko']);
  });

  it('reports the room of a deleted user with its messages and attaches them to nobody', async () => {
    const olenas = await conversationsOf(t, FIXTURE_USERS.olena);
    expect(olenas).toHaveLength(1);
    expect(entriesOf(report, 'conversation')).toMatchObject([
      { sourceId: '68b6c3abb7e21c04f93a91d0', code: 'participant_missing', action: 'skipped', details: { name: '2_9', messages: 9, missing: ['9'] } },
    ]);
    expect(report.counts.message.skipped).toBe(9);
    const orphans = await withClient(
      t.db.url,
      async (client) => (await client.query(`select 1 from "message" where "body" like '%SolarBee%' or "body" like 'Dmytro,%'`)).rowCount,
    );
    expect(orphans).toBe(0);
  });

  it('keeps the message of a sender who left the participant list, with his read state', async () => {
    const [conversation] = await conversationsOf(t, FIXTURE_USERS.natalia);
    const messages = chronological(conversation!);
    expect(messages).toHaveLength(7);
    const petro = conversation!.participants.find((p) => p.role === 'STARTUP')!;
    expect(petro).toMatchObject({ firstName: 'Petro', lastName: 'Marchenko' });
    expect(messages.filter((m) => m.sender.id === petro.id).map((m) => m.body)).toEqual([
      expect.stringMatching(/^Hi Natalia, thank you\. We are pausing the raise/),
    ]);
    expect(conversation!.unreadCount).toBe(0);
    // is_read of Natalia's four last messages belongs to Petro, who is not even listed in the room.
    const unreadForPetro = await withClient(
      t.db.url,
      async (client) =>
        (
          await client.query<{ n: string }>(
            `select count(*) as n from "message" m left join "conversation_read" r on r."conversation_id" = m."conversation_id" and r."user_id" = $1
         where m."conversation_id" = $2 and m."sender_id" <> $1 and (r."last_read_at" is null or m."created_at" > r."last_read_at")`,
            [petro.id, conversation!.id],
          )
        ).rows[0]!.n,
    );
    expect(Number(unreadForPetro)).toBe(4);
  });

  it('imports a message over 4000 characters in full and reports it; names come from PostgreSQL, not the stale chat copies', async () => {
    const [conversation] = await conversationsOf(t, FIXTURE_USERS.taras);
    const long = chronological(conversation!).find((m) => m.body.startsWith('MediBot — executive summary'));
    expect([...long!.body]).toHaveLength(4385);
    expect(entriesOf(report, 'message', '68b81e46b7e21c04f93a91dd')).toMatchObject([
      { code: 'over_length_limit', action: 'imported', details: { length: 4385 } },
    ]);
    expect(conversation!.participants.find((p) => p.role === 'STARTUP')).toMatchObject({ firstName: 'Sofiia', lastName: 'Moroz' });
    expect(conversation!.unreadCount).toBe(0);
  });

  it("uses new ids: no imported row takes a deleted user's place, and sign-ups after the import work", async () => {
    const mapped = await withClient(t.db.url, async (client) =>
      (await client.query<{ source_id: string }>(`select "source_id" from "import_mapping" where "kind" = 'django.user' order by "source_id"::int`)).rows.map(
        (r) => r.source_id,
      ),
    );
    expect(mapped).toEqual(['2', '3', '4', '5', '6', '7', '8', '10', '12', '13']);
    const register = await t.gql(`mutation($input: RegisterInput!) { register(input: $input) { ok } }`, {
      input: {
        email: `after-import-${randomBytes(4).toString('hex')}@example.com`,
        password: 'correct horse battery',
        role: 'STARTUP',
        companyName: 'New',
        website: 'https://new.example',
      },
    });
    expect(register.errors).toBeUndefined();
  });

  it('imports nothing twice when run again', async () => {
    const before = await rowCounts(t.db.url);
    const again = await importInto(t, source);
    expect(await rowCounts(t.db.url)).toEqual(before);
    for (const kind of ['user', 'startupProfile', 'investorProfile', 'conversation', 'message', 'readMark'] as const) {
      expect(again.counts[kind]).toMatchObject({ imported: 0, updated: 0 });
      expect(again.counts[kind].unchanged).toBe(report.counts[kind].imported);
    }
    expect(again.warnings).toBe(report.warnings);
  });
});

describe('re-running, resuming and dry runs', () => {
  let source: DjangoSourceDatabase;
  let t: TestApp;

  beforeAll(async () => {
    [source, t] = await Promise.all([loadDjangoFixture(), startTestApp()]);
  });

  afterAll(async () => {
    await t?.stop();
    await source?.drop();
  });

  it('a dry run reports what the import does and writes nothing', async () => {
    const target = await createTestDatabase();
    try {
      const dry = await runDjangoImport({ sourceUrl: source.url, targetUrl: target.url, chatDir: CHAT_DIR, dryRun: true });
      const counts = await rowCounts(target.url);
      expect(counts).toMatchObject({ users: '0', startups: '0', investors: '0', conversations: '0', messages: '0', reads: '0', mappings: '0' });
      expect(dry.counts.user).toMatchObject({ imported: 10, skipped: 2 });
      expect(dry.counts.message).toMatchObject({ imported: 31, skipped: 9 });
      expect(dry.counts.readMark.imported).toBe(6);
      expect(dry.warnings).toBe(8);
    } finally {
      await target.drop();
    }
  });

  it('resumes an interrupted import, updates what changed, adds what is new and keeps passwords set here', async () => {
    // This test changes the original, so it has its own copy.
    const source = await loadDjangoFixture();
    try {
      await resumeAndRerun(source);
    } finally {
      await source.drop();
    }
  });

  async function resumeAndRerun(source: DjangoSourceDatabase): Promise<void> {
    // Interrupted after the first committed batch of users.
    let batches = 0;
    const interrupting: Progress = {
      start() {},
      update() {
        batches += 1;
        if (batches === 1) throw new Error('interrupted');
      },
      finish() {},
    };
    await expect(
      runDjangoImport({ sourceUrl: source.url, targetUrl: t.db.url, chatDir: CHAT_DIR, dryRun: false, batchSize: 4, progress: interrupting }),
    ).rejects.toThrow('interrupted');
    expect((await rowCounts(t.db.url)).users).toBe('3'); // ids 2, 3, 4 of the first four (1 is the admin)

    const resumed = await importInto(t, source, { batchSize: 4 });
    expect(resumed.counts.user).toMatchObject({ imported: 7, unchanged: 3, skipped: 2 });
    expect(resumed.counts.message.imported).toBe(31);

    await signIn(t, FIXTURE_USERS.maksym); // rehashed to argon2id here

    // Meanwhile, in the original: a rename, a new account with another iteration count, a new message.
    const salt = 'NewSaltForTheTestUser1';
    const password = 'Orchard-Lantern-88';
    const hash = `pbkdf2_sha256$1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64')}`;
    await withClient(source.url, async (client) => {
      await client.query(`update "users_userprofile" set "last_name" = 'Tkachenko-Bondarenko', "password" = 'pbkdf2_sha256$1000000$x$y' where "id" = 5`);
      await client.query(
        `insert into "users_userprofile" ("id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "is_staff", "is_active", "date_joined", "email", "created_at", "role_id")
         values (14, $1, null, false, 'new.user', 'New', 'User', false, true, now(), 'New.User@Example.org', now(), 1)`,
        [hash],
      );
    });
    const chatDir = copyChatExport();
    appendFileSync(
      join(chatDir, 'messages.jsonl'),
      `${JSON.stringify({ _id: { $oid: '68c000000000000000000001' }, room: { $oid: '68b567a4b7e21c04f93a91c3' }, sender_id: '5', sender_first_name: 'Maksym', sender_last_name: 'Tkachenko', text: 'Unit economics attached &lt;3\tC:\\deals\\N\r\nsee you', timestamp: { $date: '2025-09-08T10:00:00Z' }, is_read: false })}\n`,
    );

    const rerun = await importInto(t, source, { chatDir });
    expect(rerun.counts.user).toMatchObject({ imported: 1, updated: 1, unchanged: 9 });
    expect(rerun.counts.message).toMatchObject({ imported: 1, unchanged: 31 });

    // The password set here (argon2id) is not replaced by the original's.
    const maksym = await me(t, FIXTURE_USERS.maksym);
    expect(maksym.lastName).toBe('Tkachenko-Bondarenko');
    // The iteration count comes from the hash (1000 here), and the address is lower-cased.
    const newcomer = await me(t, { email: 'new.user@example.org', password });
    expect(newcomer).toMatchObject({ role: 'INVESTOR', firstName: 'New', investorProfile: null });
    expect(await storedHash(t, 'new.user@example.org')).toMatch(/^\$argon2id\$/);
    const [olenas] = await conversationsOf(t, FIXTURE_USERS.olena);
    // Written with COPY: tabs, backslashes and line breaks come back as typed.
    expect(chronological(olenas!).at(-1)!.body).toBe('Unit economics attached <3\tC:\\deals\\N\r\nsee you');
    expect(olenas!.unreadCount).toBe(2);
  }

  it('builds the message indexes and foreign keys once at the end of a first import; after an interruption, the next run builds them first', async () => {
    const target = await createTestDatabase();
    try {
      const migrated = await messageSchema(target.url);
      expect(migrated.indexes.length).toBeGreaterThan(1);
      expect(migrated.foreignKeys.length).toBe(2);

      let phase = '';
      const interrupting: Progress = {
        start(name) {
          phase = name;
        },
        update() {
          if (phase === 'messages') throw new Error('interrupted');
        },
        finish() {},
      };
      await expect(
        runDjangoImport({ sourceUrl: source.url, targetUrl: target.url, chatDir: CHAT_DIR, dryRun: false, batchSize: 4, progress: interrupting }),
      ).rejects.toThrow('interrupted');
      // Stopped while the first messages went in without their indexes and foreign keys.
      const interrupted = await messageSchema(target.url);
      expect(interrupted.indexes).toEqual(migrated.indexes.filter((definition) => definition.includes('UNIQUE')));
      expect(interrupted.foreignKeys).toEqual([]);
      expect(Number((await rowCounts(target.url)).messages)).toBeGreaterThan(0);

      // Even a run without the chat puts them back before anything else.
      await runDjangoImport({ sourceUrl: source.url, targetUrl: target.url, dryRun: false });
      expect(await messageSchema(target.url)).toEqual(migrated);

      const resumed = await runDjangoImport({ sourceUrl: source.url, targetUrl: target.url, chatDir: CHAT_DIR, dryRun: false });
      expect(resumed.counts.message.imported + resumed.counts.message.unchanged).toBe(31);
      expect((await rowCounts(target.url)).messages).toBe('31');
      expect(await messageSchema(target.url)).toEqual(migrated);
    } finally {
      await target.drop();
    }
  });

  it('imports into the embedded database, which takes no COPY and runs every connection on one backend', async () => {
    const embedded = await startEmbeddedPostgres();
    try {
      const first = await runDjangoImport({
        sourceUrl: source.url,
        targetUrl: embedded.url,
        chatDir: CHAT_DIR,
        dryRun: false,
        embeddedTarget: true,
        batchSize: 4,
      });
      expect(first.counts.message).toMatchObject({ imported: 31, skipped: 9 });
      expect((await rowCounts(embedded.url)).messages).toBe('31');
      const migrated = await messageSchema(embedded.url);
      expect(migrated.foreignKeys.length).toBe(2);
      expect(migrated.comment).toBeNull();
      const again = await runDjangoImport({ sourceUrl: source.url, targetUrl: embedded.url, chatDir: CHAT_DIR, dryRun: false, embeddedTarget: true });
      expect(again.counts.message).toMatchObject({ imported: 0, unchanged: 31 });
    } finally {
      await embedded.stop();
    }
  });

  it('reports an account whose address someone registered here before the import, and the rooms that needed it', async () => {
    const target = await createTestDatabase();
    try {
      await withClient(target.url, (client) =>
        client.query(
          `insert into "user" ("id", "email", "password_hash", "role", "is_active", "created_at", "updated_at") values (gen_random_uuid(), $1, 'x', 'STARTUP', true, now(), now())`,
          [FIXTURE_USERS.maksym.email],
        ),
      );
      const result = await runDjangoImport({ sourceUrl: source.url, targetUrl: target.url, chatDir: CHAT_DIR, dryRun: false });
      expect(entriesOf(result, 'user', '5')).toMatchObject([{ code: 'email_taken_in_target', action: 'skipped' }]);
      expect(
        entriesOf(result, 'conversation')
          .map((e) => e.details?.name)
          .sort(),
      ).toEqual(['2_5', '2_9']);
      expect(result.counts.message).toMatchObject({ imported: 17, skipped: 23 });
    } finally {
      await target.drop();
    }
  });

  it('runs as `npm run import:django`: plain progress lines off a terminal, a summary, a JSON report, exit 2 on warnings unless accepted', async () => {
    const target = await createTestDatabase();
    const reportFile = join(mkdtempSync(join(tmpdir(), 'import-report-')), 'report.json');
    const run = (extra: string[]) =>
      promisify(execFile)('npx', ['tsx', 'scripts/import-django.ts', '--from', source.url, '--chat-dir', CHAT_DIR, '--report', reportFile, ...extra], {
        env: { ...process.env, DATABASE_URL: target.url, NODE_ENV: 'test' },
      }).then(
        (out) => ({ code: 0, ...out }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
      );
    try {
      const first = await run([]);
      expect(first.code).toBe(2);
      expect(first.stderr).toMatch(/^users: 100% 12\/12 users .* done$/m);
      expect(first.stderr).toMatch(/^messages: 100% 40\/40 messages .* done$/m);
      expect(first.stderr).not.toContain('\r');
      expect(first.stdout).toMatch(/^user\s+10\s+0\s+0\s+2\s+4$/m);
      expect(first.stdout).toContain('WARN  user 11: [email_case_collision]');
      const json = JSON.parse(readFileSync(reportFile, 'utf8')) as ImportReportJson;
      expect(json).toMatchObject({ dryRun: false, warnings: 8, counts: { message: { imported: 31, skipped: 9 } } });
      // Each phase's wall time and the importer's own CPU time, to tell its share from the database's.
      expect(json.phases.chat).toMatchObject({ rows: 40, seconds: expect.any(Number), cpuSeconds: expect.any(Number) });
      expect(json.phases.chat!.cpuSeconds).toBeGreaterThan(0);
      expect(first.stdout).toMatch(/^chat: 40 in [\d.]+ s \([\d,]+\/s\), importer CPU [\d.]+ s$/m);

      const second = await run(['--accept-warnings']);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/^message\s+0\s+0\s+31\s+9\s+1$/m);
    } finally {
      await target.drop();
    }
  }, 120_000);
});

describe('import progress', () => {
  it('draws a bar that redraws in place on a terminal, and writes plain lines every few seconds otherwise', () => {
    const output = (isTTY: boolean) => {
      let now = 0;
      const written: string[] = [];
      const stream = { isTTY, write: (chunk: string) => written.push(chunk) } as unknown as NodeJS.WriteStream;
      const progress = streamProgress(stream, () => now);
      progress.start('messages', 1000, 'messages');
      for (let done = 100; done <= 1000; done += 100) {
        now += 1000;
        progress.update(done);
      }
      progress.finish();
      return written;
    };
    const terminal = output(true);
    expect(terminal.length).toBeGreaterThan(5);
    expect(terminal.every((chunk) => chunk.startsWith('\r['))).toBe(true);
    expect(terminal.at(-1)).toMatch(/^\r\[#{30}\] messages: 100% 1,000\/1,000 messages \(100 messages\/s\).*\n$/);
    const log = output(false);
    expect(log).toEqual([
      'messages:  50% 500/1,000 messages (100 messages/s)\n',
      'messages: 100% 1,000/1,000 messages (100 messages/s)\n',
      'messages: 100% 1,000/1,000 messages (100 messages/s) done\n',
    ]);
  });
});

describe('message planning shortcuts', () => {
  // The planner reads entities and dates by hand (a million messages each); these hold it to the
  // general forms it replaced.
  const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  const unescapeByRegExp = (text: string) =>
    text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, entity: string) => {
      if (entity[0] !== '#') return NAMED[entity.toLowerCase()] ?? match;
      const codePoint = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : match;
    });

  it('unescapes HTML entities exactly as the regular expression it replaces', () => {
    const piece = fc.constantFrom(
      '&',
      ';',
      '#',
      'x',
      'X',
      'amp',
      'AMP',
      'lt',
      'quot',
      'nbsp',
      'foo',
      '1',
      '39',
      'fF',
      'g',
      '1114111',
      '110000',
      ' ',
      'é',
      'R&amp;D',
      '&#x',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        expect(unescapeHtml(text)).toBe(unescapeByRegExp(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads mongoexport dates to the millisecond as Date does, invalid ones included', () => {
    const valid = fc.integer({ min: 0, max: 253_402_300_799_999 }).chain((ms) => {
      const iso = new Date(ms).toISOString();
      return fc.constantFrom(iso, iso.replace(/\.\d+Z$/, 'Z'), `${iso.slice(0, 21)}Z`, `${iso.slice(0, 22)}Z`);
    });
    const odd = fc.constantFrom(
      '2025-02-30T00:00:00Z',
      '2025-02-29T00:00:00.000Z',
      '2025-13-01T00:00:00Z',
      '2025-06-01T24:00:00Z',
      '2025-06-01T00:01:00.Z',
      '2025-06-01T00:01:00.1234Z',
      '2025-06-01T00:01:00+02:00',
      'not a date',
    );
    fc.assert(
      fc.property(fc.oneof(valid, odd), (text) => {
        const expected = new Date(text).getTime();
        expect(parseExtendedJsonDate({ $date: text })?.getTime() ?? null).toBe(Number.isNaN(expected) ? null : expected);
      }),
      { numRuns: 5000 },
    );
  });
});
