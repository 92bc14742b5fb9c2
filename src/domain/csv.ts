// Pure helpers for the CSV importer: header handling and row → subscriber mapping.
import { normalizeEmail } from './email.js';
import { hasControlCharacters, restoreFormula } from './text.js';

/** Columns the exporter writes that are not attributes; the importer ignores them. */
export const RESERVED_COLUMNS = new Set([
  'id',
  'uuid',
  'status',
  'subscription_status',
  'created_at',
  'updated_at',
]);

export const MAX_FIELD_LENGTH = 10_000;
/** The same limits the API puts on attributes. */
export const MAX_ATTRIBUTE_KEY_LENGTH = 100;
export const MAX_ATTRIBUTES_JSON = 16_384;

/** Picks the delimiter from the header line: the most frequent of , ; and tab outside quotes. */
export function detectDelimiter(headerLine: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[','] && counts['\t'] > counts[';']) return '\t';
  return ',';
}

export interface HeaderMap {
  columns: number;
  email: number;
  name: number | undefined;
  attributes: { index: number; key: string }[];
}

export type HeaderResult = { ok: true; header: HeaderMap } | { ok: false; reason: string };

export function mapHeader(cells: string[]): HeaderResult {
  // The exporter neutralises header cells like any other (an attribute key may start with "=").
  const names = cells.map((c) => restoreFormula(c.trim()));
  const lower = names.map((n) => n.toLowerCase());
  const email = lower.indexOf('email');
  if (email < 0) {
    return { ok: false, reason: 'the header row (line 1) has no "email" column' };
  }
  const seen = new Set<string>();
  for (const n of lower) {
    if (n !== '' && seen.has(n))
      return { ok: false, reason: `the header row repeats the column "${n}"` };
    seen.add(n);
    // Column names become attribute keys: same rules as keys sent through the API.
    if (hasControlCharacters(n)) {
      return { ok: false, reason: 'a column name in the header row has control characters' };
    }
    // It would become an attribute key that JavaScript objects cannot hold as data.
    if (n === '__proto__') {
      return { ok: false, reason: 'the header row uses the reserved column name "__proto__"' };
    }
    if (n.length > MAX_ATTRIBUTE_KEY_LENGTH) {
      return {
        ok: false,
        reason: `a column name in the header row is longer than ${MAX_ATTRIBUTE_KEY_LENGTH} characters`,
      };
    }
  }
  const nameIndex = lower.indexOf('name');
  const attributes = names.flatMap((key, index) =>
    index === email || index === nameIndex || key === '' || RESERVED_COLUMNS.has(lower[index]!)
      ? []
      : [{ index, key }],
  );
  return {
    ok: true,
    header: {
      columns: names.length,
      email,
      name: nameIndex < 0 ? undefined : nameIndex,
      attributes,
    },
  };
}

export interface ImportRow {
  email: string;
  name: string;
  attributes: Record<string, string>;
}

export type RowResult = { ok: true; row: ImportRow } | { ok: false; reason: string };

export function mapRow(cells: string[], header: HeaderMap): RowResult {
  if (cells.length === 1 && cells[0]!.trim() === '') return { ok: false, reason: 'empty line' };
  if (cells.length > header.columns) {
    return { ok: false, reason: `has ${cells.length} fields but the header has ${header.columns}` };
  }
  for (const cell of cells) {
    if (cell.length > MAX_FIELD_LENGTH) {
      return { ok: false, reason: `a field is longer than ${MAX_FIELD_LENGTH} characters` };
    }
    // Bytes that are not UTF-8 decode to U+FFFD: storing them would keep mojibake for good.
    if (cell.includes('\uFFFD')) {
      return { ok: false, reason: 'is not valid UTF-8 text (save the file as CSV UTF-8)' };
    }
  }
  const email = normalizeEmail(restoreFormula(cells[header.email] ?? ''));
  if (!email.ok) return { ok: false, reason: `email ${email.reason}` };
  const name = cellValue(header.name === undefined ? '' : (cells[header.name] ?? ''));
  if (hasControlCharacters(name)) {
    return { ok: false, reason: 'name must not contain line breaks or control characters' };
  }
  if (name.length > 200) return { ok: false, reason: 'name must be at most 200 characters' };
  const attributes: Record<string, string> = {};
  for (const { index, key } of header.attributes) {
    const value = cellValue(cells[index] ?? '');
    // PostgreSQL cannot store U+0000 in text or jsonb: the whole batch would fail, forever.
    if (value.includes('\u0000')) {
      return { ok: false, reason: `column "${key}" contains a NUL character` };
    }
    if (value !== '') attributes[key] = value;
  }
  if (JSON.stringify(attributes).length > MAX_ATTRIBUTES_JSON) {
    return { ok: false, reason: `the attributes are larger than ${MAX_ATTRIBUTES_JSON / 1024} KB` };
  }
  return { ok: true, row: { email: email.email, name, attributes } };
}

/**
 * Cells are trimmed, except one the exporter neutralised: its value starts after the apostrophe
 * and may begin with a tab or CR on purpose, so it is taken exactly as written.
 */
function cellValue(cell: string): string {
  const restored = restoreFormula(cell);
  return restored === cell ? cell.trim() : restored;
}

/**
 * Finds the line on which each record starts. csv-parse counts a CR LF inside a quoted field as
 * two lines, so line numbers are counted here from each record's raw text instead: the raw text
 * of a record holds the blank lines skipped before it, its own line breaks and the first
 * character of its record delimiter (a CR LF delimiter is consumed as one).
 */
export class LineTracker {
  private next = 1;

  /** The line on which the record with this raw text starts; call once per record, in order. */
  startOf(raw: string): number {
    const leading = /^[\r\n]*/.exec(raw)![0];
    const start = this.next + countLineBreaks(leading);
    this.next += countLineBreaks(raw);
    return start;
  }
}

export function countLineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}
