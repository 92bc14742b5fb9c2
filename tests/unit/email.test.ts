import { domainToASCII } from 'node:url';
import { describe, expect, it } from 'vitest';
import { maskEmail, normalizeEmail } from '../../src/domain/email.js';

const accepted = (input: string) => {
  const result = normalizeEmail(input);
  expect(result, JSON.stringify(input)).toMatchObject({ ok: true });
  return (result as { email: string }).email;
};

const refused = (input: unknown) => {
  const result = normalizeEmail(input);
  expect(result, JSON.stringify(input)).toMatchObject({ ok: false });
  return (result as { reason: string }).reason;
};

describe('normalizeEmail', () => {
  it.each([
    ['ada@example.org', 'ada@example.org'],
    ['  ada@example.org\t', 'ada@example.org'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['x_y-z!#$%&*/=?^`{|}~@example.org', 'x_y-z!#$%&*/=?^`{|}~@example.org'],
    ['a@xn--bcher-kva.example', 'a@xn--bcher-kva.example'],
  ])('accepts %j as %j', (input, expected) => {
    expect(accepted(input)).toBe(expected);
  });

  it('lower-cases the domain but keeps the local part as written', () => {
    expect(accepted('John.Doe@Example.ORG')).toBe('John.Doe@example.org');
  });

  it.each([
    ['user@Bücher.example', 'user@xn--bcher-kva.example'],
    ['info@пример.рф', 'info@xn--e1afmkfd.xn--p1ai'],
    ['a@MÜNCHEN.de', 'a@xn--mnchen-3ya.de'],
  ])('punycodes the internationalised domain of %j', (input, expected) => {
    expect(accepted(input)).toBe(expected);
  });

  it.each([
    ['a quoted local part holding an @ and a space', '"a@x y"@z.org'],
    ['a quoted local part', '"ada"@example.org'],
    ['a second @', 'a@b@c.org'],
    ['a second @ without a TLD', 'a@b@c'],
    ['a comment', 'a (comment)@x.org'],
    ['a comment after the address', 'a@x.org (comment)'],
    ['a header smuggled after CR LF', 'a@x.org\r\nBcc: b@y.org'],
    ['a line feed inside', 'a@x.org\nb@y.org'],
    ['a NUL', 'a\u0000@x.org'],
    ['a DEL', 'a\u007f@x.org'],
    ['a space in the local part', 'a b@x.org'],
    ['a space in the domain', 'a@x y.org'],
    ['a tab in the domain', 'a@x\t.org'],
    ['a line separator in the local part', 'a\u2028b@x.org'],
    ['a list of two addresses', 'a@x.org, b@y.org'],
    ['a display name', 'Ada <ada@example.org>'],
    ['a route address', '<@relay.org:ada@example.org>'],
    ['no TLD', 'ada@localhost'],
    ['a one-letter TLD', 'ada@example.o'],
    ['a numeric TLD', 'ada@1.2.3.4'],
    ['an address literal', 'ada@[127.0.0.1]'],
    ['a trailing dot on the domain', 'ada@example.org.'],
    ['an empty label', 'ada@example..org'],
    ['a label starting with a hyphen', 'ada@-example.org'],
    ['an underscore in the domain', 'ada@ex_ample.org'],
    ['a dot at the start of the local part', '.ada@example.org'],
    ['two dots in a row in the local part', 'a..da@example.org'],
    ['no local part', '@example.org'],
    ['no domain', 'ada@'],
    ['no @', 'ada.example.org'],
    ['an empty string', ''],
    ['only spaces', '   '],
    ['an invalid punycode label', 'ada@xn--zz.org'],
  ])('refuses %s', (_what, input) => {
    refused(input);
  });

  it('says why the smuggled header is refused', () => {
    expect(refused('a@x.org\r\nBcc: b@y.org')).toMatch(/line breaks/);
  });

  it.each([null, undefined, 42, {}, ['a@x.org']])('refuses the non-string %j', (input) => {
    expect(refused(input)).toBe('must be a string');
  });

  it('accepts 254 characters and refuses 255', () => {
    const domain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.org`; // 189 characters
    const at254 = `${'l'.repeat(254 - 1 - domain.length)}@${domain}`;
    expect(at254.length).toBe(254);
    expect(accepted(at254)).toBe(at254);
    const at255 = `${'l'.repeat(255 - 1 - domain.length)}@${domain}`;
    expect(refused(at255)).toMatch(/254/);
  });

  it('refuses a local part longer than 64 characters', () => {
    expect(accepted(`${'a'.repeat(64)}@x.org`)).toHaveLength(70);
    expect(refused(`${'a'.repeat(65)}@x.org`)).toMatch(/64/);
  });

  it('refuses an address that grows past 254 characters once its domain is punycoded', () => {
    // Each label punycodes to 61 characters (under the 63 limit); the domain to 250.
    const label = '日本語のニュース配信速報天気予報経済政';
    const domain = `${label}.${label}.${label}.${label}.jp`;
    const input = `${'a'.repeat(10)}@${domain}`;
    expect(input.length).toBeLessThanOrEqual(254);
    expect(domainToASCII(domain).length).toBeLessThanOrEqual(253);
    expect(10 + 1 + domainToASCII(domain).length).toBeGreaterThan(254);
    refused(input);
  });
});

describe('maskEmail', () => {
  it('keeps two letters and the domain', () => {
    expect(maskEmail('jane@example.org')).toBe('ja***@example.org');
    expect(maskEmail('j@example.org')).toBe('j***@example.org');
    expect(maskEmail('not-an-address')).toBe('***');
  });
});
