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
export const optionalText = (value: string | null): string | null => (value?.trim() ? value : null);

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
 * Equivalent to replacing `/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi`; scanned by hand because a million
 * messages, most with an entity, spent a tenth of their planning in that replace's callbacks.
 */
export function unescapeHtml(text: string): string {
  let at = text.indexOf('&');
  if (at === -1) return text;
  let out = '';
  let copied = 0;
  while (at !== -1) {
    const end = entityEnd(text, at);
    if (end === -1) {
      at = text.indexOf('&', at + 1);
      continue;
    }
    const decoded = decodeEntity(text.slice(at + 1, end));
    if (decoded !== undefined) {
      out += text.slice(copied, at) + decoded;
      copied = end + 1;
    }
    at = text.indexOf('&', end + 1);
  }
  return out + text.slice(copied);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHexDigit = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);

/** Where the `;` of an entity starting at `&` (index `at`) is, or -1 when none starts there. */
function entityEnd(text: string, at: number): number {
  let i = at + 1;
  let accepts = isLetter;
  if (text.charCodeAt(i) === 35 /* # */) {
    i += 1;
    const x = text.charCodeAt(i);
    if ((x === 120 || x === 88) /* x X */ && isHexDigit(text.charCodeAt(i + 1))) {
      i += 1;
      accepts = isHexDigit;
    } else accepts = isDigit;
  }
  const first = i;
  while (i < text.length && accepts(text.charCodeAt(i))) i += 1;
  return i > first && text.charCodeAt(i) === 59 /* ; */ ? i : -1;
}

/** The character an entity (without `&` and `;`) stands for; undefined leaves it as written. */
function decodeEntity(entity: string): string | undefined {
  if (entity[0] !== '#') return NAMED_ENTITIES[entity.toLowerCase()];
  const codePoint = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
  return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : undefined;
}

/**
 * mongoexport writes dates as `{"$date": "<ISO 8601, 0–3 fraction digits>"}` (relaxed mode) or,
 * outside years 1970–9999, `{"$date": {"$numberLong": "<ms>"}}`.
 */
export function parseExtendedJsonDate(value: unknown): Date | null {
  const ms = parseExtendedJsonTime(value);
  return ms === null ? null : new Date(ms);
}

/** `parseExtendedJsonDate` in milliseconds, without a Date object. */
export function parseExtendedJsonTime(value: unknown): number | null {
  if (value === null || typeof value !== 'object' || !('$date' in value)) return null;
  const inner = (value as { $date: unknown }).$date;
  let ms: number;
  if (typeof inner === 'string') ms = parseUtcIso(inner) ?? Date.parse(inner);
  else if (typeof inner === 'number') ms = new Date(inner).getTime();
  else if (inner !== null && typeof inner === 'object' && '$numberLong' in inner)
    ms = new Date(Number((inner as { $numberLong: unknown }).$numberLong)).getTime();
  else return null;
  return Number.isNaN(ms) ? null : ms;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z`, mongoexport's usual form, read without the general date
 * parser (a tenth of the planning time of a message); null for anything else, which then goes to
 * `Date.parse`. Days past the 28th go there too, so that invalid dates fail exactly as before.
 */
function parseUtcIso(text: string): number | null {
  const n = text.length;
  if (n < 20 || n > 24 || text.charCodeAt(n - 1) !== 90 /* Z */) return null;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let fraction = 0;
  if (n > 20) {
    if (text[19] !== '.' || n === 21) return null;
    const fractionDigits = n - 21;
    fraction = digits(text, 20, fractionDigits);
    if (fraction < 0) return null;
    fraction *= fractionDigits === 1 ? 100 : fractionDigits === 2 ? 10 : 1;
  }
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59)
    return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, fraction);
}

/** The number written by `count` decimal digits from `from`, or -1. */
function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i += 1) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

export function parseObjectId(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || !('$oid' in value)) return null;
  const oid = (value as { $oid: unknown }).$oid;
  return typeof oid === 'string' && /^[0-9a-f]{24}$/i.test(oid) ? oid.toLowerCase() : null;
}

/** What a target row was written from; a re-run compares it to decide skip or update. */
export const fingerprint = (values: ReadonlyArray<string | number | boolean | null>): string => fingerprintOfJson(JSON.stringify(values));

/** `fingerprint` of values already written as their JSON array. */
export const fingerprintOfJson = (json: string): string =>
  // One-shot hash: no Hash object per record (the same digest as createHash, so earlier mappings still match).
  hash('sha256', json, 'base64url');
