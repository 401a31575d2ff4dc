import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../../src/shared/pagination.js';
import { JwtCodec, type TokenClaims } from '../../src/modules/auth/jwt.js';
import { emailField, parseInput, passwordField, websiteField } from '../../src/shared/validation.js';
import { z } from 'zod';

const codec = new JwtCodec({ secret: 'property-test-secret-that-is-long-enough', issuer: 'forum-api', audience: 'forum-api' });
const now = () => Math.floor(Date.now() / 1000);
const claims = (typ: 'access' | 'refresh'): TokenClaims => ({
  sub: '11111111-1111-4111-8111-111111111111',
  sid: '22222222-2222-4222-8222-222222222222',
  jti: '33333333-3333-4333-8333-333333333333',
  typ,
  iat: now(),
  exp: now() + 300,
});

/** Runs `fn`; returns the API error code it threw, 'OK' if it returned, or fails on anything else. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

const RUNS = 500;

describe('token verification (property-based)', () => {
  it(`refuses any arbitrary string with INVALID_TOKEN, never a crash (${RUNS} strings)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (token) => {
        expect(outcome(() => codec.verify(token, 'access'))).toBe('INVALID_TOKEN');
      }),
      { numRuns: RUNS },
    );
  });

  it(`refuses every single-character mutation of a valid token (${RUNS} mutations)`, () => {
    const token = codec.sign(claims('access'));
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'), (index, char) => {
        fc.pre(token[index] !== char);
        const mutated = token.slice(0, index) + char + token.slice(index + 1);
        // A change in the last character's padding bits can decode to the same bytes: that is the same signature.
        const result = outcome(() => codec.verify(mutated, 'access'));
        if (result === 'OK') expect(index).toBe(token.length - 1);
        else expect(result).toBe('INVALID_TOKEN');
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts what it signed, for the right type only', () => {
    fc.assert(
      fc.property(fc.constantFrom('access' as const, 'refresh' as const), (typ) => {
        const token = codec.sign(claims(typ));
        expect(codec.verify(token, typ)).toMatchObject({ typ });
        expect(outcome(() => codec.verify(token, typ === 'access' ? 'refresh' : 'access'))).toBe('INVALID_TOKEN');
      }),
    );
  });

  it('refuses payloads with any claim of the wrong shape', () => {
    fc.assert(
      fc.property(fc.record({ sub: fc.oneof(fc.string(), fc.integer()), sid: fc.string(), jti: fc.string() }), ({ sub, sid, jti }) => {
        const token = codec.sign({ ...claims('access'), sub: String(sub), sid, jti });
        const valid = [String(sub), sid, jti].every((v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));
        expect(outcome(() => codec.verify(token, 'access'))).toBe(valid ? 'OK' : 'INVALID_TOKEN');
      }),
      { numRuns: 200 },
    );
  });
});

describe('input validation (property-based)', () => {
  const schema = z.object({ email: emailField, password: passwordField, website: websiteField });

  it(`answers OK or BAD_USER_INPUT for any input, naming only real fields (${RUNS} inputs)`, () => {
    fc.assert(
      fc.property(fc.record({ email: fc.string(), password: fc.string(), website: fc.oneof(fc.string(), fc.webUrl()) }), (input) => {
        try {
          const parsed = parseInput(schema, input);
          expect(parsed.email).toBe(parsed.email.toLowerCase());
          expect(parsed.password.length).toBeGreaterThanOrEqual(8);
          expect(['http:', 'https:']).toContain(new URL(parsed.website).protocol);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).code).toBe('BAD_USER_INPUT');
          const fields = (error as AppError).extensions.fields as Record<string, string>;
          for (const key of Object.keys(fields)) expect(['email', 'password', 'website']).toContain(key);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('never accepts an all-digit password or a non-http(s) website', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{8,20}$/),
        fc.constantFrom('ftp://x.io', 'javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x'),
        (password, website) => {
          expect(outcome(() => parseInput(z.object({ password: passwordField }), { password }))).toBe('BAD_USER_INPUT');
          expect(outcome(() => parseInput(z.object({ website: websiteField }), { website }))).toBe('BAD_USER_INPUT');
        },
      ),
    );
  });
});

describe('pagination arguments (property-based)', () => {
  it('decodes only cursors it encoded; anything else is BAD_USER_INPUT', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (cursor) => {
        const result = outcome(() => decodeCursor(cursor));
        expect(['OK', 'BAD_USER_INPUT']).toContain(result);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.uuid(), (createdAt, id) => {
        expect(decodeCursor(encodeCursor({ createdAt, id }))).toEqual({ createdAt, id });
      }),
    );
  });

  it('caps first at 100 and refuses negatives', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 100_000 }), (first) => {
        if (first < 0) expect(outcome(() => pageSize(first))).toBe('BAD_USER_INPUT');
        else expect(pageSize(first)).toBe(Math.min(first, 100));
      }),
    );
  });
});
