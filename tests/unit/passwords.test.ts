// Password hashes: scrypt with a per-hash salt and its parameters in the hash.
import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from '../../src/domain/passwords.js';

// Small parameters keep the tests quick; the format and the checks are the same.
const QUICK = { log2N: 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('verify the password they were made from, and no other', async () => {
    const hash = await hashPassword('correct horse battery', QUICK);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('differ for the same password (a salt each) and never contain it', async () => {
    const a = await hashPassword('the same password', QUICK);
    const b = await hashPassword('the same password', QUICK);
    expect(a).not.toBe(b);
    expect(a).not.toContain('the same password');
    expect(a).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  });

  it('treat canonically equal Unicode the same (NFC)', async () => {
    const hash = await hashPassword('Zo\u00eb secret phrase', QUICK);
    expect(await verifyPassword('Zoe\u0308 secret phrase', hash)).toBe(true);
  });

  it('never match a malformed or tampered hash', async () => {
    const hash = await hashPassword('correct horse battery', QUICK);
    const parts = hash.split('$');
    for (const bad of [
      '',
      'plain',
      parts.slice(0, 5).join('$'),
      ['bcrypt', ...parts.slice(1)].join('$'),
      [parts[0], '40', ...parts.slice(2)].join('$'),
      [...parts.slice(0, 5), 'AAAA'].join('$'),
    ]) {
      expect(await verifyPassword('correct horse battery', bad), bad).toBe(false);
    }
  });

  it('ask for a rehash when made with other parameters than today’s', async () => {
    expect(needsRehash(await hashPassword('correct horse battery', QUICK))).toBe(true);
    expect(needsRehash(await hashPassword('correct horse battery'))).toBe(false);
  });
});
