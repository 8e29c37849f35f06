import type { RawQuery } from './client.ts';

/**
 * A hand-written statement with named parameters (`:paymentId`), for hot paths that avoid query building.
 * The SQL names what it takes; callers pass an object, so no caller depends on parameter order. Compiled
 * once to `$1…$n`; `name` makes it a prepared statement on PostgreSQL (bump its version when the SQL changes).
 */
export interface Statement<P extends string> {
  readonly name: string;
  /** The SQL with `$n` placeholders. */
  readonly text: string;
  /** Parameter names in `$n` order. */
  readonly params: readonly P[];
}

/** `:name` not preceded by `:` or a word character (so `::jsonb` casts and `a:b` in strings are left alone). */
const PLACEHOLDER = /(?<![:\w]):([a-z][A-Za-z0-9]*)/g;

export function statement<P extends string>(name: string, sql: string): Statement<P> {
  const params: P[] = [];
  const text = sql.replace(PLACEHOLDER, (_, param: P) => {
    let index = params.indexOf(param);
    if (index === -1) index = params.push(param) - 1;
    return `$${index + 1}`;
  });
  return { name, text, params };
}

/** The statement's parameters in order; a missing one is a programming error, never a silent NULL. */
export function bind<P extends string>(s: Statement<P>, values: Readonly<Record<P, unknown>>): unknown[] {
  return s.params.map((p) => {
    if (values[p] === undefined) throw new Error(`${s.name}: no value for :${p}`);
    return values[p];
  });
}

/** Runs a statement on the database or a transaction. */
export function run<R extends Record<string, unknown>, P extends string>(query: RawQuery, s: Statement<P>, values: Readonly<Record<P, unknown>>): Promise<R[]> {
  return query<R>(s.text, bind(s, values), s.name);
}
