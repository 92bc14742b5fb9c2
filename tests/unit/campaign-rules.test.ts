import { describe, expect, it } from 'vitest';
import { canEdit, canTransition, retryDelayMs } from '../../src/domain/campaign.js';
import { statusAfter } from '../../src/domain/bounce-policy.js';
import { inZone, resolveSendAt } from '../../src/domain/schedule.js';

describe('campaign lifecycle', () => {
  it.each([
    ['draft', 'start', true],
    ['scheduled', 'start', true],
    ['running', 'pause', true],
    ['paused', 'resume', true],
    ['running', 'resume', false],
    ['finished', 'pause', false],
    ['cancelled', 'start', false],
    ['finished', 'retry', true],
    ['running', 'retry', false],
    ['finished', 'cancel', false],
  ] as const)('%s → %s allowed: %s', (from, action, allowed) => {
    expect(canTransition(from, action)).toBe(allowed);
  });

  it('edits content only while draft or scheduled, other fields also while paused', () => {
    expect(canEdit('scheduled', 'content')).toBe(true);
    expect(canEdit('paused', 'content')).toBe(false);
    expect(canEdit('paused', 'other')).toBe(true);
    expect(canEdit('running', 'other')).toBe(false);
  });

  it('doubles the retry delay on each attempt', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(60_000, a))).toEqual([
      60_000, 120_000, 240_000, 480_000,
    ]);
  });
});

describe('scheduling in a named time zone', () => {
  it('keeps 09:00 in Geneva across the spring daylight-saving change', () => {
    const before = resolveSendAt('2027-03-27T09:00', 'Europe/Zurich');
    const after = resolveSendAt('2027-03-29T09:00', 'Europe/Zurich');
    expect(before.ok && before.at.toISOString()).toBe('2027-03-27T08:00:00.000Z');
    expect(after.ok && after.at.toISOString()).toBe('2027-03-29T07:00:00.000Z');
  });

  it('moves a time inside the spring gap forward, and takes the first of an autumn repeat', () => {
    const gap = resolveSendAt('2027-03-28T02:30', 'Europe/Zurich');
    expect(gap.ok && gap.at.toISOString()).toBe('2027-03-28T01:30:00.000Z'); // 03:30 CEST
    const repeat = resolveSendAt('2027-10-31T02:30', 'Europe/Zurich');
    expect(repeat.ok && repeat.at.toISOString()).toBe('2027-10-31T00:30:00.000Z'); // 02:30 CEST
  });

  it('treats a time with an offset as an instant, whatever the zone', () => {
    const r = resolveSendAt('2027-03-29T09:00:00+02:00', 'America/New_York');
    expect(r.ok && r.at.toISOString()).toBe('2027-03-29T07:00:00.000Z');
    expect(inZone(new Date('2027-03-29T07:00:00Z'), 'Europe/Zurich')).toBe(
      '2027-03-29T09:00:00.000+02:00',
    );
  });

  it('refuses an unknown zone and a malformed time, naming the field', () => {
    expect(resolveSendAt('2027-03-29T09:00', 'Europe/Geneva')).toMatchObject({
      ok: false,
      path: 'timezone',
    });
    expect(resolveSendAt('next tuesday', 'UTC')).toMatchObject({ ok: false, path: 'sendAt' });
  });
});

describe('bounce policy', () => {
  it('a hard bounce suppresses; soft bounces only at the limit', () => {
    expect(statusAfter('active', { type: 'bounce', bounceType: 'hard' }, 0, 3)).toBe('bounced');
    expect(statusAfter('active', { type: 'bounce', bounceType: 'soft' }, 2, 3)).toBe('active');
    expect(statusAfter('active', { type: 'bounce', bounceType: 'soft' }, 3, 3)).toBe('bounced');
  });

  it('a complaint wins over a bounce; nothing makes a subscriber active again', () => {
    expect(statusAfter('bounced', { type: 'complaint' }, 0, 3)).toBe('complained');
    expect(statusAfter('complained', { type: 'bounce', bounceType: 'hard' }, 0, 3)).toBe(
      'complained',
    );
    expect(statusAfter('bounced', { type: 'delivered' }, 0, 3)).toBe('bounced');
    expect(statusAfter('blocklisted', { type: 'complaint' }, 0, 3)).toBe('blocklisted');
  });
});
