import type { EntityManager } from '@mikro-orm/postgresql';
import { run } from '../typed-sql.js';

export const INDUSTRIES = [
  'FinTech',
  'HealthTech',
  'AgriTech',
  'EdTech',
  'CleanTech',
  'PropTech',
  'InsurTech',
  'LegalTech',
  'RetailTech',
  'FoodTech',
  'GovTech',
  'HRTech',
  'MarTech',
  'Logistics',
  'Cybersecurity',
  'Artificial Intelligence',
  'Blockchain',
  'E-commerce',
  'Gaming',
  'Biotech',
  'DefenseTech',
  'Mobility',
  'SaaS',
  'Media & Entertainment',
  'Travel & Hospitality',
] as const;

export const LOCATIONS: ReadonlyArray<{ country: string; city: string }> = [
  ...[
    'Kyiv',
    'Lviv',
    'Odesa',
    'Kharkiv',
    'Dnipro',
    'Ivano-Frankivsk',
    'Rivne',
    'Ternopil',
    'Sumy',
    'Vinnytsia',
    'Zaporizhzhia',
    'Chernivtsi',
    'Uzhhorod',
    'Lutsk',
    'Poltava',
    'Zhytomyr',
    'Cherkasy',
    'Khmelnytskyi',
    'Mykolaiv',
    'Chernihiv',
  ].map((city) => ({ country: 'Ukraine', city })),
  { country: 'Poland', city: 'Warsaw' },
  { country: 'Poland', city: 'Kraków' },
  { country: 'Germany', city: 'Berlin' },
  { country: 'Germany', city: 'Munich' },
  { country: 'United Kingdom', city: 'London' },
  { country: 'France', city: 'Paris' },
  { country: 'Netherlands', city: 'Amsterdam' },
  { country: 'Estonia', city: 'Tallinn' },
  { country: 'Lithuania', city: 'Vilnius' },
  { country: 'Portugal', city: 'Lisbon' },
  { country: 'Spain', city: 'Barcelona' },
  { country: 'Sweden', city: 'Stockholm' },
  { country: 'Switzerland', city: 'Zurich' },
  { country: 'Israel', city: 'Tel Aviv' },
  { country: 'United States', city: 'San Francisco' },
  { country: 'United States', city: 'New York' },
  { country: 'Canada', city: 'Toronto' },
  { country: 'Singapore', city: 'Singapore' },
];

/** Idempotent: adds whatever reference rows are missing, so it runs at every start. */
export async function seedReferenceData(em: EntityManager): Promise<void> {
  // unnest keeps the lists' order, so new rows get their ids in it.
  await run(em, `insert into "industry" ("name") select unnest(:names::text[]) on conflict ("name") do nothing`, { names: INDUSTRIES });
  await run(
    em,
    `insert into "location" ("country", "city") select * from unnest(:countries::text[], :cities::text[]) on conflict ("country", "city") do nothing`,
    { countries: LOCATIONS.map(({ country }) => country), cities: LOCATIONS.map(({ city }) => city) },
  );
}
