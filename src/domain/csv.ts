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
  const names = cells.map((c) => c.trim());
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
  }
  const email = normalizeEmail(restoreFormula(cells[header.email] ?? ''));
  if (!email.ok) return { ok: false, reason: `email ${email.reason}` };
  const name = restoreFormula((header.name === undefined ? '' : (cells[header.name] ?? '')).trim());
  if (hasControlCharacters(name)) {
    return { ok: false, reason: 'name must not contain line breaks or control characters' };
  }
  if (name.length > 200) return { ok: false, reason: 'name must be at most 200 characters' };
  const attributes: Record<string, string> = {};
  for (const { index, key } of header.attributes) {
    const value = restoreFormula((cells[index] ?? '').trim());
    if (value !== '') attributes[key] = value;
  }
  return { ok: true, row: { email: email.email, name, attributes } };
}
