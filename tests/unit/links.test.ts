import { describe, expect, it } from 'vitest';
import { signingKey, signLink, verifyLink } from '../../src/domain/links.js';

const sub = '3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8';
const camp = '0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b';
const key = signingKey('k'.repeat(40));

describe('signed links', () => {
  it('round-trips purpose, subscriber and campaign', () => {
    const token = signLink(key, {
      purpose: 'unsubscribe',
      subscriberUuid: sub,
      campaignUuid: camp,
    });
    expect(token).toMatch(/^[\w-]{6}\.[\w-]+$/);
    expect(verifyLink([key], token, 'unsubscribe')).toEqual({
      purpose: 'unsubscribe',
      subscriberUuid: sub,
      campaignUuid: camp,
    });
    expect(
      verifyLink(
        [key],
        signLink(key, { purpose: 'preferences', subscriberUuid: sub }),
        'preferences',
      ),
    ).toEqual({ purpose: 'preferences', subscriberUuid: sub });
  });

  it('refuses a token for another purpose, a changed byte, another key, or garbage, alike', () => {
    const token = signLink(key, { purpose: 'unsubscribe', subscriberUuid: sub });
    expect(verifyLink([key], token, 'preferences')).toBeUndefined();
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect(verifyLink([key], flipped, 'unsubscribe')).toBeUndefined();
    expect(verifyLink([signingKey('other'.repeat(10))], token, 'unsubscribe')).toBeUndefined();
    for (const junk of [
      '',
      'abc',
      `${key.id}.`,
      '../../etc/passwd',
      'x'.repeat(500),
      `${token}x`,
      `${token}A`,
    ]) {
      expect(verifyLink([key], junk, 'unsubscribe')).toBeUndefined();
    }
  });

  it('still verifies links signed with a previous key after the key rotates', () => {
    const old = signingKey('o'.repeat(40));
    const token = signLink(old, { purpose: 'unsubscribe', subscriberUuid: sub });
    expect(verifyLink([key, old], token, 'unsubscribe')?.subscriberUuid).toBe(sub);
  });
});
