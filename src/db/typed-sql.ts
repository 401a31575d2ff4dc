import type { EntityManager } from '@mikro-orm/postgresql';

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

/** A statement with its `:name`s turned into `?`s, and the names in placeholder order. */
interface Positional {
  text: string;
  names: string[];
}

// `:name`, but not the `:type` of a `::type` cast.
const NAMED_PARAMETER = /(?<!:):([A-Za-z_]\w*)/g;

// Statement texts are the constants of the repositories (values never go into them), so this
// holds a few dozen entries, and the hot path pays a lookup instead of a regular expression.
const compiled = new Map<string, Positional>();

function positional(query: string): Positional {
  let found = compiled.get(query);
  if (!found) {
    const names: string[] = [];
    const text = query.replace(NAMED_PARAMETER, (_match, name: string) => {
      names.push(name);
      return '?';
    });
    found = { text, names };
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

// On `em`'s transaction when it has one: the statements that must be atomic with the ORM's
// writes (claims, rotations, read marks) must not escape it.
function execute(em: EntityManager, query: string, params: Params) {
  const { text, names } = positional(query);
  return em.getConnection().execute<RawRow[]>(text, bind(names, params), 'all', em.getTransactionContext());
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
