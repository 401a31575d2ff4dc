import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../src/db/db.js';
import { withTimeout } from './helpers/time.js';

/**
 * The embedded database (PGlite behind its socket server) runs every connection on one backend
 * session. The pool of `npm start` without DATABASE_URL, and two instances in a test, use several
 * connections at once: each one's statements and transactions must still reach the backend whole.
 */
describe('the embedded database with several connections', () => {
  it('keeps transactions and parameterised statements of concurrent connections apart: none hangs, none is lost', async () => {
    const embedded = await startEmbeddedPostgres();
    const pool = new pg.Pool({ connectionString: embedded.url, max: 6 });
    try {
      await pool.query('create table counter (id int primary key, n int not null)');
      await pool.query('insert into counter values (1, 0)');
      // Read, then write what was read plus one: lost updates would show if two transactions overlapped.
      const increment = async () => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const { rows } = await client.query<{ n: number }>('select n from counter where id = $1', [1]);
          await client.query('update counter set n = $1 where id = $2', [rows[0]!.n + 1, 1]);
          await client.query('commit');
        } finally {
          client.release();
        }
      };
      const read = async () => (await pool.query<{ n: number }>('select n from counter where id = $1', [1])).rows[0]!.n;
      const runs = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? increment() : read()));
      await withTimeout(Promise.all(runs), 30_000, '300 statements and transactions on six connections');
      expect(await read()).toBe(100);
    } finally {
      await pool.end();
      await embedded.stop();
    }
  }, 60_000);

  it('rolls back what a connection that leaves mid-transaction left open, and serves the others', async () => {
    const embedded = await startEmbeddedPostgres();
    const pool = new pg.Pool({ connectionString: embedded.url, max: 2 });
    try {
      await pool.query('create table note (body text not null)');
      const leaving = new pg.Client({ connectionString: embedded.url });
      await leaving.connect();
      await leaving.query('begin');
      await leaving.query('insert into note values ($1)', ['never committed']);
      // Another connection waits for the backend while the transaction holds it.
      const waiting = pool.query<{ n: number }>('select count(*)::int as n from note');
      await leaving.end();
      expect((await withTimeout(waiting, 10_000, 'the other connection')).rows[0]!.n).toBe(0);
      await pool.query('insert into note values ($1)', ['committed']);
      expect((await pool.query<{ body: string }>('select body from note')).rows).toEqual([{ body: 'committed' }]);
    } finally {
      await pool.end();
      await embedded.stop();
    }
  }, 60_000);
});
