import { DriverException, type EntityManager } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';

/**
 * Raw SQL with checked rows. A statement names its parameters (`:viewerId`; a `::type` cast is
 * left alone) and declares the shape of its rows once, as column parsers: the driver's strings
 * become `Date`s here and nowhere else, and a row that is not what the statement claims fails
 * loudly instead of travelling on under a false type.
 *
 * Parsers are hand-written rather than zod: `sendMessage` parses one row per message on the chat
 * hot path, and a typeof check per column is all that needs.
 */

/** A row as the driver returns it: column names to whatever the driver made of the value. */
export type RawRow = Readonly<Record<string, unknown>>;

/** Reads one column's value; `column` only names it in the error. */
export type Column<T> = (value: unknown, column: string) => T;

export type RowParser<T> = (raw: RawRow) => T;

export class RowShapeError extends Error {
  constructor(column: string, expected: string, value: unknown) {
    super(`column "${column}": expected ${expected}, got ${value === null ? 'null' : typeof value}`);
    this.name = 'RowShapeError';
  }
}

const expect =
  <T>(expected: string, accept: (value: unknown) => value is T): Column<T> =>
  (value, column) => {
    if (accept(value)) return value;
    throw new RowShapeError(column, expected, value);
  };

const isString = (value: unknown): value is string => typeof value === 'string';

/** Column parsers for the types our statements return. */
export const col = {
  text: expect('text', isString),
  uuid: expect('a uuid', isString),
  bool: expect('a boolean', (value): value is boolean => typeof value === 'boolean'),
  /** `int4` (cast `count(*)::int`): the driver gives a number. */
  int: expect('an int', (value): value is number => typeof value === 'number' && Number.isInteger(value)),
  /** `int8`/`bigint`: the driver gives a string, kept as one so no precision is lost. */
  bigint: expect('a bigint', isString),
  /** `timestamptz`: the driver hands text (MikroORM keeps it unparsed for precision); a Date here. */
  timestamp: ((value, column) => {
    if (value instanceof Date) return value;
    if (typeof value === 'string') {
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) return date;
    }
    throw new RowShapeError(column, 'a timestamp', value);
  }) satisfies Column<Date>,
  /** SQL null is null; a column the row lacks (undefined) is still an error. */
  nullable:
    <T>(parse: Column<T>): Column<T | null> =>
    (value, column) =>
      value === null ? null : parse(value, column),
};

/**
 * A row parser from one parser per column; the row's type follows from it (or, given as `T`,
 * is checked against it). Keys are the names the SQL gives the columns.
 */
export function row<T>(columns: { readonly [K in keyof T]: Column<T[K]> }): RowParser<T> {
  const entries = Object.entries(columns) as [keyof T & string, Column<unknown>][];
  return (raw) => {
    const parsed = {} as T;
    for (const [name, parse] of entries) parsed[name] = parse(raw[name], name) as T[typeof name];
    return parsed;
  };
}

export type RowOf<P> = P extends RowParser<infer T> ? T : never;

type Scalar = string | number | boolean | Date | null;

/** Named parameters. An array binds as one PostgreSQL array: write `= any(:ids::uuid[])`. */
export type Params = Readonly<Record<string, Scalar | readonly (string | number)[]>>;

/**
 * A statement compiled once: for MikroORM (its transactions) with `?` placeholders, and for the
 * driver with `$n` ones (one number per name, so a name cast once has one type everywhere) under
 * the name of a prepared statement.
 */
interface Compiled {
  text: string;
  names: string[];
  numbered: string;
  numberedNames: string[];
  preparedName: string;
}

// `:name`, but not the `:type` of a `::type` cast.
const NAMED_PARAMETER = /(?<!:):([A-Za-z_]\w*)/g;

// Statement texts are the constants of the repositories (values never go into them), so this
// holds a few dozen entries, and the hot path pays a lookup instead of a regular expression.
const compiled = new Map<string, Compiled>();

function compile(query: string): Compiled {
  let found = compiled.get(query);
  if (!found) {
    const names: string[] = [];
    const text = query.replace(NAMED_PARAMETER, (_match, name: string) => {
      names.push(name);
      return '?';
    });
    const numberedNames: string[] = [];
    const numbered = query.replace(NAMED_PARAMETER, (_match, name: string) => {
      const index = numberedNames.includes(name) ? numberedNames.indexOf(name) : numberedNames.push(name) - 1;
      return `$${index + 1}`;
    });
    found = { text, names, numbered, numberedNames, preparedName: `typed_sql_${compiled.size + 1}` };
    compiled.set(query, found);
  }
  return found;
}

/** `{"a","b"}`: MikroORM would otherwise spread an array into a comma-separated list. */
const arrayLiteral = (values: readonly (string | number)[]) => `{${values.map((value) => `"${String(value).replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;

function bind(names: readonly string[], params: Params): Scalar[] {
  return names.map((name) => {
    if (!Object.hasOwn(params, name)) throw new Error(`SQL parameter :${name} has no value`);
    const value = params[name];
    return Array.isArray(value) ? arrayLiteral(value) : (value as Scalar);
  });
}

const preparing = new WeakMap<Pool, Promise<boolean>>();

/**
 * Whether named prepared statements are safe on this pool's server: not on the embedded PGlite,
 * whose socket server multiplexes every connection onto one backend session, where a statement
 * one connection prepared already exists for the next. Asked of the server once per pool.
 */
function preparesStatements(pool: Pool): Promise<boolean> {
  let answer = preparing.get(pool);
  if (!answer) {
    answer = pool.query<{ version: string }>('select version()').then(
      (result) => !result.rows[0]?.version.includes('PGlite'),
      (error: unknown) => {
        preparing.delete(pool); // a database that was down is asked again next time
        throw error;
      },
    );
    preparing.set(pool, answer);
  }
  return answer;
}

/**
 * On `em`'s transaction when it has one: the statements that must be atomic with the ORM's
 * writes (claims, rotations, read marks) must not escape it. Otherwise (except on PGlite) straight
 * to the driver's pool (the one MikroORM uses) as a prepared statement: PostgreSQL then parses and plans each
 * statement once per connection instead of once per call, which for the chat's and the
 * refresh's multi-CTE statements was most of their server time, and the ORM's per-call
 * formatting of values into the text goes too. Errors are converted as the ORM converts them
 * (retries look for its DeadlockException) on both paths, and the statement is logged like the ORM's.
 */
async function execute(em: EntityManager, query: string, params: Params): Promise<readonly RawRow[]> {
  const statement = compile(query);
  const transaction = em.getTransactionContext();
  const pool = await em.getConnection().getNativeClient();
  const prepared = !transaction && (await preparesStatements(pool));
  const values = bind(prepared ? statement.numberedNames : statement.names, params);
  try {
    if (!prepared) return await em.getConnection().execute<RawRow[]>(statement.text, values, 'all', transaction);
    const started = performance.now();
    try {
      return (await pool.query<RawRow>({ name: statement.preparedName, text: statement.numbered, values })).rows;
    } finally {
      em.config.getLogger().logQuery({ query: statement.text, took: Math.round(performance.now() - started), level: 'info' });
    }
  } catch (error) {
    // The connection hands the driver's error on as it is; the ORM's own statements convert it.
    throw error instanceof Error && !(error instanceof DriverException) ? em.getDriver().convertException(error) : error;
  }
}

/** Runs a statement and parses every row it returns. */
export async function queryRows<T>(em: EntityManager, parse: RowParser<T>, query: string, params: Params = {}): Promise<T[]> {
  return (await execute(em, query, params)).map(parse);
}

/** Runs a statement that returns at most one row; null when it returns none. */
export async function queryRow<T>(em: EntityManager, parse: RowParser<T>, query: string, params: Params = {}): Promise<T | null> {
  const [first] = await execute(em, query, params);
  return first ? parse(first) : null;
}

/** Runs a statement whose rows nobody reads. */
export async function run(em: EntityManager, query: string, params: Params = {}): Promise<void> {
  await execute(em, query, params);
}
