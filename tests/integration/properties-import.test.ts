// Property-based tests of the CSV importer and exporter, end to end (fast-check): any records
// with quotes, delimiters, line breaks, formula starts and non-Latin text, written as CSV with
// any supported delimiter, line ending and BOM, import to exactly those values; a bad line is
// reported with the number of the physical line it starts on; the export never starts a cell
// with a formula character and re-reads to the same values.
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { restoreFormula } from '../../src/domain/text.js';

const ctx = contextSuite({}, { workers: true });

/** Characters that break naive CSV handling, plus ordinary and non-Latin text. */
const tricky = fc.constantFrom(
  'a',
  'Z',
  '7',
  ' ',
  'é',
  'ß',
  'Ж',
  '世',
  '😀',
  '"',
  "'",
  ',',
  ';',
  '\t',
  '=',
  '+',
  '-',
  '@',
  '|',
);
/** Names refuse control characters (tabs included): those lines are errors by design. */
const nameArb = fc.string({ unit: tricky, maxLength: 20 }).filter((n) => !n.includes('\t'));
/** Attribute values may also hold line breaks inside their quoted field. */
const cityArb = fc.string({
  unit: fc.oneof(tricky, fc.constantFrom('\n', '\r\n')),
  maxLength: 20,
});

interface Rec {
  name: string;
  city: string;
}

/** RFC 4180 writer: quote a field holding the delimiter, a quote, CR, LF or edge spaces. */
function toCsv(rows: string[][], delimiter: string, eol: string): string {
  const field = (v: string) =>
    v.includes(delimiter) || /["\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
  return rows.map((r) => r.map(field).join(delimiter)).join(eol) + eol;
}

/** What the importer keeps of a cell: the exporter's apostrophe removed, else trimmed. */
const kept = (cell: string) => (restoreFormula(cell) === cell ? cell.trim() : restoreFormula(cell));
const breaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

let run = 0;
describe('CSV import and export, for any records', () => {
  it('imports exactly the values written, reports the bad line by its physical line, and exports them formula-safe', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ name: nameArb, city: cityArb }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(',', ';', '\t'),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.nat(),
        async (records: Rec[], delimiter, eol, bom, badAt) => {
          run++;
          const emails = records.map((_, i) => `p${run}r${i}@prop.test`);
          const bad = badAt % (records.length + 1); // the bad record's position
          const cells = records.map((r, i) => [emails[i]!, r.name, r.city]);
          cells.splice(bad, 0, ['not-an-address', 'x', 'y']);
          const csv =
            (bom ? '\uFEFF' : '') + toCsv([['email', 'name', 'city'], ...cells], delimiter, eol);
          // Line of the bad record: after the header and the line breaks of the records before.
          const badLine = 2 + bad + cells.slice(0, bad).reduce((n, c) => n + breaks(c.join('')), 0);

          const list = await ctx
            .api()
            .post('/api/v1/lists')
            .send({ name: `Property ${run}` });
          const started = await ctx
            .api()
            .post(`/api/v1/lists/${list.body.id}/imports`)
            .set('Content-Type', 'text/csv')
            .send(csv);
          expect(started.status).toBe(202);
          const done = await waitFor(async () => {
            const res = await ctx.api().get(`/api/v1/imports/${started.body.id}`);
            return ['done', 'failed'].includes(res.body.status) ? res.body : undefined;
          });
          expect(done.status).toBe('done');
          expect(done.inserted).toBe(records.length);
          expect(done.errors).toEqual([{ line: badLine, reason: expect.stringMatching(/^email/) }]);

          const { rows } = await ctx.db.query<{ email: string; name: string; city: string | null }>(
            `SELECT s.email, s.name, s.attributes->>'city' AS city FROM subscriptions x
             JOIN subscribers s ON s.id = x.subscriber_id WHERE x.list_id = $1 ORDER BY s.id`,
            [list.body.id],
          );
          expect(rows).toEqual(
            records.map((r, i) => ({
              email: emails[i],
              name: kept(r.name),
              city: kept(r.city) === '' ? null : kept(r.city),
            })),
          );

          const exported = await ctx
            .api()
            .get(`/api/v1/lists/${list.body.id}/export.csv`)
            .buffer(true)
            .parse((res, callback) => {
              const parts: Buffer[] = [];
              res.on('data', (p: Buffer) => parts.push(p));
              res.on('end', () => callback(null, Buffer.concat(parts)));
            });
          const table: string[][] = parse(exported.body as Buffer, { bom: true });
          for (const row of table) {
            for (const cell of row) expect(cell, 'formula-safe').not.toMatch(/^[=+\-@\t\r]/);
          }
          const header = table[0]!;
          const at = (key: string) => header.indexOf(key);
          const back = table.slice(1).map((row) => ({
            email: row[at('email')],
            name: restoreFormula(row[at('name')] ?? ''),
            city: restoreFormula(row[at('city')] ?? ''),
          }));
          expect(back.sort((a, b) => a.email!.localeCompare(b.email!))).toEqual(
            rows
              .map((r) => ({ email: r.email, name: r.name, city: r.city ?? '' }))
              .sort((a, b) => a.email.localeCompare(b.email)),
          );
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
