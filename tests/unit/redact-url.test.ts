import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/lib/mask.js';

const token = 'AQxk3f9Qm1u2W8fjR7aE5p0cLzYbN4tGhs6vKdJiOeXwUq';

describe('redactUrl', () => {
  it.each([
    `/preferences/${token}`,
    `/PREFERENCES/${token}`,
    `/Preferences/${token}/`,
    `/%70references/${token}`,
    `/unsubscribe/${token}?List-Unsubscribe=One-Click`,
    `/confirm/${token}`,
    `/view/${token}`,
    `/l/${token}`,
    `/anything/at/all/${token}`,
    `/subscribe?token=${token}`,
    `/subscribe?${token}`,
  ])('hides the token of %s', (url) => {
    const logged = redactUrl(url);
    expect(logged).not.toContain(token.slice(0, 20));
    expect(logged).toContain('[redacted]');
  });

  it('keeps what operators need: routes, ids, short query values', () => {
    expect(redactUrl('/api/v1/campaigns/12/deliveries?status=failed&limit=50')).toBe(
      '/api/v1/campaigns/12/deliveries?status=failed&limit=50',
    );
    expect(redactUrl('/subscribe')).toBe('/subscribe');
  });
});
