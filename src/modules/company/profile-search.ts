/**
 * The text a profile `search` matches: company name and description as one string. The GIN
 * trigram indexes and the query must spell this expression identically, or PostgreSQL cannot
 * match the query to its index and scans the whole table.
 */
export function searchDocumentSql(alias?: string): string {
  const column = (name: string) => (alias ? `${alias}."${name}"` : `"${name}"`);
  return `(${column('company_name')} || ' ' || coalesce(${column('description')}, ''))`;
}

/** A GIN trigram index over the search document: it serves `ILIKE '%term%'` for terms of 3+ characters. */
export const searchIndexSql = (table: string): string => `create index "${table}_search_index" on "${table}" using gin (${searchDocumentSql()} gin_trgm_ops)`;
