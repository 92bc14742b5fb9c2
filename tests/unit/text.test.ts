import { describe, expect, it } from 'vitest';
import { hasControlCharacters, neutralizeFormula, restoreFormula } from '../../src/domain/text.js';

describe('hasControlCharacters', () => {
  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CR LF', 'Weekly\r\nBcc: x@evil.test'],
    ['tab', 'a\tb'],
    ['NUL', 'a\u0000b'],
    ['ESC', 'a\u001bb'],
    ['DEL', 'a\u007fb'],
    ['NEL (C1)', 'a\u0085b'],
    ['line separator U+2028', 'a\u2028b'],
    ['paragraph separator U+2029', 'a\u2029b'],
  ])('finds %s', (_what, value) => {
    expect(hasControlCharacters(value)).toBe(true);
  });

  it.each([
    'Plain name',
    'Zoë Ünal-Łukasiewicz',
    '日本語のニュース',
    'emoji 📰 ok',
    'non-breaking\u00a0space',
    '',
  ])('lets %j through', (value) => {
    expect(hasControlCharacters(value)).toBe(false);
  });
});

describe('CSV formula neutralising', () => {
  it.each([
    ['=', '=HYPERLINK("http://evil.test","click")'],
    ['+', '+1+2'],
    ['-', '-2+3'],
    ['@', '@SUM(A1:A2)'],
    ['tab', '\t=1+1'],
    ['CR', '\r=1+1'],
  ])('prefixes a cell starting with %s by an apostrophe', (_what, cell) => {
    expect(neutralizeFormula(cell)).toBe(`'${cell}`);
  });

  it.each(['plain', 'a=b', '', ' =1', '1-2', 'x@example.org'])('leaves %j as it is', (cell) => {
    expect(neutralizeFormula(cell)).toBe(cell);
    expect(restoreFormula(cell)).toBe(cell);
  });

  it.each([
    '=1+1',
    '+1',
    '-1',
    '@x',
    '\tx',
    '\rx',
    "'=1+1",
    "''=1+1",
    "'+x",
    "'plain",
    "'",
    "''",
    'plain',
    '',
  ])('restores %j to itself after neutralising', (cell) => {
    expect(restoreFormula(neutralizeFormula(cell))).toBe(cell);
  });

  it('round-trips every short cell built from apostrophes, formula characters and text', () => {
    const alphabet = ["'", '=', '+', '-', '@', '\t', '\r', 'a', ' '];
    let cells = [''];
    for (let length = 1; length <= 4; length++) {
      cells = cells.flatMap((c) => (c.length === length - 1 ? alphabet.map((x) => c + x) : []));
      for (const cell of cells) {
        expect(restoreFormula(neutralizeFormula(cell)), JSON.stringify(cell)).toBe(cell);
      }
    }
  });

  it('never lets a neutralised cell start with a formula character', () => {
    for (const cell of ['=1', "'=1", "''@x", '+', '-', '@', '\t', '\r']) {
      expect(neutralizeFormula(cell)).toMatch(/^'/);
    }
  });
});
