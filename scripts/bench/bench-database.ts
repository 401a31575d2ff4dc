import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { initORM, migrate } from '../../src/db/db.js';
import { hashPassword } from '../../src/modules/auth/passwords.js';
import { seedReferenceData } from '../../src/db/seeders/reference-data.js';

export const BENCH_PASSWORD = 'bench password 1234';

export interface BenchUser {
  id: string;
  email: string;
  role: 'STARTUP' | 'INVESTOR';
}

export interface BenchDatabase {
  url: string;
  /** The argon2id hash every bench user has (the app's own hashPassword, so its parameters). */
  passwordHash: string;
  startups: BenchUser[];
  investors: BenchUser[];
  drop(): Promise<void>;
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the server of `serverUrl`, migrated and seeded like `npm start` does,
 * plus `usersPerRole` active startups and investors with profiles. Users go in with SQL:
 * registration needs an emailed activation, and one hash serves every user.
 */
export async function createBenchDatabase(serverUrl: string, usersPerRole: number): Promise<BenchDatabase> {
  const name = `forum_bench_${randomBytes(6).toString('hex')}`;
  await admin(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = () => admin(serverUrl, `drop database if exists "${name}" with (force)`);
  try {
    const orm = await initORM(url.toString(), 2);
    try {
      await migrate(orm);
      await seedReferenceData(orm.em.fork());
    } finally {
      await orm.close(true);
    }
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const startups = await insertUsers(client, 'STARTUP', usersPerRole, passwordHash);
      const investors = await insertUsers(client, 'INVESTOR', usersPerRole, passwordHash);
      await client.query('analyze');
      return { url: url.toString(), passwordHash, startups, investors, drop };
    } finally {
      await client.end();
    }
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}

async function insertUsers(client: pg.Client, role: BenchUser['role'], count: number, passwordHash: string): Promise<BenchUser[]> {
  const prefix = role.toLowerCase();
  const { rows } = await client.query<{ id: string; email: string }>(
    `insert into "user" ("id", "email", "password_hash", "role", "first_name", "last_name", "is_active", "activated_at", "created_at", "updated_at")
     select gen_random_uuid(), $1 || '-' || i || '@bench.local', $2, $3::user_role, 'Bench', 'User ' || i, true, now(), now(), now()
     from generate_series(1, $4::int) as i
     returning "id", "email"`,
    [prefix, passwordHash, role, count],
  );
  const table = role === 'STARTUP' ? 'startup_profile' : 'investor_profile';
  const industry = role === 'STARTUP' ? ', "industry_id"' : '';
  const industryValue = role === 'STARTUP' ? ', 1' : '';
  await client.query(
    `insert into "${table}" ("id", "owner_id", "company_name", "website", "description"${industry}, "location_id", "created_at", "updated_at")
     select gen_random_uuid(), u."id", 'Bench ' || u."last_name", 'https://bench.example', 'A company made up for the benchmark'${industryValue}, 1, now(), now()
     from "user" u where u."role" = $1::user_role`,
    [role],
  );
  // Sorted by number, so user i of one role pairs with user i of the other.
  const number = (email: string) => Number(/-(\d+)@/.exec(email)?.[1] ?? 0);
  return rows.map((row) => ({ id: row.id, email: row.email, role })).sort((a, b) => number(a.email) - number(b.email));
}
