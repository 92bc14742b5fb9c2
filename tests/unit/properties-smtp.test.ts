// Property-based tests of the SMTP error classifier (fast-check), the rules of docs/contract.md §4.3
// and §5 for every code and text: 4xx retries, authentication trouble counts toward the
// auto-pause, x.2.2 is soft, 5.7.x blames the sender, other 5xx bounce hard; never a throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/domain/smtp-errors.js';

const text = fc.string({ maxLength: 200 });
const enhanced = (cls: number) =>
  fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .map(([a, b]) => `${cls}.${a}.${b}`);

describe('the SMTP classifier, for any answer', () => {
  it('4xx is transient (retried), whatever the text, x.2.2 included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 499 }), enhanced(4), text, (code, status, words) => {
        const verdict = classifySmtpError({
          responseCode: code,
          response: `${code} ${status} ${words}`,
        });
        expect(verdict.kind).toBe('transient');
      }),
      { numRuns: 500 },
    );
    expect(classifySmtpError({ responseCode: 452, response: '452 4.2.2 Mailbox full' }).kind).toBe(
      'transient',
    );
  });

  it('authentication refusals are transport errors, not bounces', () => {
    fc.assert(
      fc.property(fc.constantFrom(530, 534, 535), text, (code, words) => {
        expect(classifySmtpError({ responseCode: code, response: `${code} ${words}` }).kind).toBe(
          'transport',
        );
        expect(classifySmtpError({ code: 'EAUTH', message: words }).kind).toBe('transport');
      }),
    );
  });

  it('5xx: x.2.2 is a soft bounce, 5.7.x blames the sender, any other enhanced code is hard', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 500, max: 599 }).filter((c) => ![530, 534, 535].includes(c)),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 9 }),
        text,
        (code, subject, detail, words) => {
          const status = `5.${subject}.${detail}`;
          const verdict = classifySmtpError({
            responseCode: code,
            response: `${code} ${status} ${words}`,
          });
          if (subject === 2 && detail === 2)
            expect(verdict).toMatchObject({ kind: 'bounce', bounceType: 'soft' });
          else if (subject === 7) expect(verdict.kind).toBe('sender-blame');
          else expect(verdict).toMatchObject({ kind: 'bounce', bounceType: 'hard' });
        },
      ),
      { numRuns: 1000 },
    );
    expect(
      classifySmtpError({ responseCode: 552, response: '552 5.2.2 Mailbox full' }),
    ).toMatchObject({
      kind: 'bounce',
      bounceType: 'soft',
    });
  });

  it('without a reply, a refused connection is a transport error and anything else is retried', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'),
        text,
        (errno, words) => {
          expect(
            classifySmtpError({ code: 'ESOCKET', message: `connect ${errno} ${words}` }).kind,
          ).toBe('transport');
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('ETIMEDOUT', 'ECONNECTION', 'ESOCKET'),
        fc.string({ unit: fc.constantFrom('a', ' ', 'x', '.'), maxLength: 40 }),
        (code, words) => {
          expect(classifySmtpError({ code, message: `${code} ${words}` }).kind).toBe('transient');
        },
      ),
    );
  });

  it('is total: any object gives a verdict with a reason of at most 500 characters', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            code: fc.oneof(fc.string(), fc.constant(undefined)),
            responseCode: fc.oneof(
              fc.integer({ min: -1000, max: 100_000 }),
              fc.double(),
              fc.constant(undefined),
            ),
            response: fc.oneof(fc.string({ maxLength: 2000 }), fc.constant(undefined)),
            message: fc.oneof(fc.string({ maxLength: 2000 }), fc.constant(undefined)),
            command: fc.oneof(fc.string(), fc.constant(undefined)),
          },
          { requiredKeys: [] },
        ),
        (error) => {
          const verdict = classifySmtpError(error);
          expect(['transient', 'transport', 'bounce', 'sender-blame']).toContain(verdict.kind);
          expect(verdict.reason.length).toBeLessThanOrEqual(500);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
