// Quoted-printable (RFC 2045 §6.7) as the MIME writer encodes message bodies: checked against a
// strict reference decoder, on edge cases, random text and the real newsletter.
import { describe, expect, it } from 'vitest';
import { encodeQuotedPrintable, encodeQuotedPrintableSegment } from '../../src/mail/qp.js';
import { newsletterHtml } from '../helpers/messages.js';

/** A reference decoder (RFC 2045 §6.7), strict: anything but `=XX` and soft breaks fails. */
function decodeQp(encoded: string): string {
  const bytes: number[] = [];
  const text = encoded.replace(/=\r\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      const hex = text.slice(i + 1, i + 3);
      expect(hex, `escape at ${i}`).toMatch(/^[0-9A-F]{2}$/);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** What every quoted-printable output must look like, whatever the input. */
function expectWellFormed(encoded: string) {
  expect(encoded).toMatch(/^[\x20-\x7e\r\n\t]*$/);
  expect(encoded.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of encoded.split('\r\n')) {
    expect(line.length, line).toBeLessThanOrEqual(76);
    expect(line, 'ends in whitespace').not.toMatch(/[ \t]$/);
    expect(line, 'starts with a dot').not.toMatch(/^\./);
    expect(line, 'starts with From').not.toMatch(/^From /);
    expect(line.replace(/=[0-9A-F]{2}/g, ''), 'stray =').toMatch(/^[^=]*=?$/);
  }
}

/** Content line breaks come back as CRLF; everything else exactly as given. */
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');

function expectRoundTrip(text: string) {
  const encoded = encodeQuotedPrintable(text);
  expectWellFormed(encoded);
  expect(decodeQp(encoded)).toBe(crlf(text));
  return encoded;
}

/** A deterministic pseudo-random generator, so a failing case can be replayed. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const PIECES = [
  'a',
  'Z',
  ' ',
  '\t',
  '=',
  '.',
  'From ',
  '\n',
  '\r\n',
  '\r',
  'é',
  '—',
  '日本',
  '🎉',
  '<p>',
  'x'.repeat(90),
  '  \n',
  '\u0000',
  '\u007f',
];

function randomText(next: () => number, length: number): string {
  let text = '';
  while (text.length < length) text += PIECES[Math.floor(next() * PIECES.length)]!;
  return text;
}

describe('quoted-printable', () => {
  it('leaves plain ASCII as it is', () => {
    expect(expectRoundTrip('Hello, world! (1 + 2 < 4)')).toBe('Hello, world! (1 + 2 < 4)');
  });

  it('breaks long lines without spaces softly, at most 76 characters a line', () => {
    const encoded = expectRoundTrip('x'.repeat(1000));
    expect(encoded.split('\r\n').length).toBeGreaterThan(13);
    expectRoundTrip(`${'y'.repeat(74)}\n${'z'.repeat(75)}\n${'w'.repeat(76)}\n`);
  });

  it('encodes "=" and never splits an escape across lines', () => {
    const encoded = expectRoundTrip('='.repeat(500));
    for (const line of encoded.split('\r\n')) expect(line).toMatch(/^(=3D)*=?$/);
    expectRoundTrip('a=b'.repeat(300));
  });

  it('encodes the space or tab that would end a line, and keeps the others', () => {
    expect(encodeQuotedPrintable('a  \nb\t\r\nc ')).toBe('a =20\r\nb=09\r\nc=20');
    expectRoundTrip(`${' '.repeat(200)}\n${'\t'.repeat(80)}\r\n x \n`);
    expectRoundTrip(`${'a'.repeat(74)} \n${'b'.repeat(75)}\t\n`);
  });

  it('turns LF and CRLF line breaks into CRLF, and a lone CR into an escape', () => {
    expect(encodeQuotedPrintable('a\nb\r\nc\rd\n')).toBe('a\r\nb\r\nc=0Dd\r\n');
    expectRoundTrip('\n\n\r\n\r\r\n\n');
  });

  it('encodes a line-leading dot and "From "', () => {
    expect(encodeQuotedPrintable('.\n..x\nFrom here\nFrom\nFromage')).toBe(
      '=2E\r\n=2E.x\r\n=46rom here\r\nFrom\r\nFromage',
    );
    // also after a soft break
    const encoded = expectRoundTrip(`${'a'.repeat(75)}.b${'c'.repeat(73)}From x`);
    expect(encoded).toContain('=\r\n=2Eb');
  });

  it('round-trips emoji and CJK, never splitting a character across lines', () => {
    const text = `${'日本語のテキスト🎉'.repeat(40)}\nZoë ${'é'.repeat(100)}\n${'😀'.repeat(30)}`;
    const encoded = expectRoundTrip(text);
    // every line decodes on its own: no UTF-8 sequence is cut by a soft break
    for (const line of encoded.split(/=?\r\n/)) {
      expect(decodeQp(line)).not.toContain('\ufffd');
    }
  });

  it('round-trips a 60 KB HTML newsletter', async () => {
    const { html } = await newsletterHtml();
    let big = html;
    while (big.length < 60_000) big += html;
    expectRoundTrip(big);
  });

  it('round-trips arbitrary text', () => {
    const next = random(7);
    for (let n = 0; n < 200; n++) expectRoundTrip(randomText(next, Math.floor(next() * 400)));
  });

  it('encodes segments that concatenate into the encoding of the whole', () => {
    const next = random(11);
    for (let n = 0; n < 100; n++) {
      const text = randomText(next, 300 + Math.floor(next() * 600));
      const cuts = Array.from({ length: 4 }, () => Math.floor(next() * text.length)).sort(
        (a, b) => a - b,
      );
      const pieces: string[] = [];
      let from = 0;
      for (let cut of [...cuts, text.length]) {
        // a piece may not end between the CR and the LF of a CRLF
        if (text[cut - 1] === '\r' && text[cut] === '\n') cut++;
        if (cut < from) continue;
        pieces.push(text.slice(from, cut));
        from = cut;
      }
      expect(pieces.join('')).toBe(text);
      const encoded = pieces.map(encodeQuotedPrintableSegment);
      for (const [i, part] of encoded.entries()) {
        if (pieces[i] === '') expect(part).toBe('');
        else expect(part).toMatch(/\r\n$/);
      }
      const joined = encoded.join('');
      for (const line of joined.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
      expect(joined).not.toMatch(/(^|\r\n)\./);
      expect(decodeQp(joined)).toBe(crlf(text));
    }
  });

  it('encodes a static part once and appends per-recipient parts', () => {
    const head = encodeQuotedPrintableSegment('Dear ');
    const body = encodeQuotedPrintableSegment(',\n\nthe quarterly newsletter is out.\n');
    for (const name of ['Zoë', 'Ada', '日本']) {
      const joined = head + encodeQuotedPrintableSegment(name) + body;
      expect(decodeQp(joined)).toBe(crlf(`Dear ${name},\n\nthe quarterly newsletter is out.\n`));
    }
  });
});
