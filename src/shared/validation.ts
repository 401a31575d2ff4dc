import { z } from 'zod';
import { badUserInput, type FieldErrors } from './errors.js';

/**
 * Parses input with a zod schema; every problem becomes an entry of `extensions.fields`,
 * keyed by the input field it belongs to.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join('.') || 'input';
    fields[key] ??= issue.message;
  }
  throw badUserInput(fields);
}

// Control characters other than tab/newline have no place in names, and they break emails and logs.
export const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export const cleanText = (max: number, label = 'This field') =>
  z
    .string()
    .trim()
    .min(1, `${label} must not be empty.`)
    .max(max, `${label} must be at most ${max} characters.`)
    .refine((value) => !CONTROL_CHARS.test(value), `${label} contains control characters.`);

export const optionalName = (label: string) =>
  z
    .string()
    .trim()
    .max(100, `${label} must be at most 100 characters.`)
    .refine((value) => !CONTROL_CHARS.test(value), `${label} contains control characters.`)
    .transform((value) => value || null)
    .nullish();

export const emailField = z.string().trim().toLowerCase().max(254, 'Email must be at most 254 characters.').pipe(z.email('Enter a valid email address.'));

/** An email argument, normalized; BAD_USER_INPUT on `email` otherwise. */
export const parseEmail = (email: string): string => parseInput(z.object({ email: emailField }), { email }).email;

export const passwordField = z
  .string()
  .min(8, 'Password must be at least 8 characters.')
  .max(256, 'Password must be at most 256 characters.')
  .refine((value) => !/^\d+$/.test(value), 'Password must not be all digits.');

export const websiteField = z
  .string()
  .trim()
  .max(2048, 'Website must be at most 2048 characters.')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.includes('.');
    } catch {
      return false;
    }
  }, 'Website must be an http(s) URL, such as https://example.com.');

/** GraphQL ID of an integer-keyed row (industry, location). */
export const intIdField = (label: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,9}$/, `${label} is not a valid id.`)
    .transform(Number)
    .refine((value) => value <= 2_147_483_647, `${label} is not a valid id.`);

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value);
