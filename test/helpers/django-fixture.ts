import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/db.js';
import { withClient } from './database.js';

/** The Django original's data, with its documented traps (../shared/fixtures/django-original/README.md). */
export const DJANGO_FIXTURE_DIR = resolve(process.cwd(), '../shared/fixtures/django-original');

export interface DjangoSourceDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh copy of the original's PostgreSQL database, loaded from the fixture's schema.sql and
 * data.sql: a new database on the server of DATABASE_URL, or an embedded PostgreSQL otherwise.
 */
export async function loadDjangoFixture(): Promise<DjangoSourceDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  let database: DjangoSourceDatabase;
  if (serverUrl) {
    const name = `forum_django_${randomBytes(6).toString('hex')}`;
    await withClient(serverUrl, (client) => client.query(`create database "${name}"`));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    database = {
      url: url.toString(),
      drop: () => withClient(serverUrl, async (client) => void (await client.query(`drop database if exists "${name}" with (force)`))),
    };
  } else {
    const embedded = await startEmbeddedPostgres();
    database = { url: embedded.url, drop: () => embedded.stop() };
  }
  await withClient(database.url, async (client) => {
    // Both files are plain SQL (no psql commands), each one transaction.
    await client.query(readFileSync(join(DJANGO_FIXTURE_DIR, 'schema.sql'), 'utf8'));
    await client.query(readFileSync(join(DJANGO_FIXTURE_DIR, 'data.sql'), 'utf8'));
  });
  return database;
}

/** A writable copy of the fixture's chat export, for tests that change it. */
export function copyChatExport(): string {
  const dir = mkdtempSync(join(tmpdir(), 'django-chat-'));
  cpSync(join(DJANGO_FIXTURE_DIR, 'chat'), dir, { recursive: true });
  return dir;
}

/** The fixture README's plain passwords, by original user id. */
export const FIXTURE_USERS = {
  admin: { id: '1', email: 'admin@starthub.ua', password: 'Kyiv-Chestnut-1987' },
  olena: { id: '2', email: 'olena.kovalenko@dniproventures.com', password: 'Sunflower!Field42' },
  taras: { id: '3', email: 'Taras.Bondar@seedcapital.io', password: 'Blue-Carpathians-7' },
  iryna: { id: '4', email: 'iryna.shevchuk@ukr.net', password: 'Dnipro_River_2019' },
  maksym: { id: '5', email: 'maksym@agrosense.com.ua', password: 'Tractor#Morning55' },
  sofiia: { id: '6', email: 'sofiia@medibot.health', password: 'Львівська-Кава-24' },
  greengrid: { id: '7', email: 'team@greengrid.energy', password: 'Windmill+Orchard3' },
  petro: { id: '8', email: 'petro.marchenko@eduquest.org.ua', password: 'Chalkboard*Autumn9' },
  natalia: { id: '10', email: 'n.hnatyuk@horizoncap.com', password: 'Harbor^Lighthouse6' },
  tarasRobotics: { id: '11', email: 'taras.bondar@seedcapital.io', password: 'Gearbox~Sparrow51' },
  yulia: { id: '12', email: 'yulia.romanenko@gmail.com', password: 'Ledger&Poppy2025' },
  viktor: { id: '13', email: 'viktor.savchuk@savchuk-fo.com', password: '' },
} as const;
