import { hash } from 'node:crypto';

// Conversions from the original's data to this platform's, each a decision written once.

export type WebsiteOutcome =
  | { website: string; change: 'none' | 'empty' }
  | { website: string; change: 'scheme_added' }
  | { website: ''; change: 'unusable'; original: string };

/**
 * The original's URLField allowed `''` and hand-typed values without a scheme. `''` stays empty
 * (no website); a bare host gets `https://`; `http://` and paths are kept as given; anything that
 * is still not an http(s) URL with a dotted host is left empty and reported.
 */
export function normaliseWebsite(raw: string | null): WebsiteOutcome {
  const value = (raw ?? '').trim();
  if (!value) return { website: '', change: 'empty' };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  if (!isHttpUrl(withScheme) || withScheme.length > 2048) return { website: '', change: 'unusable', original: value };
  return withScheme === value ? { website: value, change: 'none' } : { website: withScheme, change: 'scheme_added' };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.includes('.') && !/\s/.test(value);
  } catch {
    return false;
  }
}

/** Emails are case-insensitive here: registration and login lower-case them. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

/** Django stores blank names as `''`; here a missing name is null, as registration leaves it. */
export const optionalText = (value: string | null): string | null => (value && value.trim() ? value : null);

/** Length as people (and Python's `len`, which enforced the original's limits) count it. */
export const codePointLength = (text: string): number => {
  let length = 0;
  for (const _ of text) length += 1;
  return length;
};

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * Reverses the HTML escaping `bleach.clean()` applied in the original's `save_message()`
 * (`R&amp;D` → `R&D`). This platform stores what the user typed and escapes on output.
 */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, entity: string) => {
    if (entity[0] === '#') {
      const codePoint = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : match;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? match;
  });
}

/**
 * mongoexport writes dates as `{"$date": "<ISO 8601, 0–3 fraction digits>"}` (relaxed mode) or,
 * outside years 1970–9999, `{"$date": {"$numberLong": "<ms>"}}`.
 */
export function parseExtendedJsonDate(value: unknown): Date | null {
  if (value === null || typeof value !== 'object' || !('$date' in value)) return null;
  const inner = (value as { $date: unknown }).$date;
  let date: Date;
  if (typeof inner === 'string') date = new Date(inner);
  else if (typeof inner === 'number') date = new Date(inner);
  else if (inner !== null && typeof inner === 'object' && '$numberLong' in inner) date = new Date(Number((inner as { $numberLong: unknown }).$numberLong));
  else return null;
  return Number.isNaN(date.getTime()) ? null : date;
}

export function parseObjectId(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || !('$oid' in value)) return null;
  const oid = (value as { $oid: unknown }).$oid;
  return typeof oid === 'string' && /^[0-9a-f]{24}$/i.test(oid) ? oid.toLowerCase() : null;
}

/** What a target row was written from; a re-run compares it to decide skip or update. */
export const fingerprint = (values: ReadonlyArray<string | number | boolean | null>): string =>
  // One-shot hash: no Hash object per record (the same digest as createHash, so earlier mappings still match).
  hash('sha256', JSON.stringify(values), 'base64url');
