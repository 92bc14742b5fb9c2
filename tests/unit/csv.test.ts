import { describe, expect, it } from 'vitest';
import {
  LineTracker,
  countLineBreaks,
  detectDelimiter,
  mapHeader,
  mapRow,
  type HeaderMap,
} from '../../src/domain/csv.js';
import { neutralizeFormula } from '../../src/domain/text.js';

function header(cells: string[]): HeaderMap {
  const result = mapHeader(cells);
  if (!result.ok) throw new Error(result.reason);
  return result.header;
}

describe('detectDelimiter', () => {
  it.each([
    ['email,name,city', ','],
    ['email;name;city', ';'],
    ['email\tname\tcity', '\t'],
    ['email', ','],
    ['"last, first";email;city', ';'],
    ['"a;b;c",email,name', ','],
  ])('reads %j as separated by %j', (line, delimiter) => {
    expect(detectDelimiter(line)).toBe(delimiter);
  });
});

describe('mapHeader', () => {
  it('finds email and name in any case and makes every other column an attribute', () => {
    expect(header([' Email ', 'NAME', 'City', 'Member since'])).toEqual({
      columns: 4,
      email: 0,
      name: 1,
      attributes: [
        { index: 2, key: 'City' },
        { index: 3, key: 'Member since' },
      ],
    });
  });

  it('ignores the reserved columns the exporter writes, and empty column names', () => {
    const map = header([
      'email',
      'id',
      'UUID',
      'status',
      'subscription_status',
      'created_at',
      'updated_at',
      '',
      'city',
    ]);
    expect(map.attributes).toEqual([{ index: 8, key: 'city' }]);
    expect(map.name).toBeUndefined();
  });

  it('reads a header cell the exporter neutralised back to the attribute key', () => {
    expect(header(['email', neutralizeFormula('=key')]).attributes).toEqual([
      { index: 1, key: '=key' },
    ]);
  });

  it.each([
    ['no email column', ['name', 'city'], 'no "email" column'],
    ['a repeated column', ['email', 'city', 'City'], 'repeats the column "city"'],
    ['a control character', ['email', 'ci\u0000ty'], 'control characters'],
    ['a long column name', ['email', 'x'.repeat(101)], 'longer than 100 characters'],
  ])('refuses a header with %s', (_what, cells, reason) => {
    const result = mapHeader(cells);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});

describe('mapRow', () => {
  const map = header(['email', 'name', 'city', 'note']);

  it('maps a row, normalising the email and trimming cells', () => {
    expect(mapRow([' Ada@Example.ORG ', ' Ada Lovelace ', ' Geneva ', ''], map)).toEqual({
      ok: true,
      row: { email: 'Ada@example.org', name: 'Ada Lovelace', attributes: { city: 'Geneva' } },
    });
  });

  it('accepts rows with fewer fields than the header', () => {
    expect(mapRow(['ada@example.org'], map)).toEqual({
      ok: true,
      row: { email: 'ada@example.org', name: '', attributes: {} },
    });
  });

  it('takes a neutralised cell exactly as the exporter wrote it', () => {
    const cells = ['=x@example.org', '=SUM(A1:A9)', '\t=1+1', "'=quoted "].map(neutralizeFormula);
    expect(mapRow(cells, map)).toEqual({
      ok: true,
      row: {
        email: '=x@example.org',
        name: '=SUM(A1:A9)',
        attributes: { city: '\t=1+1', note: "'=quoted " },
      },
    });
  });

  it('keeps line breaks inside attributes', () => {
    const result = mapRow(['a@example.org', 'A', 'one\r\ntwo', ''], map);
    expect(result.ok && result.row.attributes).toEqual({ city: 'one\r\ntwo' });
  });

  it.each([
    [
      'too many fields',
      ['a@example.org', 'A', 'c', 'n', 'extra'],
      'has 5 fields but the header has 4',
    ],
    ['a blank line', [''], 'empty line'],
    ['no email', ['', 'Nobody'], 'email is required'],
    ['a quoted local part', ['"a@x y"@example.org', 'Q'], 'email must be a single plain address'],
    ['two addresses', ['a@example.org,b@evil.test', 'Q'], 'email must be a single plain address'],
    [
      'a header in the email',
      ['a@example.org\r\nBcc: b@evil.test', 'Q'],
      'email must not contain control characters',
    ],
    [
      'a control character in the name',
      ['a@example.org', 'Bell\u0007'],
      'name must not contain line breaks or control characters',
    ],
    [
      'a line break in the name',
      ['a@example.org', 'Two\nlines'],
      'name must not contain line breaks or control characters',
    ],
    ['a long name', ['a@example.org', 'x'.repeat(201)], 'name must be at most 200 characters'],
    [
      'a long field',
      ['a@example.org', 'A', 'x'.repeat(10_001)],
      'a field is longer than 10000 characters',
    ],
    [
      'a NUL in an attribute',
      ['a@example.org', 'A', 'nul\u0000'],
      'column "city" contains a NUL character',
    ],
    [
      'large attributes',
      ['a@example.org', 'A', 'x'.repeat(9000), 'y'.repeat(9000)],
      'attributes are larger than',
    ],
  ])('refuses a row with %s', (_what, cells, reason) => {
    const result = mapRow(cells, map);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});

describe('LineTracker', () => {
  it('numbers records by the line they start on, across quoted breaks and blank lines', () => {
    const lines = new LineTracker();
    // Raw texts as csv-parse reports them: a CR LF record delimiter shows as its CR only.
    expect(lines.startOf('email,note\r')).toBe(1);
    expect(lines.startOf('a@x.org,"one\r\ntwo\r\nthree"\r')).toBe(2);
    expect(lines.startOf('\r\n\rb@x.org,b\n')).toBe(7);
    expect(lines.startOf('c@x.org,c')).toBe(8);
  });

  it('counts CR LF, LF and a lone CR as one line break each', () => {
    expect(countLineBreaks('a\r\nb\nc\rd\n\re')).toBe(5);
    expect(countLineBreaks('none')).toBe(0);
  });
});
