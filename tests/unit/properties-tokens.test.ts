// Property-based tests of the signed-link codec and API-token hashing (fast-check): a link
// verifies only as itself, for its own purpose, with a key the service knows; one character
// away from a genuine token is as unknown as garbage.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signLink, signingKey, verifyLink, type LinkPurpose } from '../../src/domain/links.js';
import {
  generateApiToken,
  hashToken,
  secretsEqual,
  TOKEN_PREFIX,
} from '../../src/domain/tokens.js';
import { neutralizeFormula, restoreFormula } from '../../src/domain/text.js';
import { normalizeEmail } from '../../src/domain/email.js';

const PURPOSES: LinkPurpose[] = ['unsubscribe', 'preferences', 'confirm', 'bounce'];
const purpose = fc.constantFrom(...PURPOSES);
const secret = fc.string({ minLength: 32, maxLength: 64 });
const payload = fc.record({
  purpose,
  subscriberUuid: fc.uuid(),
  campaignUuid: fc.option(fc.uuid(), { nil: undefined }),
});
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';

describe('signed links', () => {
  it('round-trip for any uuids, purpose and key, in the URL-safe alphabet', () => {
    fc.assert(
      fc.property(secret, payload, (s, p) => {
        const key = signingKey(s);
        const token = signLink(key, p);
        expect(token).toMatch(/^[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]+$/);
        expect(verifyLink([key], token, p.purpose)).toEqual({
          purpose: p.purpose,
          subscriberUuid: p.subscriberUuid.toLowerCase(),
          ...(p.campaignUuid ? { campaignUuid: p.campaignUuid.toLowerCase() } : {}),
        });
      }),
      { numRuns: 300 },
    );
  });

  it('verify for their own purpose only', () => {
    fc.assert(
      fc.property(secret, payload, purpose, (s, p, other) => {
        fc.pre(other !== p.purpose);
        const key = signingKey(s);
        expect(verifyLink([key], signLink(key, p), other)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('any one-character change, truncation or extension is unknown', () => {
    fc.assert(
      fc.property(
        secret,
        payload,
        fc.nat(),
        fc.constantFrom(...ALPHABET),
        fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 4 }),
        (s, p, where, char, extra) => {
          const key = signingKey(s);
          const token = signLink(key, p);
          const i = where % token.length;
          const changed = token.slice(0, i) + char + token.slice(i + 1);
          fc.pre(changed !== token);
          for (const forged of [
            changed,
            token.slice(0, i),
            token + extra,
            token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
          ]) {
            if (forged === token) continue;
            expect(verifyLink([key], forged, p.purpose), forged).toBeUndefined();
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('verify with a former key only while that key is still configured', () => {
    fc.assert(
      fc.property(secret, secret, payload, (oldSecret, newSecret, p) => {
        fc.pre(oldSecret !== newSecret);
        const before = signingKey(oldSecret);
        const after = signingKey(newSecret);
        fc.pre(before.id !== after.id);
        const token = signLink(before, p);
        expect(verifyLink([after, before], token, p.purpose)).toBeDefined();
        expect(verifyLink([after], token, p.purpose)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('never throws, whatever string is presented', () => {
    const key = signingKey('a-fixed-secret-for-the-property-test-0123');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), purpose, (text, p) => {
        expect(verifyLink([key], text, p)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('API tokens', () => {
  it('are stored as a hash that is deterministic, fixed-size and never the token', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (token) => {
        const hash = hashToken(token);
        expect(hash).toHaveLength(32);
        expect(hashToken(token).equals(hash)).toBe(true);
        expect(hash.toString('utf8')).not.toBe(token);
        expect(secretsEqual(token, token)).toBe(true);
        expect(secretsEqual(token, `${token}x`)).toBe(false);
      }),
    );
    const made = Array.from({ length: 50 }, () => generateApiToken());
    expect(new Set(made.map((m) => m.token)).size).toBe(50);
    for (const m of made) {
      expect(m.token.startsWith(TOKEN_PREFIX)).toBe(true);
      expect(m.hash.equals(hashToken(m.token))).toBe(true);
      expect(m.prefix.length).toBeLessThan(m.token.length / 3);
    }
  });
});

describe('values the CSV export protects', () => {
  it('a neutralised cell never starts a formula and restores to itself', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("'", '=', '+', '-', '@', '\t', '\r', 'a', ' ', '"'),
          maxLength: 8,
        }),
        (cell) => {
          const out = neutralizeFormula(cell);
          expect(out).not.toMatch(/^[=+\-@\t\r]/);
          expect(restoreFormula(out)).toBe(cell);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('address normalisation is idempotent and lower-cases the domain', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const once = normalizeEmail(address);
        if (!once.ok) return;
        expect(normalizeEmail(once.email)).toEqual(once);
        const domain = once.email.slice(once.email.lastIndexOf('@') + 1);
        expect(domain).toBe(domain.toLowerCase());
      }),
      { numRuns: 500 },
    );
  });
});
