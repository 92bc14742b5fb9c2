// TOTP against the test vectors of RFC 6238 (Appendix B) and HOTP against RFC 4226 (Appendix D).
import { describe, expect, it } from 'vitest';
import {
  base32Decode,
  base32Encode,
  hotp,
  matchTotp,
  otpauthUri,
  totpStep,
} from '../../src/domain/totp.js';

const SHA1 = Buffer.from('12345678901234567890');
const SHA256 = Buffer.from('12345678901234567890123456789012');
const SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');

describe('one-time passwords', () => {
  it('gives RFC 4226 HOTP values for counters 0 to 9', () => {
    expect(Array.from({ length: 10 }, (_, c) => hotp(SHA1, c))).toEqual([
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ]);
  });

  it.each([
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ])(
    'gives RFC 6238 TOTP values at %i s (SHA-1, SHA-256, SHA-512, 8 digits)',
    (t, s1, s256, s512) => {
      const step = totpStep(t);
      expect(hotp(SHA1, step, 8, 'sha1')).toBe(s1);
      expect(hotp(SHA256, step, 8, 'sha256')).toBe(s256);
      expect(hotp(SHA512, step, 8, 'sha512')).toBe(s512);
    },
  );

  it('accepts the code of this step and of one step either side, and names the step', () => {
    const t = 1_800_000_000;
    const now = totpStep(t);
    for (const step of [now - 1, now, now + 1]) {
      expect(matchTotp(SHA1, hotp(SHA1, step), t)).toBe(step);
    }
    expect(matchTotp(SHA1, hotp(SHA1, now - 2), t)).toBeUndefined();
    expect(matchTotp(SHA1, hotp(SHA1, now + 2), t)).toBeUndefined();
  });

  it('refuses anything but six digits', () => {
    const code = hotp(SHA1, totpStep(1_800_000_000));
    for (const bad of ['', '12345', '1234567', `${code} `, 'abcdef', '12 456']) {
      expect(matchTotp(SHA1, bad, 1_800_000_000)).toBeUndefined();
    }
  });
});

describe('base32 secrets', () => {
  it('round-trips bytes and reads RFC 4648 test vectors', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Decode('MZXW6YTBOI')?.toString()).toBe('foobar');
    expect(base32Decode('mzxw 6ytb oi======')?.toString()).toBe('foobar');
    expect(base32Decode('MZXW6YTB0I')).toBeUndefined();
    const secret = Buffer.from('0123456789abcdefghij');
    expect(base32Decode(base32Encode(secret))).toEqual(secret);
  });

  it('writes the otpauth URI an authenticator app reads', () => {
    const uri = new URL(otpauthUri('Bulletin', 'ada@example.org', SHA1));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Bulletin:ada@example.org');
    expect(uri.searchParams.get('issuer')).toBe('Bulletin');
    expect(uri.searchParams.get('secret')).toBe(base32Encode(SHA1));
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});
