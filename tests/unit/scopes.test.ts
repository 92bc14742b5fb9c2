import { describe, expect, it } from 'vitest';
import { SCOPES, hasScope } from '../../src/domain/scopes.js';

describe('scopes', () => {
  it.each(SCOPES)('admin holds %s', (scope) => {
    expect(hasScope(['admin'], scope)).toBe(true);
  });

  it('every other scope stands for itself only', () => {
    for (const granted of SCOPES.filter((s) => s !== 'admin')) {
      for (const needed of SCOPES) {
        expect(hasScope([granted], needed), `${granted} → ${needed}`).toBe(granted === needed);
      }
    }
  });

  it('grants nothing from an empty or unknown list', () => {
    expect(hasScope([], 'read')).toBe(false);
    expect(hasScope(['write', 'ADMIN', 'admin '], 'read')).toBe(false);
  });

  it('a token with several scopes holds each of them', () => {
    const granted = ['read', 'campaigns:send'];
    expect(hasScope(granted, 'read')).toBe(true);
    expect(hasScope(granted, 'campaigns:send')).toBe(true);
    expect(hasScope(granted, 'campaigns:write')).toBe(false);
  });
});
