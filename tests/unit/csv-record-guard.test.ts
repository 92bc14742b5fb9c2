// The guard in front of the CSV parser: invisible for ordinary files, and an over-long record
// becomes one marker record with the line count kept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordGuard } from '../../src/domain/csv-record-guard.js';
import { countLineBreaks } from '../../src/domain/csv.js';

const MARKER = 'marker-0123';

function run(input: string, maxBytes: number, chunkSize: number): string {
  const guard = new RecordGuard(maxBytes, MARKER, ','.charCodeAt(0));
  const bytes = Buffer.from(input);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize)
    out.push(guard.push(bytes.subarray(i, i + chunkSize)));
  out.push(guard.end());
  return Buffer.concat(out).toString();
}

describe('RecordGuard', () => {
  it('passes every file whose records fit through unchanged, however it is chunked', () => {
    const cell = fc.stringMatching(/^[a-z"\r\n, ]{0,12}$/);
    fc.assert(
      fc.property(
        fc.array(cell, { maxLength: 40 }),
        fc.integer({ min: 1, max: 17 }),
        (cells, size) => {
          const input = cells.join(',');
          expect(run(input, 1_000_000, size)).toBe(input);
        },
      ),
    );
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('replaces an over-long record with the marker and keeps the line count (%s)', (_name, eol) => {
    const long = `long@x.test,"${`${'y'.repeat(30)}${eol}`.repeat(10)}"`;
    const input = ['email', 'a@x.test', long, 'b@x.test', ''].join(eol);
    const output = run(input, 100, 7);
    expect(output.includes('yyyy')).toBe(false);
    expect(output).toContain(`${MARKER}\n`);
    expect(output.endsWith(`b@x.test${eol}`)).toBe(true);
    // Everything before b@x.test spans as many lines as it did in the input.
    const before = (text: string) => countLineBreaks(text.slice(0, text.indexOf('b@x.test')));
    expect(before(output)).toBe(before(input));
  });

  it('a quote that is never closed makes the rest of the file one over-long record', () => {
    const input = `email,name\na@x.test,"open\n${'z@x.test,Z\n'.repeat(50)}`;
    const output = run(input, 100, 64);
    expect(output.startsWith('email,name\n')).toBe(true);
    expect(output).toContain(MARKER);
    expect(output).not.toContain('z@x.test');
  });
});
