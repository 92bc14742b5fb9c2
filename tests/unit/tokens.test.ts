import { describe, expect, it } from 'vitest';
import {
  TOKEN_PREFIX,
  generateApiToken,
  generateSecretKey,
  hashToken,
  hashesEqual,
  secretsEqual,
} from '../../src/domain/tokens.js';

describe('API tokens', () => {
  it('hashes with SHA-256, the same way every time', () => {
    // The published SHA-256 test vector for "abc".
    expect(hashToken('abc').toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(hashToken('bt_same').equals(hashToken('bt_same'))).toBe(true);
    expect(hashToken('bt_one').equals(hashToken('bt_two'))).toBe(false);
  });

  it('generates a different token each time, prefixed and stored only as its hash', () => {
    const tokens = Array.from({ length: 50 }, () => generateApiToken());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(50);
    for (const { token, hash, prefix } of tokens) {
      expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
      // 32 random bytes in base64url.
      expect(token.slice(TOKEN_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(hash.equals(hashToken(token))).toBe(true);
      expect(token.startsWith(prefix)).toBe(true);
      expect(prefix.length).toBeLessThan(token.length / 2);
    }
  });

  it('compares secrets: equal, different, and of different lengths', () => {
    expect(secretsEqual('s3cret-value', 's3cret-value')).toBe(true);
    expect(secretsEqual('s3cret-value', 's3cret-valuf')).toBe(false);
    expect(secretsEqual('short', 'a much longer secret')).toBe(false);
    expect(secretsEqual('', '')).toBe(true);
    expect(secretsEqual('', 'x')).toBe(false);
  });

  it('compares hashes of different lengths without throwing', () => {
    const a = hashToken('a');
    expect(hashesEqual(a, hashToken('a'))).toBe(true);
    expect(hashesEqual(a, hashToken('b'))).toBe(false);
    expect(hashesEqual(a, a.subarray(0, 16))).toBe(false);
    expect(hashesEqual(Buffer.alloc(0), a)).toBe(false);
  });

  it('generates secret keys long enough for SECRET_KEY and different each time', () => {
    const a = generateSecretKey();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(generateSecretKey()).not.toBe(a);
  });
});
