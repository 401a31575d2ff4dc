import type { ImportReport } from './import-report.js';
import type { ImportTarget } from './target.js';

// The original's industries and locations are plain names; here industries are names too and
// locations are (country, city). Both are matched by name and created when missing.

/** The original's LOCATION_CHOICES are Ukrainian regions. */
const ORIGINAL_COUNTRY = 'Ukraine';
const OBLAST_SUFFIX = / oblast$/i;

/** Industry name → id (null in a dry run for one that would be created). */
export async function mapIndustries(target: ImportTarget, names: string[], report: ImportReport): Promise<Map<string, number | null>> {
  const { rows } = await target.query<{ id: number; name: string }>(`select "id", "name" from "industry"`);
  const byName = new Map(rows.map((row) => [row.name.toLowerCase(), row.id]));
  const result = new Map<string, number | null>();
  for (const name of names) {
    const existing = byName.get(name.trim().toLowerCase());
    if (existing !== undefined) {
      result.set(name, existing);
      report.count('industry', 'unchanged');
      continue;
    }
    let id: number | null = null;
    if (!target.dryRun) {
      const inserted = await target.query<{ id: number }>(
        `insert into "industry" ("name") values ($1) on conflict ("name") do update set "name" = excluded."name" returning "id"`,
        [name.trim()],
      );
      id = inserted.rows[0]!.id;
    }
    byName.set(name.trim().toLowerCase(), id ?? -1);
    result.set(name, id);
    report.count('industry', 'imported');
  }
  return result;
}

/**
 * Location name → id. A name matches a location whose city it is, or whose city it names as
 * "<city> Oblast" (an oblast is named after its capital, which is what this platform lists);
 * any other name becomes a new Ukrainian location of that name.
 */
export async function mapLocations(target: ImportTarget, names: string[], report: ImportReport): Promise<Map<string, number | null>> {
  const { rows } = await target.query<{ id: number; country: string; city: string | null }>(`select "id", "country", "city" from "location"`);
  const byCity = new Map<string, number>();
  for (const row of rows) if (row.city && row.country === ORIGINAL_COUNTRY) byCity.set(row.city.toLowerCase(), row.id);
  const result = new Map<string, number | null>();
  for (const name of names) {
    const key = name.trim().toLowerCase();
    const exact = byCity.get(key);
    if (exact !== undefined) {
      result.set(name, exact);
      report.count('location', 'unchanged');
      continue;
    }
    const capital = byCity.get(key.replace(OBLAST_SUFFIX, ''));
    if (capital !== undefined && OBLAST_SUFFIX.test(key)) {
      result.set(name, capital);
      report.count('location', 'unchanged');
      report.add({
        kind: 'location',
        sourceId: name,
        severity: 'note',
        code: 'location_matched_to_city',
        action: 'imported',
        message: `"${name}" is mapped to the existing location ${ORIGINAL_COUNTRY} / ${rows.find((r) => r.id === capital)?.city}.`,
      });
      continue;
    }
    let id: number | null = null;
    if (!target.dryRun) {
      const inserted = await target.query<{ id: number }>(
        `insert into "location" ("country", "city") values ($1, $2) on conflict ("country", "city") do update set "city" = excluded."city" returning "id"`,
        [ORIGINAL_COUNTRY, name.trim()],
      );
      id = inserted.rows[0]!.id;
    }
    byCity.set(key, id ?? -1);
    result.set(name, id);
    report.count('location', 'imported');
  }
  return result;
}
