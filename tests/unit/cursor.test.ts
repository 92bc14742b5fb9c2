import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, page } from '../../src/domain/cursor.js';

describe('cursors', () => {
  it.each([0, 1, 42, 9_007_199_254_740_991])('round-trips the id %d', (id) => {
    const cursor = encodeCursor(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe(id);
  });

  it('is opaque: the id does not appear in the cursor', () => {
    expect(encodeCursor(12345)).not.toContain('12345');
  });

  it.each([
    ['an empty string', ''],
    ['random text', 'not a cursor'],
    ['a bare number', Buffer.from('17').toString('base64url')],
    ['a negative id', Buffer.from('id:-1').toString('base64url')],
    ['a fractional id', Buffer.from('id:1.5').toString('base64url')],
    ['trailing text', Buffer.from('id:1;DROP TABLE').toString('base64url')],
    ['an id past 2^53', Buffer.from('id:900719925474099300').toString('base64url')],
    ['too many digits', Buffer.from(`id:${'9'.repeat(19)}`).toString('base64url')],
  ])('refuses %s', (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe('page', () => {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: (i + 1) * 10 }));

  it('given one row more than the limit, returns the limit and a cursor after the last row', () => {
    const result = page(rows(4), 3);
    expect(result.data.map((r) => r.id)).toEqual([10, 20, 30]);
    expect(result.next).not.toBeNull();
    expect(decodeCursor(result.next!)).toBe(30);
  });

  it('at the end of the list returns every row and no cursor', () => {
    expect(page(rows(3), 3)).toEqual({ data: rows(3), next: null });
    expect(page(rows(1), 3)).toEqual({ data: rows(1), next: null });
    expect(page([], 3)).toEqual({ data: [], next: null });
  });
});
